import { Duration } from 'aws-cdk-lib';
import { MetricSource, ScalingMetric, ScalingPolicy } from '../../src';
import { agentTasks } from '../support/agent-task';
import { Http2Load } from '../support/h2-load';
import { LocalCluster } from '../support/local-cluster';
import { waitFor } from '../support/wait-for';

let cluster: LocalCluster | undefined;
let h2: Http2Load | undefined;
afterEach(async () => {
  h2?.stop();
  h2 = undefined;
  await cluster?.stop();
  cluster = undefined;
});

/**
 * A cluster whose tasks run the app and the task agent, each task in a network namespace of
 * its own, with nothing between the load and the app.
 */
function agentCluster(policy: ScalingPolicy, app: { mode: 'http1' | 'h2'; ms: number }): Promise<LocalCluster> {
  return LocalCluster.start({
    autoscaler: { interval: Duration.seconds(1), metricSource: MetricSource.taskAgent(), policy },
    startDelayMs: 1000,
    tasks: async (template, local) => ({ runtime: agentTasks(template, { ...app, port: local.port }), loadPort: local.port }),
  });
}

test('raw connections to the app, no proxy: the agent counts them and the loop scales out within two ticks', async () => {
  cluster = await agentCluster(ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 10 }), { mode: 'http1', ms: 100 });
  const { ecs, loop, load, template } = cluster;
  const [taskDefinition] = Object.values(template.Resources).filter((r: any) => r.Type === 'AWS::ECS::TaskDefinition') as any[];
  expect(taskDefinition.Properties.ContainerDefinitions.map((c: any) => c.Name)).toEqual(['app', 'fast-autoscaler-agent']);
  loop.startSchedule();
  await waitFor('two ticks that read both tasks', () => loop.ticks.filter(t => t.scraped === 2 && t.failed === 0).length >= 2, 20_000);
  expect(loop.ticks.filter(t => t.scraped === 2).every(t => t.total === 0 && t.action === 'HOLD')).toBe(true);

  load.setConnections(60);
  const firstCall = await waitFor('the first UpdateService call', () => ecs.callsOf('UpdateService')[0], 20_000);
  const deciding = await loop.decidingTick(firstCall);
  const ticksBefore = loop.ticks.filter(t => t.seenAt > load.lastDealtAt && t.seenAt <= deciding.seenAt);
  expect(ticksBefore.length).toBeGreaterThanOrEqual(1);
  expect(ticksBefore.length).toBeLessThanOrEqual(2);
  // Every connection the load generator holds is an established socket on the app's port.
  expect(deciding).toMatchObject({ action: 'SCALE_OUT', total: 60, failed: 0 });
  expect(firstCall.input.desiredCount).toBe(6);
  await waitFor('6 running tasks, each in its own namespace', () => ecs.runningTasks.length === 6, 30_000);
  expect(new Set(ecs.runningTasks.map(t => t.address)).size).toBe(6);
});

test('an HTTP/2 app whose streams burn CPU, scaled on CPU_UTILIZATION from the task metadata endpoint', async () => {
  // The task has 0.25 vCPU: one stream burning 20 ms at a time is most of a core, over 100 % of the task's CPU.
  cluster = await agentCluster(ScalingPolicy.targetTracking({ metric: ScalingMetric.CPU_UTILIZATION, targetPerTask: 60 }), { mode: 'h2', ms: 20 });
  const { ecs, loop, template } = cluster;
  const [taskDefinition] = Object.values(template.Resources).filter((r: any) => r.Type === 'AWS::ECS::TaskDefinition') as any[];
  expect(taskDefinition.Properties.Cpu).toBe('256');
  loop.startSchedule();
  await waitFor('two ticks with both tasks\' CPU', () => loop.ticks.filter(t => Object.values(t.perTaskValues).filter(v => v !== null).length === 2).length >= 2, 20_000);
  const idle = loop.ticks[loop.ticks.length - 1];
  expect(idle.total).toBeLessThan(60);
  expect(idle.action).toBe('HOLD');

  h2 = new Http2Load(ecs, cluster.app.port);
  h2.setStreamsPerTask(1);
  const firstCall = await waitFor('the first UpdateService call', () => ecs.callsOf('UpdateService')[0], 30_000);
  const deciding = await loop.decidingTick(firstCall);
  expect(deciding.action).toBe('SCALE_OUT');
  expect(deciding.total).toBeGreaterThan(120);
  expect(h2.answered).toBeGreaterThan(10);
  expect(firstCall.input.desiredCount).toBe(deciding.desiredCount);
});
