import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ControlLoop, DEFAULT_RESERVED_CONCURRENCY } from './control-loop';
import { defaultControllerMemoryMb } from './controller-memory';
import { DIMENSION_LOOP, LOOP_TICKS, METRIC_NAMESPACE } from '../controller/controller-metrics';
import { AutoscalerAlarms } from '../monitoring/autoscaler-alarms';
import { checkDuration, checkWhole } from '../prop-checks';

/**
 * Properties of a ScalingLoop.
 */
export interface ScalingLoopProps {
  /**
   * The VPC of the services that join: the controller runs in it to read their tasks.
   */
  readonly vpc: ec2.IVpc;

  /**
   * How often the loop measures and decides, for every service at once. Whole seconds from 1 to 60.
   * @default Duration.seconds(3)
   */
  readonly interval?: Duration;

  /**
   * Where the controller Lambda runs: subnets that reach the tasks and, through a NAT
   * gateway or VPC endpoints, the ECS, DynamoDB and SSM APIs (and SNS and SQS when a service uses them).
   * @default - the VPC's private subnets with egress
   */
  readonly controllerSubnets?: ec2.SubnetSelection;

  /**
   * How long the controller's and state machine's logs are kept (each joined service's sidecar
   * keeps its logs as that service's `logRetention` says).
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What the state machine logs. ALL logs every state of every tick, which costs more than
   * the rest of the loop together.
   * @default sfn.LogLevel.ERROR
   */
  readonly stateMachineLogLevel?: sfn.LogLevel;

  /**
   * Concurrent executions reserved for the controller Lambda, so that a surge that uses up the
   * account's Lambda concurrency cannot throttle the loop when it is needed most. 0 reserves
   * none: the controller then competes with every other function of the account (an account
   * whose concurrency limit is below 105 cannot reserve any). Allowed: 0 to 1000.
   * @default 5
   */
  readonly reservedConcurrency?: number;

  /**
   * The controller Lambda's memory in MB, which sets its CPU share (one vCPU at 1,769 MB). A
   * tick reads every task of every service, so the default grows with the sum of the joined
   * services' `maxTasks`: 256 MB up to 200 tasks, 512 MB up to 1,000, 1,024 MB up to 2,500,
   * 1,769 MB beyond (bench/RESULTS.md). Whole MB from 128 to 10,240. The default is read
   * when the app is synthesized, from the services of this app: deploy the loop's stack again
   * when services join from other stacks, or set the memory here.
   * @default - sized from the joined services' `maxTasks`
   */
  readonly controllerMemorySize?: number;

  /**
   * A KMS key that encrypts what the loop stores: the state table, the controller's and state
   * machine's log groups, the state machine, the dead-letter queue, the controller's
   * environment, and the sidecars' log groups of the services that join. On a key this stack
   * owns, the loop lets CloudWatch Logs of this account and region use it; the policy of an
   * imported key must allow that already.
   * @default - AWS-owned or AWS-managed keys
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Create the loop's alarms: it stopped ticking, runs give up, scheduled starts are lost.
   * Each service has its own (see FastAutoscaler's `createAlarms`).
   * @default true
   */
  readonly createAlarms?: boolean;

  /**
   * What every loop alarm does when it fires and when it clears.
   * @default - no action
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

/**
 * One control loop for many services: a schedule, an Express state machine, the controller
 * Lambda, its state table, security group and dead-letter queue, paid for once. Services join
 * it with `new FastAutoscaler(this, 'Api', { service, policy, maxTasks, loop })`, from this
 * stack or from other stacks of the same account, region and VPC; each keeps its own policy,
 * bounds, metric source, scale-in, dry run, topic and alarms, and each service's failures
 * stay its own.
 */
export class ScalingLoop extends Construct {
  /** The Express state machine that runs the loop. */
  public readonly stateMachine: sfn.IStateMachine;
  /** The Lambda that ticks every service. */
  public readonly controllerFunction: lambda.IFunction;
  /** The controller's security group: each joined service lets it in on its status port. */
  public readonly controllerSecurityGroup: ec2.ISecurityGroup;
  /** The DynamoDB table of the loop's lease and each service's state. */
  public readonly stateTable: dynamodb.ITable;
  /** The schedule that starts a run every minute. */
  public readonly schedule: scheduler.ISchedule;
  /** Receives the scheduled starts EventBridge Scheduler could not deliver. */
  public readonly deadLetterQueue: sqs.IQueue;
  /** How often the loop ticks. */
  public readonly interval: Duration;
  /**
   * Fires when the loop did not tick for two minutes.
   * @default - undefined when `createAlarms` is false
   */
  public readonly stoppedTickingAlarm?: cloudwatch.IAlarm;
  /**
   * Fires when runs failed (gave up after failed ticks in a row) or timed out, two 5-minute periods running.
   * @default - undefined when `createAlarms` is false
   */
  public readonly runsGivingUpAlarm?: cloudwatch.IAlarm;
  /**
   * Fires when the schedule could not start a run, even after its retries.
   * @default - undefined when `createAlarms` is false
   */
  public readonly startsDeadLetteredAlarm?: cloudwatch.IAlarm;
  /** Every loop alarm above; empty when `createAlarms` is false. */
  public readonly alarms: cloudwatch.IAlarm[];

  /** @internal */
  public readonly _loop: ControlLoop;

  constructor(scope: Construct, id: string, props: ScalingLoopProps) {
    super(scope, id);
    if (props?.vpc === undefined || props?.vpc === null) throw new Error('Invalid ScalingLoop props:\n  `vpc` is required');
    const interval = props.interval ?? Duration.seconds(3);
    const reserved = props.reservedConcurrency ?? DEFAULT_RESERVED_CONCURRENCY;
    const errors = [
      ...checkDuration('interval', interval, 1, 60),
      ...checkWhole('reservedConcurrency', reserved, 0, 1000),
      ...(props.controllerMemorySize !== undefined ? checkWhole('controllerMemorySize', props.controllerMemorySize, 128, 10240) : []),
    ];
    if (errors.length > 0) throw new Error(`Invalid ScalingLoop props:\n  ${errors.join('\n  ')}`);
    this.interval = interval;

    const loop: ControlLoop = new ControlLoop(this, 'ControlLoop', {
      vpc: props.vpc,
      vpcSubnets: props.controllerSubnets,
      intervalSeconds: interval.toSeconds(),
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      stateMachineLogLevel: props.stateMachineLogLevel ?? sfn.LogLevel.ERROR,
      reservedConcurrency: Token.isUnresolved(reserved) || reserved > 0 ? reserved : undefined,
      memorySize: (): number => props.controllerMemorySize ?? defaultControllerMemoryMb(Math.max(1, loop.totalMaxTasks)),
      encryptionKey: props.encryptionKey,
      registry: 'ssm',
      loopMetrics: props.createAlarms ?? true,
    });
    this._loop = loop;
    this.stateMachine = loop.stateMachine;
    this.controllerFunction = loop.function;
    this.controllerSecurityGroup = loop.securityGroup;
    this.stateTable = loop.table;
    this.schedule = loop.schedule;
    this.deadLetterQueue = loop.deadLetterQueue;

    if (props.createAlarms ?? true) {
      const alarms = new AutoscalerAlarms(this, 'Alarms', {
        loop: {
          stateMachine: loop.stateMachine,
          deadLetterQueue: loop.deadLetterQueue,
          ticks: this.metricTicks({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(1) }),
        },
        action: props.alarmAction,
        subject: `fast-autoscaler loop ${this.node.path}`,
      });
      this.stoppedTickingAlarm = alarms.stoppedTicking;
      this.runsGivingUpAlarm = alarms.runsGivingUp;
      this.startsDeadLetteredAlarm = alarms.startsDeadLettered;
      this.alarms = alarms.all;
    } else {
      this.alarms = [];
    }
  }

  /**
   * The loop's ticks: one data point of 1 for each tick that ran (whatever became of each
   * service). Published only while `createAlarms` is true (its "stopped ticking" alarm reads it).
   * @default - Sum over 1 minute
   */
  public metricTicks(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: LOOP_TICKS,
      dimensionsMap: { [DIMENSION_LOOP]: this._loop.loopName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(1),
      label: 'Loop ticks',
      ...props,
    }).attachTo(this);
  }
}
