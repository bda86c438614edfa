import { Duration, Size } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ScalingLoop } from './loop/scaling-loop';
import { MetricSource } from './metric-sources/metric-source';
import { ScalingPolicy } from './scaling-policy';

/**
 * Properties of a FastAutoscaler.
 */
export interface FastAutoscalerProps {
  /**
   * The Fargate service to scale. Its task definition must use the awsvpc network mode
   * and be Fargate-compatible; the metric source's sidecar, if it has one (the proxy or the task agent), is added to it.
   */
  readonly service: ecs.BaseService;

  /**
   * How the measured load becomes a desired task count.
   */
  readonly policy: ScalingPolicy;

  /**
   * The most tasks the autoscaler ever asks for. Allowed: 1 to 5,000, and at least `minTasks`.
   */
  readonly maxTasks: number;

  /**
   * The fewest tasks the autoscaler ever asks for. Allowed: 1 to `maxTasks`, or 0 with
   * `MetricSource.sqsQueue()`, which reads the queue without tasks (the first message scales
   * the service out from zero). The other sources read the running tasks: with none running
   * the autoscaler could never scale out again.
   * @default 1
   */
  readonly minTasks?: number;

  /**
   * The most tasks one scale-out may add. Allowed: 1 or more.
   * @default - no limit below `maxTasks`: the service jumps straight to the desired count
   */
  readonly maxScaleOutStep?: number;

  /**
   * Where the controller reads each task's load: an nginx proxy in front of the app (the
   * original design), a task agent beside it, the app's own Prometheus endpoint, or an SQS
   * queue's backlog (read once for the service; the only source that allows `minTasks: 0`).
   * See docs/metric-sources.md.
   * @default MetricSource.nginxProxy()
   */
  readonly metricSource?: MetricSource;

  /**
   * The app's container: the proxy forwards to it, or the load balancer targets it directly.
   * @default - the task definition's default container
   */
  readonly appContainer?: ecs.ContainerDefinition;

  /**
   * The port the app container listens on: the proxy reaches it on 127.0.0.1, the load
   * balancer targets it directly under the other sources, and the task agent counts its
   * connections.
   * @default - the app container's first port mapping (for the task agent, its only one)
   */
  readonly appPort?: number;

  /**
   * The port the proxy listens on.
   * @default 8012
   * @deprecated use `metricSource: MetricSource.nginxProxy({ proxyPort })`
   */
  readonly proxyPort?: number;

  /**
   * The port on which the proxy's nginx stub_status answers.
   * @default 8022
   * @deprecated use `metricSource: MetricSource.nginxProxy({ statusPort })`
   */
  readonly statusPort?: number;

  /**
   * The proxy's image.
   * @default - `public.ecr.aws/nginx/nginx:1.30-alpine`
   * @deprecated use `metricSource: MetricSource.nginxProxy({ image })`
   */
  readonly proxyImage?: ecs.ContainerImage;

  /**
   * How long the proxy waits on a quiet request.
   * @default Duration.seconds(4200)
   * @deprecated use `metricSource: MetricSource.nginxProxy({ timeout })`
   */
  readonly proxyTimeout?: Duration;

  /**
   * The largest request body the proxy passes to the app.
   * @default - no limit
   * @deprecated use `metricSource: MetricSource.nginxProxy({ maxRequestBodySize })`
   */
  readonly proxyMaxRequestBodySize?: Size;

  /**
   * A shared loop to join instead of a loop of this autoscaler's own: one schedule, state
   * machine and controller for many services of one VPC, account and region, paid for once
   * (see ScalingLoop). It may live in another stack. The loop then owns the interval, the
   * controller's subnets, memory, concurrency and logs, and the encryption key; setting any of
   * those here is an error.
   * @default - a loop of this autoscaler's own
   */
  readonly loop?: ScalingLoop;

  /**
   * How often the controller measures and decides. Whole seconds from 1 to 60. In a shared
   * loop, the loop's `interval`.
   * @default Duration.seconds(3)
   */
  readonly interval?: Duration;

  /**
   * Never reduce the desired count: scale-in stays with you (or with another policy).
   * @default true
   */
  readonly disableScaleIn?: boolean;

  /**
   * How long the recommendation must stay lower before the autoscaler scales in. Whole
   * seconds from `interval` (60 s with `MetricSource.sqsQueue()`, whose counts may take a
   * minute to settle) to 1 hour; only used when `disableScaleIn` is false.
   * @default Duration.minutes(5)
   */
  readonly scaleInWindow?: Duration;

  /**
   * Decide, log and notify, but never change the service.
   * @default false
   */
  readonly dryRun?: boolean;

  /**
   * Receives a message on every scaling decision.
   * @default - no notifications
   */
  readonly topic?: sns.ITopic;

  /**
   * Create the alarms that tell when the autoscaler cannot do its job: the loop stopped
   * ticking, the tasks' status reads fail, the load asks for more than `maxTasks`, runs give
   * up, scheduled starts are lost (what each means and what to do: docs/operations.md, "Runbooks"). They are the
   * attributes `stoppedTickingAlarm` and so on. In a shared loop, the loop has the alarms on
   * runs and starts, and each service has a health alarm always (`healthAlarm`); this adds
   * the service's detailed three (stopped ticking, failed scrapes, held at maxTasks).
   * @default - true on a loop of its own, false in a shared loop
   */
  readonly createAlarms?: boolean;

  /**
   * Publish every metric the controller has for this service. By default it publishes only the
   * metrics something reads: the alarms, the dashboard, and any `metricX()` your own code
   * calls (each custom metric costs $0.30 a month).
   * @default false
   */
  readonly publishAllMetrics?: boolean;

  /**
   * What every alarm does when it fires and when it clears, such as
   * `new cloudwatch_actions.SnsAction(topic)`. Only used when `createAlarms` is true.
   * @default - no action: the alarms change state and nobody is told
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;

  /**
   * Create a CloudWatch dashboard that shows the load, the recommendation, the desired,
   * running and pending tasks with the scaling actions, the status reads, the tick duration
   * and the alarms on one page.
   * @default false
   */
  readonly createDashboard?: boolean;

  /**
   * The share of task scrapes (0 to 1) that may fail in one tick before the controller
   * holds instead of deciding on partial data.
   * @default 0.5
   */
  readonly maxFailedScrapeRatio?: number;

  /**
   * Where the controller Lambda runs: subnets that reach the tasks and, through a NAT
   * gateway or VPC endpoints, the ECS and DynamoDB APIs (and SQS under the queue source).
   * @default - the VPC's private subnets with egress
   */
  readonly controllerSubnets?: ec2.SubnetSelection;

  /**
   * How long the controller's and state machine's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What the state machine logs. ALL logs every state of every 3-second tick, which costs
   * more than the rest of the autoscaler together.
   * @default sfn.LogLevel.ERROR
   */
  readonly stateMachineLogLevel?: sfn.LogLevel;

  /**
   * Concurrent executions reserved for the controller Lambda, so that a surge that uses up
   * the account's Lambda concurrency cannot throttle the autoscaler when it is needed most.
   * The default covers every run that may be alive at once. Allowed: 0 to 1000, 0 reserving
   * none. Lambda refuses a reservation that leaves the account fewer than 100 unreserved
   * executions, so an account whose concurrency limit is below 100 + 5 per autoscaler (new
   * accounts may start at 10) needs 0; the controller then competes with every other
   * function in the account during a surge.
   * @default 5
   */
  readonly controllerReservedConcurrency?: number;

  /**
   * Reserve concurrency for the controller at all.
   * @default true
   * @deprecated use `controllerReservedConcurrency: 0` to reserve none
   */
  readonly reserveControllerConcurrency?: boolean;

  /**
   * The controller Lambda's memory in MB, which sets its CPU share (one vCPU at 1,769 MB).
   * A tick reads every task, so the default grows with `maxTasks`: 256 MB up to 200 tasks,
   * 512 MB up to 1,000, 1,024 MB up to 2,500, 1,769 MB beyond (measured in
   * bench/RESULTS.md). Whole MB from 128 to 10,240.
   * @default - sized from `maxTasks`
   */
  readonly controllerMemorySize?: number;

  /**
   * A KMS key that encrypts what the autoscaler stores: its state table, its log groups (the
   * sidecar's too), its state machine, its dead-letter queue and the controller's environment
   * (see ScalingLoop's `encryptionKey`). In a shared loop, the loop's key.
   * @default - AWS-owned or AWS-managed keys
   */
  readonly encryptionKey?: kms.IKey;
}
