import * as http from 'http';
import { Duration } from 'aws-cdk-lib';
import { ScalingMetric, ScalingPolicy } from '../../src';
import { scrapeOne } from '../../src/controller/read/scraper';
import { breakSidecar } from '../support/broken-sidecar';
import { EmulatedTask } from '../support/ecs-emulator';
import { LocalCluster, proxyPorts } from '../support/local-cluster';
import { waitFor } from '../support/wait-for';

/**
 * Decisions that span ticks, runs and the task lifecycle, in the local cluster: real nginx
 * tasks, the synthesized state machine, the bundled controller.
 */

let cluster: LocalCluster | undefined;
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await cluster?.stop();
  cluster = undefined;
});

/** Opens `n` keep-alive connections through a task's proxy and leaves them idle: ACTIVE_CONNECTIONS counts them. */
async function holdConnections(c: LocalCluster, task: EmulatedTask, n: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: n, keepAliveMsecs: 60_000 });
  cleanups.push(() => agent.destroy());
  const { proxyPort } = proxyPorts(c.template);
  await Promise.all(Array.from({ length: n }, () => new Promise<void>((resolve, reject) => {
    http.get({ host: task.address, port: proxyPort, path: '/', agent }, res => {
      res.resume();
      res.on('end', resolve);
    }).on('error', reject);
  })));
}

/** Starts `n` requests through a task's proxy that the app answers only much later: busy connections (long polls, streams). */
async function holdRequests(c: LocalCluster, task: EmulatedTask, n: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: n });
  cleanups.push(() => agent.destroy());
  const { proxyPort, statusPort } = proxyPorts(c.template);
  for (let i = 0; i < n; i++) http.get({ host: task.address, port: proxyPort, path: '/', agent }).on('error', () => undefined);
  // Wait until nginx counts them as being answered (its status page, read as the controller does).
  const deadline = Date.now() + 10_000;
  for (;;) {
    const read = await scrapeOne({ taskId: task.id, address: task.address }, statusPort, 1000);
    if (read.ok && read.status !== undefined && read.status.writing >= n + 1) return;
    if (Date.now() > deadline) throw new Error(`${n} requests never got in flight on ${task.address}`);
    await new Promise(resolve => setTimeout(resolve, 50));
  }
}

/** Replaces a task's sidecar with a status port that accepts and never answers: a saturated task. */
async function hangSidecar(c: LocalCluster, task: EmulatedTask): Promise<void> {
  cleanups.push(await breakSidecar(c.ecs, task, proxyPorts(c.template).statusPort, 'hang'));
}

test('item 1: most scrapes time out, the tasks that answer already ask for more: scale out on the lower bound', async () => {
  cluster = await LocalCluster.start({ autoscaler: { interval: Duration.seconds(1) }, initialTasks: 10, startDelayMs: 500 });
  const { loop, ecs } = cluster;
  const [a, b, c, d, ...saturated] = ecs.runningTasks;
  for (const task of saturated) await hangSidecar(cluster, task);
  // 4 answering tasks × 30 connections at 10 a task: 12 tasks, with 6 of 10 status pages timing out.
  for (const task of [a, b, c, d]) await holdConnections(cluster, task, 30);
  loop.startSchedule();
  await waitFor('a scale-out', () => ecs.callsOf('UpdateService').length > 0, 30_000);
  expect(ecs.callsOf('UpdateService')[0].input.desiredCount).toBe(12);
  const acting = await loop.decidingTick(ecs.callsOf('UpdateService')[0]);
  expect(acting).toMatchObject({ failed: 6, scraped: 10, total: 120, desiredCount: 12 });
  expect(acting.reason).toMatch(/a lower bound: 6 of 10 tasks unread/);
});

test('item 2: a draining task\'s long-lived requests count as load', async () => {
  cluster = await LocalCluster.start({
    autoscaler: { interval: Duration.seconds(1) }, initialTasks: 2, startDelayMs: 500, drainMs: 60_000, appDelayMs: 120_000,
  });
  const { loop, ecs } = cluster;
  const [draining] = ecs.runningTasks;
  await holdRequests(cluster, draining, 40);
  // A deployment stops the task: deregistered from the load balancer, its 40 requests go on.
  void ecs.stopTask(draining);
  expect(ecs.drainingTasks).toEqual([draining]);
  loop.startSchedule();
  await waitFor('a scale-out', () => ecs.callsOf('UpdateService').length > 0, 30_000);
  expect(ecs.callsOf('UpdateService')[0].input.desiredCount).toBe(4);
  expect(await waitFor('the acting tick', () => loop.ticks.find(t => t.action === 'SCALE_OUT'), 5_000)).toMatchObject({ draining: 1, total: 40 });
});

test('item 2: nothing scales in while a task drains; once it has stopped, scale-in goes on', async () => {
  cluster = await LocalCluster.start({
    autoscaler: { interval: Duration.seconds(1), disableScaleIn: false, scaleInWindow: Duration.seconds(2) },
    initialTasks: 4,
    startDelayMs: 500,
    drainMs: 8_000,
  });
  const { loop, ecs } = cluster;
  let stoppedAt = Infinity;
  void ecs.stopTask(ecs.runningTasks[0]).then(() => (stoppedAt = Date.now()));
  loop.startSchedule();
  await waitFor('a scale-in', () => ecs.callsOf('UpdateService').length > 0, 40_000);
  // Idle load would scale 4 tasks in after 2 seconds, were it not for the draining task.
  expect(ecs.callsOf('UpdateService')[0].at).toBeGreaterThanOrEqual(stoppedAt);
  expect(ecs.callsOf('UpdateService')[0].input.desiredCount).toBe(2);
  expect(loop.ticks.some(t => t.reason === 'scale-in waits for 1 stopping tasks to finish draining')).toBe(true);
});

test('item 2: after a scale-in, the stopped tasks\' idle keep-alive connections do not scale the service out again', async () => {
  cluster = await LocalCluster.start({
    autoscaler: { interval: Duration.seconds(1), disableScaleIn: false, scaleInWindow: Duration.seconds(3) },
    initialTasks: 4,
    startDelayMs: 500,
    drainMs: 15_000,
  });
  const { loop, ecs } = cluster;
  // 20 idle keep-alive connections, 5 a task: 2 tasks' worth at 10 a task.
  for (const task of ecs.runningTasks) await holdConnections(cluster, task, 5);
  loop.startSchedule();
  await waitFor('a scale-in to 2', () => ecs.desiredCount === 2, 40_000);
  const scaledInAt = Date.now();
  // The clients of the two stopped tasks reconnect to the two that remain (the load
  // balancer sends them nowhere else); their old connections idle on, draining.
  for (const task of ecs.runningTasks) await holdConnections(cluster, task, 5);
  await waitFor('8 ticks during the drain', () => loop.ticks.filter(t => t.seenAt > scaledInAt + 1000).length >= 8, 30_000);
  const during = loop.ticks.filter(t => t.seenAt > scaledInAt + 1000);
  expect(during.some(t => t.draining === 2)).toBe(true);
  expect(during.every(t => t.action === 'HOLD')).toBe(true);
  expect(ecs.desiredCount).toBe(2);
});

test('item 3b: a new run\'s first tick right after the old run\'s last never turns Poisson noise into a scale-out', async () => {
  // 20 tasks at 9 req/s each (Poisson), target 10: 180 of the 200 req/s that 20 tasks hold.
  // Over a 0.1 s gap the noise is 42 req/s, enough to read above 200 one time in four; over
  // a 3 s gap it is 7.7 req/s, and a scale-out needs the total less two of them above 200.
  const handovers = 16;
  cluster = await LocalCluster.start({
    autoscaler: {
      policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.REQUESTS_PER_SECOND, targetPerTask: 10 }),
      interval: Duration.seconds(3),
      maxTasks: 40,
    },
    initialTasks: 20,
    appDelayMs: 0,
  });
  const { loop, ecs } = cluster;
  const stopLoad = poissonLoad(ecs.runningTasks.map(t => t.address), proxyPorts(cluster.template).proxyPort, 9);
  cleanups.push(stopLoad);
  // Each time the newest run ticks, a new run starts 0.1 s later, as at a minute boundary.
  let started = 0;
  const firstTicks: string[] = [];
  const nextRun = () => {
    if (started++ >= handovers) return;
    const run = loop.startRun();
    firstTicks.push(run.name);
  };
  const seen = new Set<string>();
  const watcher = setInterval(() => {
    const newest = loop.runs[loop.runs.length - 1];
    const ticks = loop.ticks.filter(t => t.runId === newest.name);
    // Hand over after the newest run's second tick, so that it read a rate first.
    if (ticks.length >= 2 && !seen.has(newest.name)) {
      seen.add(newest.name);
      setTimeout(nextRun, 100);
    }
  }, 20);
  cleanups.push(() => clearInterval(watcher));
  nextRun();
  await waitFor(`${handovers} handovers`, () => started > handovers && loop.ticks.filter(t => t.runId === loop.runs[loop.runs.length - 1].name).length >= 2, 150_000);

  const ticksWithRate = loop.ticks.filter(t => t.total > 0);
  expect(ticksWithRate.length).toBeGreaterThanOrEqual(handovers);
  expect(ecs.callsOf('UpdateService')).toEqual([]);
  expect(loop.ticks.every(t => t.action === 'HOLD')).toBe(true);
  // Every new run's first tick came within a fraction of the interval after the previous run's: it gave no rate.
  for (const name of firstTicks.slice(1)) {
    const first = loop.ticks.find(t => t.runId === name)!;
    expect(first.total).toBe(0);
  }
}, 200_000);

/** Requests with exponential gaps (a Poisson process) to each address, through the proxy. */
function poissonLoad(addresses: string[], port: number, perSecond: number): () => Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const schedule = (address: string) => {
    if (stopped) return;
    const t = setTimeout(() => {
      timers.delete(t);
      http.get({ host: address, port, path: '/', agent }, res => res.resume()).on('error', () => undefined);
      schedule(address);
    }, -Math.log(1 - Math.random()) * 1000 / perSecond);
    timers.add(t);
  };
  addresses.forEach(schedule);
  return async () => {
    stopped = true;
    timers.forEach(t => clearTimeout(t));
    agent.destroy();
  };
}
