import { Duration } from 'aws-cdk-lib';
import { ScalingMetric, ScalingPolicy } from '../../src';
import { LocalCluster } from '../support/local-cluster';
import { TickLog } from '../support/local-control-loop';
import { waitFor } from '../support/wait-for';

let cluster: LocalCluster | undefined;
let ramp: NodeJS.Timeout | undefined;
afterEach(async () => {
  clearInterval(ramp);
  await cluster?.stop();
  cluster = undefined;
});

/** The predictive figures the tick's log line carries (TickFigures, spread into the line). */
type PredictiveTick = TickLog & { readonly projectedTotal?: number; readonly lookAheadSeconds?: number };

test('the predictive policy: a rising load is met with tasks for where it will be, the look-ahead learned from when new tasks begin to serve', async () => {
  cluster = await LocalCluster.start({
    autoscaler: {
      interval: Duration.seconds(1),
      policy: ScalingPolicy.predictive({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 10, startDelay: Duration.seconds(30) }),
    },
    startDelayMs: 3000,
    // The load reaches a new task 4 s after it is RUNNING (a load balancer's health checks).
    healthyAfterMs: 4000,
  });
  const { loop, load, ecs } = cluster;
  loop.startSchedule();
  await waitFor('three idle ticks', () => loop.ticks.filter(t => t.scraped === 2).length >= 3, 30_000);
  const idle = loop.ticks as PredictiveTick[];
  expect(idle.every(t => t.action === 'HOLD' && t.projectedTotal === undefined)).toBe(true);

  // 2 connections more every second, from 4 to 60 (28 s): the load keeps rising past every count it asks for.
  let connections = 4;
  load.setConnections(connections);
  const rampAt = Date.now();
  ramp = setInterval(() => {
    connections = Math.min(60, connections + 2);
    load.setConnections(connections);
  }, 1000);

  const ahead = await waitFor('a tick that scales out for the projected load', () => (loop.ticks as PredictiveTick[])
    // The projection asks for more tasks than the load now (a projection a little above the load
    // may round to the same count: that tick's reason does not speak of it).
    .find(t => t.seenAt > rampAt && t.action === 'SCALE_OUT' && t.projectedTotal !== undefined
      && Math.ceil(t.projectedTotal / 10 - 1e-9) > Math.ceil(t.total / 10)), 60_000);
  // It asked for what the projection needs, more than the load now needs, and said so (a peer
  // run's fresh action may only raise the count further).
  const pattern = /^load \d+ asks for (\d+) tasks, rising [\d.]+\/s to [\d.]+ in [\d.]+ s \(\d+ for the load now\)/;
  expect(ahead.reason).toMatch(pattern);
  const reason = pattern.exec(ahead.reason);
  expect(Number(reason![1])).toBe(Math.min(20, Math.ceil(ahead.projectedTotal! / 10 - 1e-9)));
  expect(ahead.desiredCount).toBeGreaterThanOrEqual(Number(reason![1]));
  expect(ahead.desiredCount).toBeGreaterThan(Math.ceil(ahead.total / 10));
  await waitFor('the scale-out reached ECS', () => ecs.callsOf('UpdateService').some(c => c.at > rampAt), 20_000);
  // The look-ahead: the newest five tasks' median time from created to carrying load, plus the
  // 1 s interval: 3 s to RUNNING, nginx's start, 4 s more until the load generator deals them
  // connections (then up to 2 s while the old ones close), seen at the next 1 s tick: about
  // 9–13 s. Created to RUNNING alone would give 4 s; the bound is 30 s.
  const learned = await waitFor('a projection over the learned serve delay', () => (loop.ticks as PredictiveTick[])
    .find(t => t.seenAt > rampAt && t.projectedTotal !== undefined && t.lookAheadSeconds! >= 7.5), 60_000);
  expect(learned.lookAheadSeconds).toBeLessThan(20);
});
