import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { FastAutoscaler, FastAutoscalerProps, MetricSource, ScalingMetric, ScalingPolicy } from '../../src';
import { renderedControllerConfig } from '../support/controller-config-fixture';

const BACKLOG = ScalingPolicy.targetTracking({ metric: ScalingMetric.QUEUE_MESSAGES, targetPerTask: 10 });
const ENV = { account: '123456789012', region: 'eu-west-1' };

/** A queue worker: a Fargate service with no port and no load balancer, and its queue. */
function worker(queueProps: sqs.QueueProps = {}) {
  const app = new App();
  const stack = new Stack(app, 'Worker', { env: ENV });
  const cluster = new ecs.Cluster(stack, 'Cluster');
  const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task');
  taskDefinition.addContainer('worker', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:1.37') });
  const service = new ecs.FargateService(stack, 'Service', { cluster, taskDefinition });
  const queue = new sqs.Queue(stack, 'Jobs', queueProps);
  const make = (props: Partial<FastAutoscalerProps> = {}) => new FastAutoscaler(stack, 'Autoscaler', {
    service, metricSource: MetricSource.sqsQueue(queue), policy: BACKLOG, minTasks: 0, maxTasks: 50, ...props,
  });
  return { app, stack, service, queue, make };
}

/** Every IAM statement of the controller's role, flattened. */
function controllerStatements(template: Template): any[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter(p => JSON.stringify(p.Properties.Roles).includes('AutoscalerControlLoopFunctionServiceRole'))
    .flatMap(p => p.Properties.PolicyDocument.Statement);
}

describe('MetricSource.sqsQueue()', () => {
  test('nothing added to the task, no status-port rule; the controller may GetQueueAttributes on this queue and nothing else on SQS', () => {
    const { stack, make } = worker();
    make();
    const template = Template.fromStack(stack);
    const [td] = Object.values(template.findResources('AWS::ECS::TaskDefinition')) as any[];
    expect(td.Properties.ContainerDefinitions.map((c: any) => c.Name)).toEqual(['worker']);
    expect(template.findResources('AWS::EC2::SecurityGroupIngress')).toEqual({});
    const sqsStatements = controllerStatements(template).filter(s => JSON.stringify(s.Action).includes('sqs:'));
    expect(sqsStatements).toEqual([{ Action: 'sqs:GetQueueAttributes', Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Jobs/), 'Arn'] } }]);
    expect(renderedControllerConfig(template)).toMatchObject({
      minTasks: 0,
      statusPort: 0,
      source: { type: 'sqsQueue', queueUrl: 'REF', countInFlight: true, countDelayed: false },
      policy: { type: 'targetTracking', metric: 'QUEUE_MESSAGES', targetPerTask: 10 },
    });
  });

  test('a queue encrypted with a customer key: still no KMS permission (GetQueueAttributes reads no message)', () => {
    const { stack, service } = worker();
    const queue = new sqs.Queue(stack, 'Encrypted', { encryptionMasterKey: new kms.Key(stack, 'Key') });
    new FastAutoscaler(stack, 'Autoscaler', { service, metricSource: MetricSource.sqsQueue(queue), policy: BACKLOG, minTasks: 0, maxTasks: 5 });
    expect(controllerStatements(Template.fromStack(stack)).filter(s => JSON.stringify(s.Action).includes('kms:'))).toEqual([]);
  });

  test('options reach the controller', () => {
    const { stack, service, queue } = worker();
    new FastAutoscaler(stack, 'Autoscaler', {
      service, metricSource: MetricSource.sqsQueue(queue, { countInFlight: false, countDelayed: true }), policy: BACKLOG, minTasks: 0, maxTasks: 5,
    });
    expect(renderedControllerConfig(Template.fromStack(stack)).source).toMatchObject({ countInFlight: false, countDelayed: true });
  });

  test('a queue from another stack of the same account and Region works', () => {
    const app = new App();
    const platform = new Stack(app, 'Platform', { env: ENV });
    const queue = new sqs.Queue(platform, 'Jobs');
    const stack = new Stack(app, 'Worker', { env: ENV });
    const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task');
    taskDefinition.addContainer('worker', { image: ecs.ContainerImage.fromRegistry('busybox') });
    const service = new ecs.FargateService(stack, 'Service', { cluster: new ecs.Cluster(stack, 'Cluster'), taskDefinition });
    new FastAutoscaler(stack, 'Autoscaler', { service, metricSource: MetricSource.sqsQueue(queue), policy: BACKLOG, minTasks: 0, maxTasks: 5 });
    expect(() => app.synth()).not.toThrow();
  });

  test.each([
    ['account', 'arn:aws:sqs:eu-west-1:999999999999:jobs', /must be in the autoscaler's account \(123456789012\), got .* in 999999999999/],
    ['Region', 'arn:aws:sqs:us-east-1:123456789012:jobs', /must be in the autoscaler's Region \(eu-west-1\), got .* in us-east-1/],
  ])('a queue in another %s is a synth error that says why', (_what, arn, message) => {
    const { stack, service } = worker();
    const queue = sqs.Queue.fromQueueArn(stack, 'Elsewhere', arn);
    expect(() => new FastAutoscaler(stack, 'Autoscaler', { service, metricSource: MetricSource.sqsQueue(queue), policy: BACKLOG, minTasks: 0, maxTasks: 5 }))
      .toThrow(message);
  });

  test('bad pairs and bounds: errors naming the prop, the value and what is allowed', () => {
    expect(() => worker().make({ policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.CPU_UTILIZATION, targetPerTask: 50 }) }))
      .toThrow(/`policy` scales on CPU_UTILIZATION, which `metricSource` MetricSource.sqsQueue\(\) does not read \(it reads QUEUE_MESSAGES\); MetricSource.taskAgent\(\) does/);
    const { stack: s2, service: svc2 } = worker();
    expect(() => new FastAutoscaler(s2, 'A', { service: svc2, policy: BACKLOG, maxTasks: 5 }))
      .toThrow(/`policy` scales on QUEUE_MESSAGES, which `metricSource` MetricSource.nginxProxy\(\) does not read .*MetricSource.sqsQueue\(\) does/);
    expect(() => worker().make({ disableScaleIn: false, scaleInWindow: Duration.seconds(30) }))
      .toThrow(/`scaleInWindow` must be at least 60 seconds with a queue and scale-in on, got 30 seconds/);
    expect(() => worker().make({ minTasks: -1 })).toThrow(/`minTasks` must be a whole number from 0 to 5000, got -1/);
    expect(() => ScalingPolicy.targetTracking({ metric: ScalingMetric.QUEUE_MESSAGES, targetPerTask: 0 })).toThrow(/`targetPerTask` must be a number greater than 0, got 0/);
    expect(() => MetricSource.sqsQueue(undefined as any)).toThrow(/`queue` of MetricSource.sqsQueue\(\) must be an sqs.IQueue/);
    expect(() => MetricSource.sqsQueue('arn:aws:sqs:eu-west-1:123456789012:jobs' as any)).toThrow(/must be an sqs.IQueue .*got "arn:aws:sqs/);
    expect(() => MetricSource.sqsQueue(worker().queue, { countInFlight: 'false' as any })).toThrow(/`countInFlight` of MetricSource.sqsQueue\(\) must be true or false, got "false"/);
    // Below the first threshold the service runs minTasks: a threshold of 0 would keep a worker from zero for ever.
    expect(() => ScalingPolicy.steps({ metric: ScalingMetric.QUEUE_MESSAGES, steps: [{ threshold: 0, desiredTasks: 2 }] }))
      .toThrow(/`steps\[0\].threshold` must be a number greater than 0, got 0/);
  });

  test('minTasks 0 stays refused for the sources that read the tasks, naming the one that allows it', () => {
    const { stack, service } = worker();
    expect(() => new FastAutoscaler(stack, 'A', {
      service,
      metricSource: MetricSource.taskAgent({ appPorts: [80] }),
      appPort: 80,
      policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.CPU_UTILIZATION, targetPerTask: 50 }),
      minTasks: 0,
      maxTasks: 5,
    })).toThrow(/`minTasks` must be a whole number from 1 to 5000, got 0: the metric source reads the running tasks.*MetricSource.sqsQueue\(\) reads without tasks and allows 0/);
  });

  test('a worker with no port mapping has no load balancer target, said plainly when asked for', () => {
    const autoscaler = worker().make();
    expect(() => autoscaler.loadBalancerTarget).toThrow(/the container `worker` has no port mapping to target; set `appPort` \(a queue worker needs no load balancer\)/);
  });
});
