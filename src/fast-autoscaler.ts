import { Duration, Lazy, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { MetricName } from './controller/controller-config';
import { ControllerMetric } from './controller/controller-metrics';
import { appContainerOf, metricSourceOf, propShapeErrors, policyErrors, propErrors } from './fast-autoscaler-checks';
import { FastAutoscalerProps } from './fast-autoscaler-props';
import { ControlLoop, DEFAULT_RESERVED_CONCURRENCY } from './loop/control-loop';
import { defaultControllerMemoryMb } from './loop/controller-memory';
import { joinLoop } from './loop/loop-membership';
import { AutoscalerMetrics } from './monitoring/autoscaler-metrics';
import { addAutoscalerMonitoring } from './monitoring/autoscaler-monitoring';
import { checkServiceInApp } from './service-coexistence';

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

  constructor(scope: Construct, id: string, props: FastAutoscalerProps) {
    super(scope, id);
    // Plain JavaScript (and a Python or Java caller passing null) reaches here without the type checker.
    const malformed = propShapeErrors(props);
    if (malformed.length > 0) throw new Error(`Invalid FastAutoscaler props:\n  ${malformed.join('\n  ')}`);
    const { service } = props;
    this.service = service;
    const taskDefinition = service.taskDefinition;
    const appContainer = appContainerOf(props);
    const minTasks = props.minTasks ?? 1;
    const maxTasks = props.maxTasks;
    const shared = props.loop ?? undefined;
    const interval = shared ? shared.interval : props.interval ?? Duration.seconds(3);
    const scaleInWindow = props.scaleInWindow ?? Duration.minutes(5);
    const maxFailedScrapeRatio = props.maxFailedScrapeRatio ?? 0.5;
    // 0 reserves none (as the deprecated `reserveControllerConcurrency: false` did).
    const reservedConcurrency = props.reserveControllerConcurrency === false ? 0
      : props.controllerReservedConcurrency ?? DEFAULT_RESERVED_CONCURRENCY;
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
      ...propErrors(this, props, {
        minTasks, maxTasks, interval, scaleInWindow, maxFailedScrapeRatio, reservedConcurrency, readsTasks: prepared.readsTasks,
      }),
    ];
    if (errors.length === 0) errors.push(...policyErrors(props, minTasks, maxTasks));
    if (errors.length > 0) {
      throw new Error(`Invalid FastAutoscaler props:\n  ${errors.join('\n  ')}`);
    }

    const policy = props.policy._render();
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
      reservedConcurrency: Token.isUnresolved(reservedConcurrency) || reservedConcurrency > 0 ? reservedConcurrency : undefined,
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
    const monitoring = addAutoscalerMonitoring(this, {
      metrics: this,
      service,
      maxTasks,
      recommendationCanExceedMaxTasks: policy.type !== 'steps',
      // A loop of its own: its alarms are the autoscaler's.
      ownLoop: shared ? undefined : { stateMachine: loop.stateMachine, deadLetterQueue: loop.deadLetterQueue },
      createAlarms: props.createAlarms ?? !shared,
      alarmAction: props.alarmAction,
      // A Prometheus metric is named by its series.
      dashboardLoadName: props.createDashboard
        ? (props.policy.metric._series ? `${policy.metric} ${props.policy.metric._series.name}` : policy.metric) : undefined,
    });
    this.stoppedTickingAlarm = monitoring.alarms?.stoppedTicking;
    this.failedScrapesAlarm = monitoring.alarms?.failedScrapes;
    this.heldAtMaxTasksAlarm = monitoring.alarms?.heldAtMaxTasks;
    this.runsGivingUpAlarm = monitoring.alarms?.runsGivingUp;
    this.startsDeadLetteredAlarm = monitoring.alarms?.startsDeadLettered;
    this.healthAlarm = monitoring.alarms?.health;
    this.alarms = monitoring.alarms?.all ?? [];
    this.dashboard = monitoring.dashboard;

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

    // Once the whole app is built: warnings on what the user may not intend, errors on what cannot work.
    this.node.addValidation({
      validate: () => checkServiceInApp(this, {
        service,
        appContainerName: appContainer.containerName,
        appPort: attached.targetPort ?? 0,
        statusPort,
        source: attached.config.type,
        scalesOnConnections: policy.metric === 'ACTIVE_CONNECTIONS',
        controllerSecurityGroup: this.controllerSecurityGroup,
      }),
    });
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

}
