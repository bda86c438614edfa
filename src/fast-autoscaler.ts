import { Annotations, Duration, Lazy, Size, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { MetricName, QUEUE_SETTLE_SECONDS, SourceType } from './controller/controller-config';
import { ControllerMetric } from './controller/controller-metrics';
import { ControlLoop, DEFAULT_RESERVED_CONCURRENCY } from './loop/control-loop';
import { defaultControllerMemoryMb } from './loop/controller-memory';
import { joinLoop, membershipErrors } from './loop/loop-membership';
import { ScalingLoop } from './loop/scaling-loop';
import { MetricSource } from './metric-sources/metric-source';
import { proxyTargetGroupErrors } from './metric-sources/proxy-sidecar';
import { multiplexedTargetGroups } from './metric-sources/target-groups';
import { AutoscalerAlarms } from './monitoring/autoscaler-alarms';
import { AutoscalerDashboard } from './monitoring/autoscaler-dashboard';
import { AutoscalerMetrics } from './monitoring/autoscaler-metrics';
import { checkDuration, checkRatio, checkWhole, safeSeconds } from './prop-checks';
import { ScalingPolicy } from './scaling-policy';
import { applicationAutoScalingTargets, securityGroupsWithoutRule } from './service-coexistence';


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
   * See "Choosing a metric source" in the README.
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
   * up, scheduled starts are lost (what each means: the README, "Alarms"). They are the
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
   * The default covers every run that may be alive at once. Allowed: 1 to 1000; the account
   * must keep at least 100 executions unreserved.
   * @default 5
   */
  readonly controllerReservedConcurrency?: number;

  /**
   * Reserve concurrency for the controller at all. Lambda refuses a reservation that leaves
   * the account fewer than 100 unreserved executions, so an account whose concurrency limit
   * is below 100 + 5 per autoscaler (new accounts may start at 10) cannot deploy one:
   * `false` deploys without a reservation, and the controller then competes with every
   * other function in the account during a surge.
   * @default true
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

/**
 * Scales an ECS Fargate service out within seconds of a traffic surge.
 *
 * Reads each task's load where the metric source says (by default an nginx reverse-proxy
 * sidecar's stub_status), with a Lambda that reads every task and an Express state machine,
 * started every minute, that ticks every few seconds, decides, calls ECS UpdateService and
 * then notifies.
 */
export class FastAutoscaler extends Construct {
  /** The proxy's container, under the nginx proxy source. */
  private readonly proxy?: ecs.ContainerDefinition;

  /**
   * The task agent's container.
   * @default - undefined unless the metric source is the task agent
   */
  public readonly agentContainer?: ecs.ContainerDefinition;

  /** The container and port the load balancer should target. */
  private readonly target: { readonly containerName: string; readonly containerPort?: number };
  private targetMade?: ecs.IEcsLoadBalancerTarget;

  /**
   * The Express state machine that runs the control loop.
   */
  public readonly stateMachine: sfn.IStateMachine;

  /**
   * The Lambda that scrapes the tasks and decides.
   */
  public readonly controllerFunction: lambda.IFunction;

  /**
   * The controller's security group: it alone may reach the tasks' status port.
   */
  public readonly controllerSecurityGroup: ec2.ISecurityGroup;

  /**
   * The DynamoDB table that holds the controller's state.
   */
  public readonly stateTable: dynamodb.ITable;

  /**
   * The schedule that starts a control-loop run every minute.
   */
  public readonly schedule: scheduler.ISchedule;

  /**
   * Fires when no control-loop tick measured the service for two minutes (missing data breaches).
   * @default - undefined when `createAlarms` is false
   */
  public readonly stoppedTickingAlarm?: cloudwatch.IAlarm;

  /**
   * Fires when a fifth or more of the tasks' status reads failed every minute for five minutes.
   * @default - undefined when `createAlarms` is false
   */
  public readonly failedScrapesAlarm?: cloudwatch.IAlarm;

  /**
   * Fires when the load asked for more than `maxTasks` every minute for five minutes.
   * @default - undefined when `createAlarms` is false, or for a step policy (its table never
   *   asks for more than `maxTasks`)
   */
  public readonly heldAtMaxTasksAlarm?: cloudwatch.IAlarm;

  /**
   * Fires when a control-loop run failed (gave up after failures in a row) or timed out.
   * @default - undefined when `createAlarms` is false, or in a shared loop (the loop's)
   */
  public readonly runsGivingUpAlarm?: cloudwatch.IAlarm;

  /**
   * Fires when the schedule could not start a run, even after its retries.
   * @default - undefined when `createAlarms` is false, or in a shared loop (the loop's)
   */
  public readonly startsDeadLetteredAlarm?: cloudwatch.IAlarm;

  /**
   * In a shared loop: fires when most of this service's ticks were degraded (failed, could not
   * see the service, read too few tasks, could not scale, or the load asked for more than
   * `maxTasks`) or missing, three minutes running.
   * @default - undefined on a loop of its own (its detailed alarms cover the same)
   */
  public readonly healthAlarm?: cloudwatch.IAlarm;

  /**
   * Every alarm above, for a composite alarm or your own dashboard; empty when
   * `createAlarms` is false.
   */
  public readonly alarms: cloudwatch.IAlarm[];

  /**
   * The autoscaler's dashboard.
   * @default - undefined unless `createDashboard` is true
   */
  public readonly dashboard?: cloudwatch.Dashboard;

  /** Builds every `metricX()` with the dimensions the controller emits. */
  private readonly controllerMetrics: AutoscalerMetrics;

  /** The scaled service. */
  private readonly service: ecs.BaseService;

  /** Whether the policy scales on connections (a warning for multiplexed target groups). */
  private readonly scalesOnConnections: boolean;

  constructor(scope: Construct, id: string, props: FastAutoscalerProps) {
    super(scope, id);
    // Plain JavaScript (and a Python or Java caller passing null) reaches here without the type checker.
    const missing = (['service', 'policy', 'maxTasks'] as const).filter(k => props?.[k] === undefined || props?.[k] === null);
    if (missing.length > 0) {
      throw new Error(`Invalid FastAutoscaler props:\n  ${missing.map(k => `\`${k}\` is required`).join('\n  ')}`);
    }
    const { service } = props;
    this.service = service;
    const taskDefinition = service.taskDefinition;

    if (taskDefinition.networkMode !== ecs.NetworkMode.AWS_VPC || !taskDefinition.isFargateCompatible) {
      throw new Error(
        `\`service\` must run a Fargate-compatible task definition in the awsvpc network mode, got network mode ${taskDefinition.networkMode}${taskDefinition.isFargateCompatible ? '' : ' and no FARGATE compatibility'}`,
      );
    }

    const appContainer = props.appContainer ?? taskDefinition.defaultContainer;
    if (!appContainer) {
      throw new Error('`appContainer` is required: the task definition of `service` has no default container');
    }
    const minTasks = props.minTasks ?? 1;
    const maxTasks = props.maxTasks;
    const shared = props.loop ?? undefined;
    // Plain JavaScript may pass anything here.
    if (shared && !(shared as { _loop?: unknown })._loop) {
      throw new Error(`Invalid FastAutoscaler props:\n  \`loop\` must be a ScalingLoop, got ${JSON.stringify(shared)}`);
    }
    const interval = shared ? shared.interval : props.interval ?? Duration.seconds(3);
    const scaleInWindow = props.scaleInWindow ?? Duration.minutes(5);
    const maxFailedScrapeRatio = props.maxFailedScrapeRatio ?? 0.5;
    const reservedConcurrency = props.controllerReservedConcurrency ?? DEFAULT_RESERVED_CONCURRENCY;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const encryptionKey = shared ? shared._loop.encryptionKey : props.encryptionKey;
    const { source, errors: sourceErrors } = metricSourceOf(props);
    const prepared = source._prepare({
      scope: this,
      taskDefinition,
      appContainer,
      appPort: props.appPort,
      metric: props.policy.metric.name as MetricName,
      series: props.policy.metric._series,
      logRetention,
      encryptionKey,
    });

    const errors = [
      ...sourceErrors,
      ...prepared.errors,
      ...(shared ? loopOwnedPropErrors(props) : []),
      ...(shared ? membershipErrors(this, shared._loop, service) : []),
      ...(minTasks === 0 && prepared.readsTasks
        ? ['`minTasks` must be a whole number from 1 to 5000, got 0: the metric source reads the running tasks, so with none running the autoscaler could never scale out again (MetricSource.sqsQueue() reads without tasks and allows 0)']
        : checkWhole('minTasks', minTasks, prepared.readsTasks ? 1 : 0, 5000)),
      ...(!prepared.readsTasks && !(props.disableScaleIn ?? true) && (safeSeconds(scaleInWindow) ?? QUEUE_SETTLE_SECONDS) < QUEUE_SETTLE_SECONDS
        ? [`\`scaleInWindow\` must be at least ${QUEUE_SETTLE_SECONDS} seconds with a queue and scale-in on, got ${scaleInWindow.toHumanString()}: SQS's approximate counts may take a minute to settle after producers stop`]
        : []),
      ...checkWhole('maxTasks', maxTasks, 1, 5000),
      ...(props.maxScaleOutStep !== undefined ? checkWhole('maxScaleOutStep', props.maxScaleOutStep, 1, 5000) : []),
      ...checkDuration('interval', interval, 1, 60),
      ...checkDuration('scaleInWindow', scaleInWindow, Math.max(1, safeSeconds(interval) ?? 1), 3600),
      ...checkRatio('maxFailedScrapeRatio', maxFailedScrapeRatio),
      ...checkWhole('controllerReservedConcurrency', reservedConcurrency, 1, 1000),
      ...(props.reserveControllerConcurrency === false && props.controllerReservedConcurrency !== undefined
        ? [`\`controllerReservedConcurrency\` (${props.controllerReservedConcurrency}) must not be set when \`reserveControllerConcurrency\` is false`]
        : []),
      ...(props.controllerMemorySize !== undefined ? checkWhole('controllerMemorySize', props.controllerMemorySize, 128, 10240) : []),
      ...(props.topic?.fifo
        ? [`\`topic\` must be a standard SNS topic, got the FIFO topic ${props.topic.node.path}: FIFO topics need a message group id on every publish, which the autoscaler's notifications do not carry`]
        : []),
    ];
    if (!Token.isUnresolved(minTasks) && !Token.isUnresolved(maxTasks) && minTasks > maxTasks) {
      errors.push(`\`minTasks\` (${minTasks}) must not be above \`maxTasks\` (${maxTasks})`);
    }
    if (errors.length === 0 && !Token.isUnresolved(minTasks) && !Token.isUnresolved(maxTasks)) {
      errors.push(...props.policy._validate(minTasks, maxTasks));
    }
    if (errors.length > 0) {
      throw new Error(`Invalid FastAutoscaler props:\n  ${errors.join('\n  ')}`);
    }

    const policy = props.policy._render();
    this.scalesOnConnections = policy.metric === 'ACTIVE_CONNECTIONS';
    // Only now, with every prop checked, does the task definition change.
    const attached = prepared.attach();
    const statusPort = attached.statusPort;
    if (attached.config.type === 'nginxProxy') this.proxy = attached.sidecar;
    if (attached.config.type === 'taskAgent') this.agentContainer = attached.sidecar;
    this.target = { containerName: attached.targetContainerName, containerPort: attached.targetPort };

    const loop = shared?._loop ?? new ControlLoop(this, 'ControlLoop', {
      vpc: service.cluster.vpc,
      vpcSubnets: props.controllerSubnets,
      intervalSeconds: interval.toSeconds(),
      logRetention,
      stateMachineLogLevel: props.stateMachineLogLevel ?? sfn.LogLevel.ERROR,
      reservedConcurrency: props.reserveControllerConcurrency === false ? undefined : reservedConcurrency,
      memorySize: () => props.controllerMemorySize ?? defaultControllerMemoryMb(maxTasks),
      encryptionKey,
      registry: 'inline',
      loopMetrics: false,
    });
    this.stateMachine = loop.stateMachine;
    this.controllerFunction = loop.function;
    this.controllerSecurityGroup = loop.securityGroup;
    this.stateTable = loop.table;
    this.schedule = loop.schedule;

    this.controllerMetrics = new AutoscalerMetrics(this, service.cluster.clusterName, service.serviceName);
    const createAlarms = props.createAlarms ?? !shared;
    if (createAlarms || shared) {
      const alarms = new AutoscalerAlarms(this, 'Alarms', {
        service: {
          metrics: this,
          maxTasks,
          recommendationCanExceedMaxTasks: policy.type !== 'steps',
          detailed: createAlarms,
          health: !!shared,
        },
        // A loop of its own: its alarms are the autoscaler's.
        loop: !shared && createAlarms ? { stateMachine: loop.stateMachine, deadLetterQueue: loop.deadLetterQueue } : undefined,
        action: props.alarmAction,
        subject: `fast-autoscaler of ECS service ${service.serviceName} (cluster ${service.cluster.clusterName})`,
      });
      this.stoppedTickingAlarm = alarms.stoppedTicking;
      this.failedScrapesAlarm = alarms.failedScrapes;
      this.heldAtMaxTasksAlarm = alarms.heldAtMaxTasks;
      this.runsGivingUpAlarm = alarms.runsGivingUp;
      this.startsDeadLetteredAlarm = alarms.startsDeadLettered;
      this.healthAlarm = alarms.health;
      this.alarms = alarms.all;
    } else {
      this.alarms = [];
    }
    if (!createAlarms && props.alarmAction && !shared) {
      Annotations.of(this).addWarningV2('cdk-fast-autoscaler:alarmActionUnused',
        '`alarmAction` is set but `createAlarms` is false: no alarm will ever run it.');
    }
    if (props.createDashboard ?? false) {
      this.dashboard = new AutoscalerDashboard(this, 'Dashboard', {
        metrics: this,
        // A Prometheus metric is named by its series.
        loadName: props.policy.metric._series ? `${policy.metric} ${props.policy.metric._series.name}` : policy.metric,
        maxTasks,
        alarms: this.alarms,
        title: `fast-autoscaler: ${this.node.path}`,
      }).dashboard;
    }

    const asked = this.controllerMetrics.asked;
    joinLoop(this, loop, {
      service,
      statusPort,
      topic: props.topic,
      dryRun: props.dryRun ?? false,
      maxTasks,
      grantSource: attached.grantController,
      entry: {
        cluster: service.cluster.clusterArn,
        service: service.serviceName,
        policy,
        minTasks,
        maxTasks,
        maxScaleOutStep: props.maxScaleOutStep ?? maxTasks,
        scaleInEnabled: !(props.disableScaleIn ?? true),
        scaleInWindowSeconds: scaleInWindow.toSeconds(),
        maxFailedScrapeRatio,
        source: attached.config,
        statusPort,
        dryRun: props.dryRun ?? false,
        ...(props.topic ? { topicArn: props.topic.topicArn } : {}),
        // What the alarms, the dashboard and the user's own code read, known once the app is built.
        ...(props.publishAllMetrics ? {} : { publishMetrics: Lazy.list({ produce: () => [...asked].sort() }) }),
      },
    });

    this.node.addValidation({
      validate: () => this.warnAboutService(service, appContainer.containerName, attached.targetPort ?? 0, statusPort, attached.config.type),
    });
    if (attached.config.type === 'nginxProxy') {
      // A target group that speaks TLS, HTTP/2 or gRPC to the proxy can never work: an error, not a warning.
      this.node.addValidation({ validate: () => proxyTargetGroupErrors(service, attached.targetPort ?? 0) });
    }
  }

  /**
   * The proxy sidecar's container: the load balancer's target. Only under the nginx proxy
   * source (the default); under another, reading it is an error (see `agentContainer`).
   */
  public get proxyContainer(): ecs.ContainerDefinition {
    if (!this.proxy) throw new Error('`proxyContainer`: the metric source is not the nginx proxy, so there is no proxy container');
    return this.proxy;
  }

  /**
   * Attach this to a load balancer's target group: the proxy under the nginx proxy source
   * (so that the traffic passes what the autoscaler measures), else the app container on
   * `appPort`, which must then be one of its port mappings.
   */
  public get loadBalancerTarget(): ecs.IEcsLoadBalancerTarget {
    // Made when asked for: a service with no load balancer (a worker read through its own
    // metrics endpoint) needs no port mapping for it.
    const { containerName, containerPort } = this.target;
    if (containerPort === undefined) {
      throw new Error(`\`loadBalancerTarget\`: the container \`${containerName}\` has no port mapping to target; set \`appPort\` (a queue worker needs no load balancer)`);
    }
    this.targetMade ??= this.service.loadBalancerTarget({ containerName, containerPort });
    return this.targetMade;
  }

  /**
   * Any metric the controller emits for this service, with its dimensions.
   * @param metricName the metric's name, such as `Load`
   * @default - Average over 1 minute
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.controllerMetrics.metric(metricName, { statistic: cloudwatch.Stats.AVERAGE }, props);
  }

  /**
   * The load: the scaling metric summed over the tasks that gave a value, or the queue's
   * counted messages. Emitted on ticks where a task (or the queue) answered.
   * @default - Average over 1 minute
   */
  public metricLoad(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.controllerMetrics.metric(ControllerMetric.LOAD, { statistic: cloudwatch.Stats.AVERAGE, label: 'Load' }, props);
  }

  /**
   * The load per task that gave a value.
   * @default - Average over 1 minute
   */
  public metricLoadPerTask(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.controllerMetrics.metric(ControllerMetric.LOAD_PER_TASK, { statistic: cloudwatch.Stats.AVERAGE, label: 'Load per task' }, props);
  }

  /**
   * The tasks the load asks for under the policy: at least `minTasks`, and, unlike the
   * desired count, not capped at `maxTasks`.
   * @default - Maximum over 1 minute
   */
  public metricRecommendation(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.controllerMetrics.metric(ControllerMetric.RECOMMENDATION, { statistic: cloudwatch.Stats.MAXIMUM, label: 'Recommendation' }, props);
  }

  /**
   * The service's desired count after each tick (in a dry run, the unchanged one).
   * @default - Maximum over 1 minute
   */
  public metricDesiredTasks(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.controllerMetrics.metric(ControllerMetric.DESIRED_TASKS, { statistic: cloudwatch.Stats.MAXIMUM, label: 'Desired tasks' }, props);
  }

  /**
   * The tasks that serve (desired and last status RUNNING), as the controller saw them.
   * @default - Average over 1 minute
   */
  public metricRunningTasks(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.controllerMetrics.metric(ControllerMetric.RUNNING_TASKS, { statistic: cloudwatch.Stats.AVERAGE, label: 'Running tasks' }, props);
  }

  /**
   * The tasks on their way (PROVISIONING, PENDING, ACTIVATING), as the controller saw them.
   * @default - Average over 1 minute
   */
  public metricPendingTasks(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.controllerMetrics.metric(ControllerMetric.PENDING_TASKS, { statistic: cloudwatch.Stats.AVERAGE, label: 'Pending tasks' }, props);
  }

  /**
   * Scaling actions: 1 for each tick that scaled out or in (in a dry run, would have), 0 for
   * each that held.
   * @default - Sum over 1 minute
   */
  public metricScalingActions(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.controllerMetrics.metric(ControllerMetric.SCALING_ACTIONS, { statistic: cloudwatch.Stats.SUM, label: 'Scaling actions' }, props);
  }

  /**
   * The serving tasks whose status page a tick tried to read.
   * @default - Sum over 1 minute
   */
  public metricScrapedTasks(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.controllerMetrics.metric(ControllerMetric.TASKS_SCRAPED, { statistic: cloudwatch.Stats.SUM, label: 'Status reads' }, props);
  }

  /**
   * The status reads that gave no usable page (a timeout, a refused connection, not a
   * stub_status page, a task ECS listed but could not describe). Under the queue source, the
   * tick's one GetQueueAttributes when it failed.
   * @default - Sum over 1 minute
   */
  public metricFailedScrapes(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.controllerMetrics.metric(ControllerMetric.SCRAPES_FAILED, { statistic: cloudwatch.Stats.SUM, label: 'Failed status reads' }, props);
  }

  /**
   * How long the controller took for one tick, in milliseconds.
   * @default - Average over 1 minute
   */
  public metricTickDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.controllerMetrics.metric(ControllerMetric.TICK_DURATION, { statistic: cloudwatch.Stats.AVERAGE, label: 'Tick duration' }, props);
  }

  /**
   * Ticks that measured the service (asked ECS for its tasks and read them): one data point
   * of 1 each. No data means the loop stopped, or runs but cannot see the service.
   * @default - Sum over 1 minute
   */
  public metricTicks(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.controllerMetrics.metric(ControllerMetric.TICKS, { statistic: cloudwatch.Stats.SUM, label: 'Ticks' }, props);
  }

  /**
   * Degraded ticks: 1 for each tick of this service that could not do its job (it failed,
   * could not see the service, a fifth of its reads failed, its scale call failed, or the load
   * asked for more than `maxTasks`), 0 for each good one. The health alarm of a service in a
   * shared loop reads it.
   * @default - Average over 1 minute
   */
  public metricDegraded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.controllerMetrics.metric(ControllerMetric.DEGRADED, { statistic: cloudwatch.Stats.AVERAGE, label: 'Degraded ticks' }, props);
  }

  /**
   * Late checks, once the whole app is built: a fixed desired count and a load balancer
   * that bypasses the proxy are legal, but almost never what the user wants.
   */
  private warnAboutService(service: ecs.BaseService, appContainerName: string, appPort: number, statusPort: number, source: SourceType): string[] {
    const cfn = service.node.defaultChild as ecs.CfnService;
    if (cfn.desiredCount !== undefined) {
      Annotations.of(this).addWarningV2('cdk-fast-autoscaler:fixedDesiredCount',
        `The service sets \`desiredCount\` (${cfn.desiredCount}) in the template: every deployment resets what the autoscaler set. Leave \`desiredCount\` undefined on the service.`);
    }
    // The L1 property, resolved, in its camelCase (L1) form.
    const loadBalancers = Stack.of(this).resolve(cfn.loadBalancers) as ecs.CfnService.LoadBalancerProperty[] | undefined;
    for (const lb of source === 'nginxProxy' ? loadBalancers ?? [] : []) {
      if (lb.containerName === appContainerName) {
        Annotations.of(this).addWarningV2('cdk-fast-autoscaler:proxyBypassed',
          `A load balancer targets the app container \`${appContainerName}\` on port ${lb.containerPort ?? appPort} directly, bypassing the proxy: the autoscaler does not see that traffic. Use \`loadBalancerTarget\` instead.`);
      }
    }
    if (source === 'taskAgent' && this.scalesOnConnections) {
      for (const tg of multiplexedTargetGroups(service, appContainerName)) {
        Annotations.of(this).addWarningV2('cdk-fast-autoscaler:multiplexedConnections',
          `The target group ${tg.path} speaks ${tg.protocol} to the app: the load balancer multiplexes many requests on few connections, so ACTIVE_CONNECTIONS says little about the load. Scale on ScalingMetric.CPU_UTILIZATION, or on the app's own in-flight gauge with MetricSource.prometheus().`);
      }
    }
    for (const target of applicationAutoScalingTargets(service)) {
      Annotations.of(this).addWarningV2('cdk-fast-autoscaler:applicationAutoScaling',
        `Application Auto Scaling also sets this service's desired count (${target.node.path}). Both act on the same number: its scale-in, on its own metric, can undo this autoscaler's scale-out, and the two then flap; its scale-out only arrives later. To let them coexist, keep this autoscaler's \`disableScaleIn\` true (the default) so that Application Auto Scaling owns scale-in, and give its scalable target a MaxCapacity of at least \`maxTasks\`; otherwise remove one of them.`);
    }
    for (const sg of statusPort > 0 ? securityGroupsWithoutRule(service, this.controllerSecurityGroup, statusPort) : []) {
      Annotations.of(this).addWarningV2('cdk-fast-autoscaler:statusPortClosed',
        `The service's security group ${sg.node.path} takes no new rules (imported with \`mutable: false\`): the controller cannot be let in on the status port ${statusPort}, and every scrape would time out. Import it mutable, or add an ingress rule from \`controllerSecurityGroup\` on TCP ${statusPort} yourself and acknowledge this warning.`);
    }
    return [];
  }
}


/** The props a shared loop owns: set on the ScalingLoop, never on a service that joins it. */
const LOOP_OWNED_PROPS = {
  interval: 'interval',
  controllerSubnets: 'controllerSubnets',
  stateMachineLogLevel: 'stateMachineLogLevel',
  controllerReservedConcurrency: 'reservedConcurrency',
  reserveControllerConcurrency: 'reservedConcurrency (0 reserves none)',
  controllerMemorySize: 'controllerMemorySize',
  encryptionKey: 'encryptionKey',
} as const;

function loopOwnedPropErrors(props: FastAutoscalerProps): string[] {
  return (Object.keys(LOOP_OWNED_PROPS) as Array<keyof typeof LOOP_OWNED_PROPS>)
    .filter(k => props[k] !== undefined && props[k] !== null)
    .map(k => `\`${k}\` must not be set beside \`loop\`: the shared loop owns it (set \`${LOOP_OWNED_PROPS[k]}\` on the ScalingLoop)`);
}

/** The deprecated proxy props, by the name of their new home in `MetricSource.nginxProxy()`. */
const DEPRECATED_PROXY_PROPS = {
  proxyPort: 'proxyPort', statusPort: 'statusPort', proxyImage: 'image', proxyTimeout: 'timeout', proxyMaxRequestBodySize: 'maxRequestBodySize',
} as const;

/**
 * The metric source: `metricSource`, or the nginx proxy built from the deprecated top-level
 * proxy props (which keep working alone, never beside `metricSource`).
 */
function metricSourceOf(props: FastAutoscalerProps): { source: MetricSource; errors: string[] } {
  const legacy = (Object.keys(DEPRECATED_PROXY_PROPS) as Array<keyof typeof DEPRECATED_PROXY_PROPS>).filter(k => props[k] !== undefined);
  if (props.metricSource !== undefined && props.metricSource !== null) {
    // Plain JavaScript may pass anything here.
    if (typeof (props.metricSource as { _prepare?: unknown })._prepare !== 'function') {
      throw new Error(`Invalid FastAutoscaler props:\n  \`metricSource\` must be a MetricSource (MetricSource.nginxProxy(), taskAgent(), prometheus() or sqsQueue()), got ${JSON.stringify(props.metricSource)}`);
    }
    return {
      source: props.metricSource,
      errors: legacy.map(k => `\`${k}\` (deprecated) must not be set beside \`metricSource\`: pass it as MetricSource.nginxProxy({ ${DEPRECATED_PROXY_PROPS[k]} })`),
    };
  }
  return {
    source: MetricSource.nginxProxy({
      proxyPort: props.proxyPort,
      statusPort: props.statusPort,
      image: props.proxyImage,
      timeout: props.proxyTimeout,
      maxRequestBodySize: props.proxyMaxRequestBodySize,
    }),
    errors: [],
  };
}
