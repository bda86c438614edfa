import { Duration } from 'aws-cdk-lib';
import { alarmDefinition, evaluateAlarm } from '../support/alarm-evaluator';
import { CfnResolver } from '../support/cfn-resolver';
import { emittedData, EmittedDatum, seriesKey } from '../support/emf-records';
import { LocalCluster } from '../support/local-cluster';
import { monitoredMetrics } from '../support/monitored-metrics';
import { waitFor } from '../support/wait-for';

/**
 * The proof that the alarms and the dashboard watch what the controller really emits: an
 * alarm on a name or a dimension set nobody writes is silent forever. The controller here is
 * the bundled handler, run by the synthesized state machine against the local cluster; its
 * EMF lines are what CloudWatch would turn into metrics.
 */

let cluster: LocalCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

/** Metrics counted per event: only a Sum (or a count of samples) means anything over a period. */
const COUNTERS = new Set(['Ticks', 'ScalingActions', 'TasksScraped', 'ScrapesFailed']);

function resolverFor(c: LocalCluster): CfnResolver {
  return new CfnResolver(c.template, {
    clusterArn: c.ecs.clusterArn,
    clusterName: c.ecs.clusterName,
    serviceArn: c.ecs.serviceArn,
    serviceName: c.ecs.serviceName,
  });
}

test('every metric the alarms and the dashboard read is one the controller emits: namespace, name, dimensions, unit', async () => {
  cluster = await LocalCluster.start({
    autoscaler: { interval: Duration.seconds(1), maxTasks: 4, createDashboard: true },
    startDelayMs: 500,
  });
  const { loop, ecs, load } = cluster;
  loop.startSchedule();
  // 60 connections at 10 a task ask for 6 tasks: the service is held at maxTasks (4).
  load.setConnections(60);
  await waitFor('4 desired tasks', () => ecs.desiredCount === 4, 40_000);
  await waitFor('the load of 4 tasks read', () => loop.ticks.filter(t => t.running === 4 && t.total >= 50).length >= 3, 40_000);
  // Then a task whose status page stops answering.
  load.setConnections(0);
  await ecs.killSidecar(ecs.runningTasks[0]);
  const killedAt = Date.now();
  await waitFor('5 ticks with a failed read', () => loop.ticks.filter(t => t.seenAt > killedAt && t.failed >= 1).length >= 5, 40_000);

  const data = emittedData(loop.emfRecords);
  const ours = data.filter(d => d.namespace === 'FastAutoscaler');
  // Every record names the service by exactly its cluster and its name.
  expect(loop.emfRecords.length).toBeGreaterThanOrEqual(loop.ticks.length);
  for (const record of loop.emfRecords) {
    expect(record._aws.CloudWatchMetrics.map((d: any) => [d.Namespace, d.Dimensions])).toEqual([['FastAutoscaler', [['ClusterName', 'ServiceName']]]]);
    expect([record.ClusterName, record.ServiceName]).toEqual([ecs.clusterName, ecs.serviceName]);
    expect(record).not.toHaveProperty('service');
  }
  const emitted = new Map<string, EmittedDatum[]>();
  for (const d of ours) {
    const key = seriesKey(d.namespace, d.metricName, d.dimensions);
    emitted.set(key, [...(emitted.get(key) ?? []), d]);
  }

  const resolver = resolverFor(cluster);
  const read = monitoredMetrics(cluster.template);
  const readByController = read.filter(m => m.namespace === 'FastAutoscaler');
  // Everything the alarms and the dashboard read of the controller, all of it emitted.
  expect(new Set(readByController.map(m => m.metricName))).toEqual(new Set([
    'Ticks', 'TickDuration', 'Load', 'LoadPerTask', 'Recommendation', 'DesiredTasks', 'RunningTasks', 'PendingTasks',
    'ScalingActions', 'TasksScraped', 'ScrapesFailed',
  ]));
  for (const m of readByController) {
    const key = seriesKey(m.namespace, m.metricName, resolver.resolve(m.dimensions));
    const series = emitted.get(key);
    expect({ readBy: m.readBy, key, emitted: series !== undefined }).toEqual({ readBy: m.readBy, key, emitted: true });
    const units = new Set(series!.map(d => d.unit));
    expect(units).toEqual(new Set([m.metricName === 'TickDuration' ? 'Milliseconds' : 'Count']));
    // A unit filter on the reader would have to match; none is set.
    expect(m.unit === undefined || units.has(m.unit)).toBe(true);
    if (COUNTERS.has(m.metricName)) expect([m.metricName, m.statistic]).toEqual([m.metricName, 'Sum']);
    else expect([m.metricName, m.statistic]).not.toEqual([m.metricName, 'Sum']);
    expect(m.period ?? 60).toBe(60);
  }
  // The other alarms read what AWS publishes (Step Functions, SQS): named here, proven only on AWS.
  expect(read.filter(m => m.namespace !== 'FastAutoscaler').map(m => `${m.namespace} ${m.metricName}`).sort()).toEqual([
    'AWS/SQS ApproximateNumberOfMessagesVisible', 'AWS/States ExecutionsFailed', 'AWS/States ExecutionsTimedOut',
  ]);

  // The values are what the alarms' thresholds are about.
  const values = (name: string) => ours.filter(d => d.metricName === name).map(d => d.value);
  const heldAtMax = Object.values(cluster.template.Resources as Record<string, any>).find(r => r.Type === 'AWS::CloudWatch::Alarm'
    && r.Properties.Metrics?.[0]?.MetricStat?.Metric.MetricName === 'Recommendation');
  expect(heldAtMax.Properties.Threshold).toBe(4);
  expect(Math.max(...values('Recommendation'))).toBeGreaterThan(4);
  expect(Math.max(...values('DesiredTasks'))).toBe(4);
  expect(values('ScalingActions').filter(v => v === 1).length).toBeGreaterThanOrEqual(1);
  // After the kill, a quarter of the reads fail: at or above the failed-reads alarm's fifth.
  const afterKill = ours.filter(d => d.timestamp > killedAt);
  const sum = (name: string) => afterKill.filter(d => d.metricName === name).reduce((a, d) => a + d.value, 0);
  expect(sum('ScrapesFailed') / sum('TasksScraped')).toBeGreaterThanOrEqual(0.2);
});

test('stopping the loop makes the ticks go missing, and the stopped-ticking alarm fires within three minutes', async () => {
  // Runs hand over every 15 s instead of every minute: the handovers must leave no gap either.
  cluster = await LocalCluster.start({ autoscaler: { interval: Duration.seconds(1) }, timeScale: 0.25 });
  const { loop } = cluster;
  const started = Date.now();
  loop.startSchedule();
  // Longer than a minute: at least one whole aligned minute of ticking to evaluate the alarm on.
  await waitFor('65 s of ticking and 4 handovers', () => Date.now() - started >= 65_000 && loop.runs.length >= 5, 110_000);
  await loop.stop();
  const stoppedAt = Date.now();
  const emittedBeforeStop = loop.emfRecords.length;
  await new Promise(resolve => setTimeout(resolve, 3_000));
  expect(loop.emfRecords.length).toBe(emittedBeforeStop);

  const resolver = resolverFor(cluster);
  const [alarm] = Object.values(cluster.template.Resources as Record<string, any>).filter(r => r.Type === 'AWS::CloudWatch::Alarm'
    && r.Properties.Metrics?.[0]?.MetricStat?.Metric.MetricName === 'Ticks');
  const stat = alarm.Properties.Metrics[0].MetricStat;
  const dimensions = resolver.resolve(Object.fromEntries(stat.Metric.Dimensions.map((d: any) => [d.Name, d.Value])));
  const key = seriesKey(stat.Metric.Namespace, stat.Metric.MetricName, dimensions);
  const ticks = emittedData(loop.emfRecords).filter(d => seriesKey(d.namespace, d.metricName, d.dimensions) === key);
  expect(ticks.length).toBeGreaterThanOrEqual(20);
  expect(ticks.every(t => t.value === 1)).toBe(true);
  const definition = alarmDefinition(alarm.Properties);
  expect(definition).toEqual({
    period: 60,
    statistic: 'Sum',
    comparisonOperator: 'LessThanThreshold',
    threshold: 1,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
    treatMissingData: 'breaching',
  });

  // While the loop ran, no gap between ticks came near a minute, so no minute went without one.
  const times = ticks.map(t => t.timestamp).sort((a, b) => a - b);
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  expect(Math.max(...gaps)).toBeLessThan(60_000);
  // (Before the first whole minute of ticks the alarm looks at minutes before the loop started.)
  const whileTicking: string[] = [];
  for (let at = Math.ceil(times[0] / 60_000) * 60_000; at <= stoppedAt; at += 1000) whileTicking.push(evaluateAlarm(definition, ticks, at));
  expect(whileTicking.length).toBeGreaterThan(0);
  expect(whileTicking.filter(state => state !== 'OK')).toEqual([]);

  // After the last tick: two whole minutes without one alarm, and it stays so.
  const last = times[times.length - 1];
  const states = Array.from({ length: 300 }, (_, s) => [s, evaluateAlarm(definition, ticks, last + s * 1000)] as const);
  const firstAlarm = states.find(([, state]) => state === 'ALARM')![0];
  expect(firstAlarm).toBeGreaterThan(120);
  expect(firstAlarm).toBeLessThanOrEqual(180);
  expect(states.filter(([s]) => s >= firstAlarm).every(([, state]) => state === 'ALARM')).toBe(true);
}, 180_000);
