import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { FastAutoscaler, ScalingMetric, ScalingPolicy } from '../src';
import { alarmDefinition, evaluateAlarm } from './support/alarm-evaluator';
import { monitoredMetrics } from './support/monitored-metrics';
import { controllerFunction } from './support/template-lookups';
import { typicalStack } from './support/typical-stack';
import { ControllerMetric } from '../src/controller/controller-metrics';

const CLUSTER = { Ref: Match.stringLikeRegexp('^Cluster') };
const SERVICE = { 'Fn::GetAtt': [Match.stringLikeRegexp('^Web'), 'Name'] };
const SERVICE_DIMENSIONS = [{ Name: 'ClusterName', Value: CLUSTER }, { Name: 'ServiceName', Value: SERVICE }];

describe('metric methods', () => {
  const { stack, autoscaler } = typicalStack();
  const methods: Array<[string, (p?: cloudwatch.MetricOptions) => cloudwatch.Metric, string, string]> = [
    ['metricLoad', p => autoscaler.metricLoad(p), ControllerMetric.LOAD, 'Average'],
    ['metricLoadPerTask', p => autoscaler.metricLoadPerTask(p), ControllerMetric.LOAD_PER_TASK, 'Average'],
    ['metricRecommendation', p => autoscaler.metricRecommendation(p), ControllerMetric.RECOMMENDATION, 'Maximum'],
    ['metricDesiredTasks', p => autoscaler.metricDesiredTasks(p), ControllerMetric.DESIRED_TASKS, 'Maximum'],
    ['metricRunningTasks', p => autoscaler.metricRunningTasks(p), ControllerMetric.RUNNING_TASKS, 'Average'],
    ['metricPendingTasks', p => autoscaler.metricPendingTasks(p), ControllerMetric.PENDING_TASKS, 'Average'],
    ['metricScalingActions', p => autoscaler.metricScalingActions(p), ControllerMetric.SCALING_ACTIONS, 'Sum'],
    ['metricScrapedTasks', p => autoscaler.metricScrapedTasks(p), ControllerMetric.TASKS_SCRAPED, 'Sum'],
    ['metricFailedScrapes', p => autoscaler.metricFailedScrapes(p), ControllerMetric.SCRAPES_FAILED, 'Sum'],
    ['metricTickDuration', p => autoscaler.metricTickDuration(p), ControllerMetric.TICK_DURATION, 'Average'],
    ['metricTicks', p => autoscaler.metricTicks(p), ControllerMetric.TICKS, 'Sum'],
  ];

  test.each(methods)('%s reads the controller\'s series: namespace, name, exactly ClusterName and ServiceName', (_, method, name, statistic) => {
    const metric = method();
    expect(metric.namespace).toBe('FastAutoscaler');
    expect(metric.metricName).toBe(name);
    expect(metric.statistic).toBe(statistic);
    expect(metric.period.toSeconds()).toBe(60);
    expect(stack.resolve(metric.dimensions)).toEqual({
      ClusterName: { Ref: expect.stringMatching(/^Cluster/) },
      ServiceName: { 'Fn::GetAtt': [expect.stringMatching(/^Web/), 'Name'] },
    });
    // No unit filter: CloudWatch would ignore data points emitted with any other unit.
    expect(metric.unit).toBeUndefined();
  });

  test('props override the defaults, as aws-cdk-lib\'s metric methods do', () => {
    const metric = autoscaler.metricLoad({ statistic: 'p90', period: Duration.minutes(5), label: 'L' });
    expect([metric.statistic, metric.period.toSeconds(), metric.label]).toEqual(['p90', 300, 'L']);
    expect(autoscaler.metric('Load').metricName).toBe('Load');
  });
});

describe('alarms, on by default', () => {
  const { stack, autoscaler } = typicalStack();
  const template = Template.fromStack(stack);

  test('five alarms, all exposed', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    expect(autoscaler.alarms).toHaveLength(5);
    for (const alarm of [autoscaler.stoppedTickingAlarm, autoscaler.failedScrapesAlarm, autoscaler.heldAtMaxTasksAlarm,
      autoscaler.runsGivingUpAlarm, autoscaler.startsDeadLetteredAlarm]) {
      expect(autoscaler.alarms).toContain(alarm);
    }
  });

  /** A labelled metric renders as a one-element `Metrics` list. */
  const single = (name: string, stat: string, period = 60) => [{
    Id: 'm1',
    Label: Match.anyValue(),
    ReturnData: true,
    MetricStat: { Metric: { Namespace: 'FastAutoscaler', MetricName: name, Dimensions: SERVICE_DIMENSIONS }, Period: period, Stat: stat },
  }];

  test('stopped ticking: fewer than one tick a minute for two minutes, and no data breaches', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: single('Ticks', 'Sum'),
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'breaching',
    });
  });

  test('failed status reads: a share of a fifth or more, every minute for five minutes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'failed / scraped', ReturnData: true }),
        Match.objectLike({ Id: 'failed', MetricStat: { Metric: { Namespace: 'FastAutoscaler', MetricName: 'ScrapesFailed', Dimensions: SERVICE_DIMENSIONS }, Period: 60, Stat: 'Sum' }, ReturnData: false }),
        Match.objectLike({ Id: 'scraped', MetricStat: { Metric: { Namespace: 'FastAutoscaler', MetricName: 'TasksScraped', Dimensions: SERVICE_DIMENSIONS }, Period: 60, Stat: 'Sum' }, ReturnData: false }),
      ]),
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 0.2,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      TreatMissingData: 'notBreaching',
    });
  });

  test('held at maxTasks: every tick of five minutes asked for more than maxTasks', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: single('Recommendation', 'Minimum'),
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 50,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
    });
  });

  test('runs giving up: a failed or timed-out execution of this state machine', () => {
    const machine = { Ref: Match.stringLikeRegexp('StateMachine') };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(failed, 0) + FILL(timedOut, 0)' }),
        Match.objectLike({ MetricStat: Match.objectLike({ Metric: { Namespace: 'AWS/States', MetricName: 'ExecutionsFailed', Dimensions: [{ Name: 'StateMachineArn', Value: machine }] } }) }),
        Match.objectLike({ MetricStat: Match.objectLike({ Metric: { Namespace: 'AWS/States', MetricName: 'ExecutionsTimedOut', Dimensions: [{ Name: 'StateMachineArn', Value: machine }] } }) }),
      ]),
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
    });
  });

  test('starts dead-lettered: a message in the schedule\'s dead-letter queue', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('ScheduleDeadLetters'), 'QueueName'] } }],
      Threshold: 1,
    });
  });

  test('without an action, the alarms only change state; no dashboard unless asked', () => {
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toBeUndefined();
    }
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(autoscaler.dashboard).toBeUndefined();
  });

  test('every controller metric an alarm reads has exactly the two dimensions the handler emits', () => {
    const read = monitoredMetrics(template.toJSON()).filter(m => m.namespace === 'FastAutoscaler');
    expect(read.map(m => m.metricName).sort()).toEqual(['Recommendation', 'ScrapesFailed', 'TasksScraped', 'Ticks']);
    for (const m of read) expect(Object.keys(m.dimensions).sort()).toEqual(['ClusterName', 'ServiceName']);
  });
});

test('alarmAction runs when an alarm fires and when it clears', () => {
  const own = typicalStackWithPager();
  const alarms = Object.values(Template.fromStack(own.stack).findResources('AWS::CloudWatch::Alarm'));
  expect(alarms).toHaveLength(5);
  for (const alarm of alarms) {
    expect(alarm.Properties.AlarmActions).toEqual([{ Ref: own.pagerId }]);
    expect(alarm.Properties.OKActions).toEqual([{ Ref: own.pagerId }]);
  }
});

function typicalStackWithPager() {
  const app = new App();
  const stack = new Stack(app, 'P', { env: { account: '123456789012', region: 'eu-west-1' } });
  const pager = new sns.Topic(stack, 'Pager');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const service = webService(stack, new ecs.Cluster(stack, 'Cluster', { vpc }), 'Web');
  new FastAutoscaler(stack, 'Autoscaler', {
    service,
    policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 10 }),
    maxTasks: 10,
    alarmAction: new cloudwatchActions.SnsAction(pager),
  });
  return { stack, pagerId: stack.getLogicalId(pager.node.defaultChild as sns.CfnTopic) };
}

test('createAlarms: false creates none, and an alarmAction then warns', () => {
  const { stack, autoscaler } = typicalStack({ props: { createAlarms: false, alarmAction: { bind: () => ({ alarmActionArn: 'arn:aws:sns:eu-west-1:123456789012:pager' }) } } });
  Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Alarm', 0);
  expect(autoscaler.alarms).toEqual([]);
  expect(autoscaler.stoppedTickingAlarm).toBeUndefined();
  Annotations.fromStack(stack).hasWarning('/Typical/Autoscaler', Match.stringLikeRegexp('`alarmAction` is set but `createAlarms` is false'));
});

test('createDashboard: one page with load, tasks and actions, status reads, tick duration and the alarms', () => {
  const { stack, autoscaler } = typicalStack({ props: { createDashboard: true } });
  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  expect(autoscaler.dashboard).toBeDefined();
  const read = monitoredMetrics(template.toJSON(), 'AWS::CloudWatch::Dashboard');
  expect([...new Set(read.map(m => m.metricName))].sort()).toEqual([
    'DesiredTasks', 'Load', 'LoadPerTask', 'PendingTasks', 'Recommendation', 'RunningTasks',
    'ScalingActions', 'ScrapesFailed', 'TasksScraped', 'TickDuration', 'Ticks',
  ]);
  for (const m of read) {
    expect(m.namespace).toBe('FastAutoscaler');
    expect(Object.keys(m.dimensions).sort()).toEqual(['ClusterName', 'ServiceName']);
  }
  const body = JSON.stringify(template.toJSON().Resources[Object.keys(template.findResources('AWS::CloudWatch::Dashboard'))[0]].Properties.DashboardBody);
  expect(body).toContain('\\"type\\":\\"alarm\\"');
  expect(body).toContain('Load (ACTIVE_CONNECTIONS)');
});

test('two services of the same name in two clusters never share a series', () => {
  const app = new App();
  const stack = new Stack(app, 'Two', { env: { account: '123456789012', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const autoscalers = ['Blue', 'Green'].map(colour => {
    const cluster = new ecs.Cluster(stack, `${colour}Cluster`, { vpc, clusterName: `${colour.toLowerCase()}-cluster` });
    const service = webService(stack, cluster, `${colour}Web`, 'web');
    return new FastAutoscaler(stack, `${colour}Autoscaler`, {
      service,
      policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 10 }),
      maxTasks: 10,
    });
  });
  // The values as deployed: the cluster's and the service's names.
  const resources = Template.fromStack(stack).toJSON().Resources;
  const deployed = (v: any) => v.Ref ? resources[v.Ref].Properties.ClusterName : resources[v['Fn::GetAtt'][0]].Properties.ServiceName;
  const series = (dimensions: Record<string, unknown>) => JSON.stringify(Object.entries(dimensions).map(([k, v]) => [k, deployed(v)]));
  expect(autoscalers.map(a => series(stack.resolve(a.metricTicks().dimensions)))).toEqual([
    JSON.stringify([['ClusterName', 'blue-cluster'], ['ServiceName', 'web']]),
    JSON.stringify([['ClusterName', 'green-cluster'], ['ServiceName', 'web']]),
  ]);
  const ticks = monitoredMetrics(Template.fromStack(stack).toJSON()).filter(m => m.metricName === 'Ticks');
  expect(new Set(ticks.map(m => series(m.dimensions)))).toEqual(new Set([
    JSON.stringify([['ClusterName', 'blue-cluster'], ['ServiceName', 'web']]),
    JSON.stringify([['ClusterName', 'green-cluster'], ['ServiceName', 'web']]),
  ]));
});

function webService(stack: Stack, cluster: ecs.ICluster, id: string, serviceName?: string): ecs.FargateService {
  const taskDefinition = new ecs.FargateTaskDefinition(stack, `${id}Task`, { cpu: 256, memoryLimitMiB: 512 });
  taskDefinition.addContainer('app', {
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/httpd:2.4'),
    portMappings: [{ containerPort: 80 }],
  });
  return new ecs.FargateService(stack, id, { cluster, taskDefinition, serviceName });
}

describe('the alarm evaluator the end-to-end proof relies on', () => {
  const stopped = { period: 60, statistic: 'Sum' as const, comparisonOperator: 'LessThanThreshold', threshold: 1, evaluationPeriods: 2, datapointsToAlarm: 2 };
  const minute = 60_000;
  // A tick every 3 s through minutes 10 and 11, then nothing.
  const ticks = Array.from({ length: 40 }, (_, i) => ({ timestamp: 10 * minute + i * 3000, value: 1 }));

  test('missing data breaching: two empty minutes alarm, one does not', () => {
    const alarm = { ...stopped, treatMissingData: 'breaching' as const };
    expect(evaluateAlarm(alarm, ticks, 12 * minute)).toBe('OK');
    expect(evaluateAlarm(alarm, ticks, 13 * minute)).toBe('OK');
    expect(evaluateAlarm(alarm, ticks, 14 * minute)).toBe('ALARM');
  });

  test('missing data not breaching: the same silence never alarms', () => {
    const alarm = { ...stopped, treatMissingData: 'notBreaching' as const };
    expect(evaluateAlarm(alarm, ticks, 14 * minute)).toBe('OK');
    expect(evaluateAlarm({ ...stopped, treatMissingData: 'missing' }, ticks, 14 * minute)).toBe('INSUFFICIENT_DATA');
  });

  test('reads a synthesized single-metric alarm', () => {
    const { stack, autoscaler } = typicalStack();
    const id = stack.getLogicalId(autoscaler.stoppedTickingAlarm!.node.defaultChild as cloudwatch.CfnAlarm);
    expect(alarmDefinition(Template.fromStack(stack).toJSON().Resources[id].Properties)).toEqual({ ...stopped, treatMissingData: 'breaching' });
  });
});

describe('what the adversarial review found', () => {
  const alarms = (props: Parameters<typeof typicalStack>[0]) => Template.fromStack(typicalStack(props).stack).findResources('AWS::CloudWatch::Alarm');
  const byId = (all: Record<string, any>, part: string) => Object.entries(all).find(([id]) => id.includes(part))?.[1];

  test('no "held at maxTasks" alarm for a step policy, whose table never asks for more than maxTasks', () => {
    const steps = ScalingPolicy.steps({
      metric: ScalingMetric.ACTIVE_CONNECTIONS,
      steps: [{ threshold: 50, desiredTasks: 2 }, { threshold: 500, desiredTasks: 20 }],
    });
    const { autoscaler } = typicalStack({ props: { policy: steps, maxTasks: 20 } });
    expect(autoscaler.heldAtMaxTasksAlarm).toBeUndefined();
    expect(autoscaler.alarms).toHaveLength(4);
    expect(byId(alarms({ props: { policy: steps, maxTasks: 20 } }), 'HeldAtMaxTasks')).toBeUndefined();
    expect(byId(alarms({}), 'HeldAtMaxTasks')).toBeDefined();
  });

  test('runs giving up page only when they do so in two 5-minute periods in a row: one blip while an older run ticks is not an outage', () => {
    const alarm = byId(alarms({}), 'RunsGivingUp');
    expect(alarm.Properties).toMatchObject({ EvaluationPeriods: 2, DatapointsToAlarm: 2 });
  });

  test('reserved concurrency can be left out for accounts with a low concurrency limit', () => {
    const controller = (props: Parameters<typeof typicalStack>[0]) => controllerFunction(Template.fromStack(typicalStack(props).stack));
    expect(controller({}).Properties.ReservedConcurrentExecutions).toBe(5);
    expect(controller({ props: { controllerReservedConcurrency: 0 } }).Properties.ReservedConcurrentExecutions).toBeUndefined();
    // The deprecated switch still works, with the same template.
    expect(controller({ props: { reserveControllerConcurrency: false } })).toEqual(controller({ props: { controllerReservedConcurrency: 0 } }));
    expect(() => typicalStack({ props: { reserveControllerConcurrency: false, controllerReservedConcurrency: 3 } })).toThrow(
      '`reserveControllerConcurrency` (deprecated) must not be set beside `controllerReservedConcurrency` (3): set `controllerReservedConcurrency` alone (0 reserves none)',
    );
    // Whatever the two say (true and 0 would otherwise reserve nothing without a word).
    expect(() => typicalStack({ props: { reserveControllerConcurrency: true, controllerReservedConcurrency: 0 } })).toThrow(
      '`reserveControllerConcurrency` (deprecated) must not be set beside `controllerReservedConcurrency` (0)',
    );
  });
});
