import { Duration, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
// In your own app: import { FastAutoscaler, MetricSource, ScalingMetric, ScalingPolicy } from 'cdk-fast-autoscaler';
import { FastAutoscaler, MetricSource, ScalingMetric, ScalingPolicy } from '../../src';

/**
 * A queue worker scaled from zero on its backlog: an SQS queue (with its dead-letter queue),
 * a Fargate service with no load balancer, and a FastAutoscaler that reads the queue's counters
 * every 3 s: the first message starts a worker within a tick, an empty queue for five minutes
 * stops the last one. Environment-agnostic; replace the image with your worker.
 */
export class QueueWorkerStack extends Stack {
  public readonly queue: sqs.Queue;
  public readonly autoscaler: FastAutoscaler;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const deadLetters = new sqs.Queue(this, 'JobsDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Jobs', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.minutes(5),
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: 5 },
    });

    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      flowLogs: { all: { trafficType: ec2.FlowLogTrafficType.REJECT } },
    });
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', { cpu: 512, memoryLimitMiB: 1024 });
    taskDefinition.addContainer('worker', {
      // Your worker: it receives from the queue, works, and deletes each message.
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:1.37'),
      command: ['sh', '-c', 'while true; do sleep 3600; done'],
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'worker', logRetention: logs.RetentionDays.ONE_WEEK }),
    });
    this.queue.grantConsumeMessages(taskDefinition.taskRole);
    const service = new ecs.FargateService(this, 'Service', { cluster, taskDefinition, minHealthyPercent: 100, circuitBreaker: { rollback: true } });

    this.autoscaler = new FastAutoscaler(this, 'Autoscaler', {
      service,
      metricSource: MetricSource.sqsQueue(this.queue),
      // Each worker takes about 20 messages of the backlog.
      policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.QUEUE_MESSAGES, targetPerTask: 20 }),
      minTasks: 0,
      maxTasks: 50,
      // Back to zero once the queue has stayed empty (nothing in flight) for the window.
      disableScaleIn: false,
      scaleInWindow: Duration.minutes(5),
    });

    for (const resource of [vpc, cluster]) resource.applyRemovalPolicy(RemovalPolicy.DESTROY);
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'An example worker with no secret in its environment.',
    });
  }
}
