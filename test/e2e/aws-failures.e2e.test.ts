import { Duration } from 'aws-cdk-lib';
import { notifyTimeoutMs } from '../../src/controller/act/service-actions';
import { runSecondsFor } from '../../src/loop/control-loop';
import { MAX_CONSECUTIVE_FAILURES } from '../../src/loop/state-machine-definition';
import { maxGap } from '../support/gaps';
import { LocalCluster } from '../support/local-cluster';
import { waitFor } from '../support/wait-for';

/**
 * What real AWS does to the loop, as AWS documents it: ECS's errors on the scale call,
 * scheduled starts that never come, runs that give up, a slow SNS.
 *
 * Runs are scaled down in time (`timeScale`): the schedule's minute becomes 10 s and a run's
 * length shrinks by the same factor, so that a run still outlives the same number of
 * schedule periods; intervals stay real, since the gaps are measured in intervals.
 */

const SCALE = 1 / 6;

let cluster: LocalCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});


describe('UpdateService errors, as the controller meets them', () => {
  test.each(['ThrottlingException', 'ServerException'])('%s is retried, within the tick while it allows and then at the next: no failed run', async ecsError => {
    cluster = await LocalCluster.start({ autoscaler: { interval: Duration.seconds(1) }, startDelayMs: 500 });
    const { loop, ecs, load } = cluster;
    ecs.injectFault('UpdateService', ecsError, 2);
    loop.startRun();
    load.setConnections(50);
    await waitFor('a successful UpdateService', () => ecs.callsOf('UpdateService').some(c => !c.error), 30_000);
    expect(ecs.callsOf('UpdateService').slice(0, 3).map(c => c.error ?? 'ok')).toEqual([ecsError, ecsError, 'ok']);
    // The SDK's own retry and the controller's, until the tick's cutoff (at 1 s, 0.7 s: a retry
    // that would land after the next tick decided could set an older count); the next tick decides again.
    const scaled = await waitFor('the tick whose call went through', () => loop.ticks.find(t => t.scale?.ok), 5_000);
    expect(scaled.action).toBe('SCALE_OUT');
    // A service's scale call is its own: never a failed tick of the run.
    expect(loop.transitions.filter(([, s]) => s === 'CountFailure')).toHaveLength(0);
    expect(loop.runs).toHaveLength(1);
  });

  test.each(['ServiceNotActiveException', 'AccessDeniedException'])('%s is not retried: the tick says so, is degraded, and the next tick tries again', async ecsError => {
    cluster = await LocalCluster.start({ autoscaler: { interval: Duration.seconds(1) }, startDelayMs: 500 });
    const { loop, ecs, load } = cluster;
    ecs.injectFault('UpdateService', ecsError, 1);
    loop.startRun();
    load.setConnections(50);
    await waitFor('a successful UpdateService', () => ecs.callsOf('UpdateService').some(c => !c.error), 30_000);
    const calls = ecs.callsOf('UpdateService');
    expect(calls.slice(0, 2).map(c => c.error ?? 'ok')).toEqual([ecsError, 'ok']);
    const failed = await waitFor('the failed call\'s tick', () => loop.ticks.find(t => t.scale && !t.scale.ok), 5_000);
    expect(failed).toMatchObject({ degraded: true, scale: { ok: false, attempts: 1, error: expect.stringContaining(ecsError) } });
    expect(loop.transitions.filter(([, s]) => s === 'CountFailure')).toHaveLength(0);
    expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(500);
  });
});

describe('no blind minute', () => {
  test('a lost scheduled start: the older run keeps ticking until a newer one takes over', async () => {
    const interval = 2;
    cluster = await LocalCluster.start({ autoscaler: { interval: Duration.seconds(interval) }, timeScale: SCALE });
    const { loop } = cluster;
    // Deployed, a run lives 230 s against a 60 s schedule; here 38 s against 10 s.
    expect(loop.config.runSeconds).toBe(Math.round(runSecondsFor(interval) * SCALE));
    expect(loop.schedulePeriodMs).toBe(10_000);
    loop.startSchedule();
    loop.loseStarts(1);
    await waitFor('the next delivered run ticking twice', () => loop.ticks.filter(t => t.runId === loop.runs[1]?.name).length >= 2, 45_000);

    expect(loop.lostStarts).toHaveLength(1);
    const [first, next] = loop.runs;
    expect(next.startedAt - first.startedAt).toBeGreaterThanOrEqual(2 * loop.schedulePeriodMs - 500);
    const firstTicks = loop.tickResults.filter(t => t.runId === first.name);
    // The first run ticked through the lost start's minute and yielded only to the next run.
    expect(firstTicks[firstTicks.length - 1].seenAt).toBeGreaterThan(next.startedAt);
    expect(firstTicks[firstTicks.length - 1]).toMatchObject({ continue: false, reason: expect.stringContaining(next.name) });
    expect(maxGap(loop.ticks.map(t => t.seenAt))).toBeLessThanOrEqual(2 * interval * 1000);
  });

  test('a run that gives up starts its successor; failures must come in a row to end a run', async () => {
    const interval = 2;
    cluster = await LocalCluster.start({ autoscaler: { interval: Duration.seconds(interval) }, timeScale: SCALE });
    const { loop } = cluster;
    // No schedule: without the successor nothing would tick until the next scheduled start.
    const first = loop.startRun();
    await waitFor('two ticks', () => loop.ticks.length >= 2, 20_000);

    // Failures that a good tick interrupts do not add up.
    loop.failTicks(MAX_CONSECUTIVE_FAILURES - 1);
    await waitFor('failures, then a good tick', () => {
      const states = loop.transitions.map(([, s]) => s);
      return states.filter(s => s === 'CountFailure').length === MAX_CONSECUTIVE_FAILURES - 1 && states.includes('ResetFailures');
    }, 30_000);
    loop.failTicks(MAX_CONSECUTIVE_FAILURES + 1);
    const outcome = await first.done;
    expect(outcome).toEqual({ ok: false, error: expect.stringMatching(/^FastAutoscaler\.TooManyFailures: /) });
    await waitFor('the successor ticking twice', () => loop.ticks.filter(t => t.runId === loop.runs[1]?.name).length >= 2, 20_000);

    expect(loop.runs).toHaveLength(2);
    expect(loop.runs[1].input).toEqual({ successorOf: first.name });
    expect(loop.transitions.filter(([r, s]) => r === first.name && s === 'CountFailure')).toHaveLength(2 * MAX_CONSECUTIVE_FAILURES);
    // Every tick attempt, failed or not, follows the one before within two intervals.
    const attempts = loop.transitions.filter(([, s]) => s === 'Tick').map(([, , at]) => at);
    expect(maxGap(attempts)).toBeLessThanOrEqual(2 * interval * 1000);
    const successorTicks = loop.ticks.filter(t => t.runId === loop.runs[1].name);
    expect(successorTicks.every(t => t.continue)).toBe(true);
  });

  test('a run that never ticked gives up without a successor: the older run is still in charge', async () => {
    cluster = await LocalCluster.start({ autoscaler: { interval: Duration.seconds(1) }, timeScale: SCALE });
    const { loop } = cluster;
    loop.failTicks(MAX_CONSECUTIVE_FAILURES + 1);
    const run = loop.startRun();
    expect(await run.done).toEqual({ ok: false, error: expect.stringMatching(/^FastAutoscaler\.TooManyFailures: /) });
    expect(loop.transitions.map(([, s]) => s)).not.toContain('StartSuccessor');
    expect(loop.runs).toHaveLength(1);
  });
});

test('scale first, then notify with the tick\'s subject; a hanging SNS costs the loop one short timeout', async () => {
  const interval = 1;
  cluster = await LocalCluster.start({ autoscaler: { interval: Duration.seconds(interval) }, startDelayMs: 500 });
  const { loop, ecs, load, sns } = cluster;
  loop.startRun();
  load.setConnections(40);
  await waitFor('a published notification', () => sns!.published[0], 30_000);

  // What SNS received is what the tick decided, after the service was scaled.
  const acting = await waitFor('the acting tick', () => loop.ticks.find(t => t.notify), 5_000);
  expect(acting.notify).toMatchObject({ ok: true });
  expect(sns!.published[0].subject).toBe(`web scales out: ${acting.previousDesiredCount} -> ${acting.desiredCount} tasks`);
  expect(sns!.published[0].message).toContain(acting.reason);
  expect(sns!.published[0].subject!.length).toBeLessThan(100);
  expect(ecs.callsOf('UpdateService')[0].at).toBeLessThanOrEqual(sns!.requests[0].at);

  // SNS stops answering: the next scale-out is applied at once, the notification times out.
  sns!.answerDelayMs = 60_000;
  const requestsBefore = sns!.requests.length;
  const callsBefore = ecs.callsOf('UpdateService').length;
  load.setConnections(100);
  const hanging = await waitFor('the hanging publish', () => sns!.requests[requestsBefore], 30_000);
  const hangingAt = hanging.at;
  // The scale call that publish announces came first.
  expect(ecs.callsOf('UpdateService').slice(callsBefore).filter(c => !c.error && c.at <= hangingAt)).not.toHaveLength(0);
  await waitFor('three more ticks', () => loop.ticks.filter(t => t.seenAt > hangingAt).length >= 3, 20_000);
  const timeoutMs = notifyTimeoutMs(interval);
  // The tick after the hanging publish came after the timeout and the interval, not after SNS.
  const next = loop.ticks.find(t => t.seenAt > hangingAt)!;
  expect(next.seenAt - hangingAt).toBeLessThan(timeoutMs + interval * 1000 + 3000);
  expect(loop.runs).toHaveLength(1);
  expect(loop.transitions.filter(([, s]) => s === 'CountFailure')).toHaveLength(0);
});
