import { Duration } from 'aws-cdk-lib';
import { breakSidecar } from '../support/broken-sidecar';
import { LocalCluster, proxyPorts } from '../support/local-cluster';
import { waitFor } from '../support/wait-for';

let cluster: LocalCluster | undefined;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
  await Promise.all(closers.splice(0).map(close => close()));
});

/** Breaks the first running task's status endpoint (see breakSidecar); it is closed after the test. */
async function breakFirstSidecar(c: LocalCluster, behaviour: 'hang' | 'garbage') {
  const task = c.ecs.runningTasks[0];
  closers.push(await breakSidecar(c.ecs, task, proxyPorts(c.template).statusPort, behaviour));
  return task;
}

test.each(['hang', 'garbage'] as const)('a sidecar that answers with %s: no scale-in, and the loop keeps running', async behaviour => {
  cluster = await LocalCluster.start({
    autoscaler: { interval: Duration.seconds(1), disableScaleIn: false, scaleInWindow: Duration.seconds(3), minTasks: 2 },
    initialTasks: 4,
  });
  const { loop, ecs } = cluster;
  const broken = await breakFirstSidecar(cluster, behaviour);
  loop.startSchedule();
  await waitFor('12 ticks', () => loop.ticks.length >= 12, 40_000);
  // Idle load would scale 4 tasks in after 3 seconds, were it not for the task it cannot read.
  expect(ecs.callsOf('UpdateService')).toHaveLength(0);
  expect(ecs.desiredCount).toBe(4);
  const withFailure = loop.ticks.filter(t => t.failed === 1);
  expect(withFailure.length).toBeGreaterThanOrEqual(10);
  expect(withFailure.every(t => t.action === 'HOLD')).toBe(true);
  const reasons = JSON.stringify(withFailure.map((t: any) => t.failures));
  expect(reasons).toContain(broken.id);
  expect(reasons).toMatch(behaviour === 'hang' ? /no answer within \d+ ms/ : /not a stub_status page/);
  // A hanging task costs the scrape deadline, never the loop: ticks keep their pace.
  expect(Math.max(...withFailure.map(t => t.scrapeMs))).toBeLessThan(1000);
});

test('ECS throttles UpdateService: the state machine retries and the loop survives', async () => {
  cluster = await LocalCluster.start({ autoscaler: { interval: Duration.seconds(1) }, startDelayMs: 500 });
  const { loop, ecs, load } = cluster;
  ecs.injectFault('UpdateService', 'ThrottlingException', 2);
  loop.startSchedule();
  load.setConnections(50);
  await waitFor('5 desired tasks', () => ecs.desiredCount === 5, 30_000);
  const calls = ecs.callsOf('UpdateService');
  expect(calls.slice(0, 3).map(c => c.error ?? 'ok')).toEqual(['ThrottlingException', 'ThrottlingException', 'ok']);
  // The same execution retried and went on ticking.
  const ticksAfter = loop.ticks.length;
  await waitFor('more ticks', () => loop.ticks.length >= ticksAfter + 3, 20_000);
  expect(loop.runs).toHaveLength(1);
  expect(loop.transitions.filter(([, s]) => s === 'CountFailure')).toHaveLength(0);
});

test('ECS throttles the controller: it holds, and nothing scales in', async () => {
  cluster = await LocalCluster.start({
    autoscaler: { interval: Duration.seconds(1), disableScaleIn: false, scaleInWindow: Duration.seconds(2) },
    initialTasks: 4,
  });
  const { loop, ecs } = cluster;
  ecs.injectFault('ListTasks', 'ThrottlingException', 1000);
  loop.startSchedule();
  await waitFor('6 ticks', () => loop.ticks.length >= 6, 30_000);
  // Throttled, or still backing off from it when the tick's time ran out.
  expect(loop.ticks.filter(t => !(t.action === 'HOLD' && /ECS did not answer: (ThrottlingException|AbortError)/.test(t.reason))).map(t => [t.action, t.reason])).toEqual([]);
  expect(loop.ticks.some(t => /ThrottlingException/.test(t.reason))).toBe(true);
  expect(ecs.callsOf('UpdateService')).toHaveLength(0);
});

test('two overlapping runs: only the newer drives the service, the older ends itself', async () => {
  cluster = await LocalCluster.start({ autoscaler: { interval: Duration.seconds(1) }, startDelayMs: 500 });
  const { loop, ecs, load } = cluster;
  const older = loop.startRun();
  await waitFor('the older run ticking', () => loop.ticks.filter(t => t.runId === older.name).length >= 2, 20_000);
  const newer = loop.startRun();
  const outcome = await older.done;
  expect(outcome).toEqual({ ok: true, output: expect.anything() });
  // The older run's last tick read the loop's lease and ended, ticking no service.
  const olderLast = loop.tickResults.filter(t => t.runId === older.name).pop()!;
  expect(olderLast).toMatchObject({ continue: false, services: 0, reason: `run ${newer.name} (newer) drives the loop` });

  load.setConnections(40);
  await waitFor('4 desired tasks', () => ecs.desiredCount === 4, 30_000);
  const olderTicksAfterHandover = loop.ticks.filter(t => t.runId === older.name && t.seenAt > olderLast.seenAt);
  expect(olderTicksAfterHandover).toHaveLength(0);
  expect(loop.ticks.filter(t => t.action === 'SCALE_OUT').every(t => t.runId === newer.name)).toBe(true);
});

test('dry run: decisions are logged and notified once, the service is left alone', async () => {
  cluster = await LocalCluster.start({ autoscaler: { interval: Duration.seconds(1), dryRun: true } });
  const { loop, ecs, load, sns } = cluster;
  loop.startSchedule();
  load.setConnections(60);
  await waitFor('5 dry-run decisions', () => loop.ticks.filter(t => t.action === 'SCALE_OUT').length >= 5, 30_000);
  expect(ecs.callsOf('UpdateService')).toHaveLength(0);
  expect(ecs.desiredCount).toBe(2);
  const decided = new Set(loop.ticks.filter(t => t.action === 'SCALE_OUT').map(t => t.desiredCount));
  // One message per distinct decision, not one per tick.
  expect(sns!.published.length).toBe(decided.size);
  expect(sns!.published[0].message).toMatch(/^\[dry run\] web would scale out from 2 to \d+ tasks/);
});
