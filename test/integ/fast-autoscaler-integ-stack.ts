import * as path from 'path';
import { Duration, RemovalPolicies, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FastAutoscaler, ScalingMetric, ScalingPolicy } from '../../src';
import { acknowledgeFinding } from '../../src/nag-acknowledgments';

/**
 * The load the test puts on the service, and what the autoscaler is told to do with it. Every
 * figure the assertions depend on is here, so that docs/verification.md and the assertions agree.
 */
export const LOAD = {
  /** Keep-alive connections the load generator holds through the load balancer. */
  connections: 10,
  /** Paced requests per second on each connection: 200 a second in all. */
  requestsPerSecondPerConnection: 20,
  /** How long the load lasts. */
  loadSeconds: 180,
  /**
   * How long the generator waits after the load before it reports: longer than the load
   * balancer's idle timeout (60 s) plus the default scale-in window (5 minutes), so that an
   * autoscaler that scaled in would have done so by then.
   */
  quietSeconds: 60 + 300 + 60,
  /** Requests a task is meant to carry: 200 a second asks for 10 tasks, clamped to maxTasks. */
  targetPerTask: 20,
  minTasks: 1,
  maxTasks: 3,
} as const;

/**
 * The system under test: a small Fargate service (one nginx task of 0.25 vCPU and 512 MiB) behind
 * an internet-facing ALB, wrapped by a FastAutoscaler with its default props apart from the policy
 * and the bounds (so scale-in is off), notifying an SNS topic that an SQS queue listens to; and a
 * Lambda function that puts load on the service through the ALB. Everything is destroyed with the
 * stack.
 */
export class FastAutoscalerIntegStack extends Stack {
  public readonly service: ecs.FargateService;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly loadGenerator: lambda.Function;
  /** Subscribed to the autoscaler's topic (raw message delivery). */
  public readonly notifications: sqs.Queue;
  /** Where the load generator reports that its load and the quiet period after it are over. */
  public readonly progress: sqs.Queue;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      flowLogs: { all: { trafficType: ec2.FlowLogTrafficType.REJECT } },
    });
    // Container Insights off explicitly, whatever the account's default: its log group would outlive the stack.
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.DISABLED });

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', { cpu: 256, memoryLimitMiB: 512 });
    taskDefinition.addContainer('web', {
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:1.28-alpine'),
      portMappings: [{ containerPort: 80 }],
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'web', logGroup: this.logGroup('WebLogs') }),
    });
    // desiredCount is left unset: ECS starts one task and the autoscaler owns the count.
    this.service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition,
      minHealthyPercent: 100,
      circuitBreaker: { rollback: true },
    });

    const topic = new sns.Topic(this, 'ScalingEvents', { enforceSSL: true });
    this.notifications = this.queue('Notifications');
    topic.addSubscription(new subscriptions.SqsSubscription(this.notifications, { rawMessageDelivery: true }));
    this.progress = this.queue('Progress');

    const autoscaler = new FastAutoscaler(this, 'Autoscaler', {
      service: this.service,
      policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.REQUESTS_PER_SECOND, targetPerTask: LOAD.targetPerTask }),
      minTasks: LOAD.minTasks,
      maxTasks: LOAD.maxTasks,
      topic,
      logRetention: logs.RetentionDays.ONE_DAY,
    });

    const alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', { vpc, internetFacing: true, dropInvalidHeaderFields: true });
    const listener = alb.addListener('Http', { port: 80 });
    this.targetGroup = listener.addTargets('Web', {
      port: 80,
      targets: [autoscaler.loadBalancerTarget],
      healthCheck: { path: '/', interval: Duration.seconds(10), healthyThresholdCount: 2 },
      deregistrationDelay: Duration.seconds(10),
    });

    const runSeconds = LOAD.loadSeconds + LOAD.quietSeconds;
    this.loadGenerator = new lambda.Function(this, 'LoadGenerator', {
      // Pinned like the controller's runtime, so that the snapshot does not churn.
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.join(__dirname, 'load-generator')),
      memorySize: 512,
      timeout: Duration.seconds(runSeconds + 120),
      // One load, one report: a failed run is not started again behind the assertions' back.
      retryAttempts: 0,
      logGroup: this.logGroup('LoadGeneratorLogs'),
      environment: {
        TARGET_URL: `http://${alb.loadBalancerDnsName}/`,
        CONNECTIONS: String(LOAD.connections),
        REQUESTS_PER_SECOND_PER_CONNECTION: String(LOAD.requestsPerSecondPerConnection),
        LOAD_SECONDS: String(LOAD.loadSeconds),
        QUIET_SECONDS: String(LOAD.quietSeconds),
        PROGRESS_QUEUE_URL: this.progress.queueUrl,
      },
    });
    this.progress.grantSendMessages(this.loadGenerator);

    // Nothing outlives `cdk destroy`: every resource of the stack is deleted with it (log
    // groups included; no Lambda function writes to a log group the stack does not own).
    RemovalPolicies.of(this).destroy();

    // The test's own choices, each acknowledged with its reason (cdk-nag AwsSolutions).
    const ack = (on: Construct, rule: string, reason: string) => Validations.of(on).acknowledge({ id: rule, reason });
    ack(alb, 'AwsSolutions-ELB2', 'A test ALB that lives for minutes: access logs would need a bucket that outlives `cdk destroy`.');
    ack(alb, 'AwsSolutions-EC23', 'The load generator runs outside the VPC and reaches the ALB over the internet, on port 80.');
    ack(topic, 'AwsSolutions-SNS2', 'The topic carries scaling notices only (service name, task counts): nothing to encrypt with a customer key.');
    ack(cluster, 'AwsSolutions-ECS4', 'Container Insights writes to a log group outside the stack, which would outlive `cdk destroy`.');
    ack(taskDefinition, 'AwsSolutions-ECS2',
      'The only environment variable is the proxy\'s nginx configuration, which the construct writes; it holds no secret.');
    ack(this.loadGenerator, 'AwsSolutions-L1', 'The runtime is pinned, as the controller\'s is, so that the committed snapshot does not churn.');
    if (this.loadGenerator.role) {
      acknowledgeFinding(this.loadGenerator.role,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'CDK attaches the AWS-managed basic execution policy to the function it creates a role for; the function writes only to its own log group.');
    }
  }

  private logGroup(id: string): logs.LogGroup {
    return new logs.LogGroup(this, id, { retention: logs.RetentionDays.ONE_DAY, removalPolicy: RemovalPolicy.DESTROY });
  }

  private queue(id: string): sqs.Queue {
    const queue = new sqs.Queue(this, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.hours(1),
    });
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'Only the test\'s assertions read this queue, and they never delete a message: a dead-letter queue would receive nothing.',
    });
    return queue;
  }
}
