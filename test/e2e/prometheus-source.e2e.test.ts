import { Duration } from 'aws-cdk-lib';
import { MetricSource, ScalingMetric, ScalingPolicy } from '../../src';
import { LocalCluster } from '../support/local-cluster';
import { freePort } from '../support/nginx-task';
import { IN_FLIGHT_GAUGE, prometheusTasks, REQUESTS_COUNTER } from '../support/prometheus-task';
import { waitFor } from '../support/wait-for';

let cluster: LocalCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

/** A cluster of apps that expose their own metrics (prom-client), with nothing in the data path. */
async function prometheusCluster(policy: ScalingPolicy): Promise<LocalCluster> {
  const metricsPort = await freePort('127.0.0.1');
  return LocalCluster.start({
    autoscaler: { interval: Duration.seconds(1), metricSource: MetricSource.prometheus({ port: metricsPort, path: '/metrics' }), policy },
    startDelayMs: 1000,
    tasks: async (_template, app) => ({
      runtime: prometheusTasks({ appPort: app.port, metricsPort, metricsPath: '/metrics', delayMs: 100 }),
      loadPort: app.port,
    }),
  });
}

test('a gauge of the app\'s own exposition: in-flight requests surge, the loop scales out within two ticks', async () => {
  cluster = await prometheusCluster(ScalingPolicy.targetTracking({ metric: ScalingMetric.prometheusGauge(IN_FLIGHT_GAUGE, { route: '/' }), targetPerTask: 10 }));
  const { ecs, loop, load, template } = cluster;
  // Nothing of ours in the task: the load balancer's target is the app.
  const [taskDefinition] = Object.values(template.Resources).filter((r: any) => r.Type === 'AWS::ECS::TaskDefinition') as any[];
  expect(taskDefinition.Properties.ContainerDefinitions.map((c: any) => c.Name)).toEqual(['app']);
  loop.startSchedule();
  await waitFor('two ticks that read both tasks', () => loop.ticks.filter(t => t.scraped === 2 && t.failed === 0).length >= 2, 20_000);
  expect(loop.ticks.every(t => t.action === 'HOLD')).toBe(true);

  const surgeAt = Date.now();
  load.setConnections(60);
  const firstCall = await waitFor('the first UpdateService call', () => ecs.callsOf('UpdateService')[0], 20_000);
  const deciding = await loop.decidingTick(firstCall);
  const ticksBefore = loop.ticks.filter(t => t.seenAt > Math.max(surgeAt, load.lastDealtAt) && t.seenAt <= deciding.seenAt);
  expect(ticksBefore.length).toBeGreaterThanOrEqual(1);
  expect(ticksBefore.length).toBeLessThanOrEqual(2);
  expect(deciding).toMatchObject({ action: 'SCALE_OUT', failed: 0 });
  expect(deciding.desiredCount).toBe(Math.min(20, Math.ceil(deciding.total / 10)));
  await waitFor('6 desired tasks', () => ecs.desiredCount >= 6, 30_000);
});

test('a counter of the app\'s own exposition, as a rate: requests per second surge, the loop scales out', async () => {
  // 40 connections, each a request of 100 ms at a time: about 400 requests a second.
  cluster = await prometheusCluster(ScalingPolicy.targetTracking({ metric: ScalingMetric.prometheusCounter(REQUESTS_COUNTER), targetPerTask: 50 }));
  const { ecs, loop, load } = cluster;
  loop.startSchedule();
  await waitFor('two ticks with a rate from both tasks', () => loop.ticks.filter(t => Object.values(t.perTaskValues).filter(v => v !== null).length === 2).length >= 2, 20_000);
  const idle = loop.ticks[loop.ticks.length - 1];
  expect(idle.total).toBeLessThan(5);
  load.setConnections(40);
  const firstCall = await waitFor('the first UpdateService call', () => ecs.callsOf('UpdateService')[0], 20_000);
  const deciding = await loop.decidingTick(firstCall);
  expect(deciding.action).toBe('SCALE_OUT');
  // A rate over the ticks' gap: a few hundred a second, nowhere near the counter's total.
  expect(deciding.total).toBeGreaterThan(100);
  expect(deciding.total).toBeLessThan(1000);
  expect(firstCall.input.desiredCount).toBe(deciding.desiredCount);
});
