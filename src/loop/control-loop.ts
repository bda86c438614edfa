import { ArnFormat, CfnElement, Duration, Lazy, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { controlLoopDefinition } from './state-machine-definition';
import { scaleCallWorstCaseSeconds } from '../controller/act/scale-call-limits';
import { LoopConfig, LOOP_CONFIG_ENV } from '../controller/loop-config';
import { TickFunction } from '../controller/tick-function';
import { acknowledgeNagFindings } from '../nag-acknowledgments';

/** The longest an Express execution may run. */
export const EXPRESS_MAX_SECONDS = 300;

/** How often the schedule starts a run (EventBridge Scheduler's shortest rate). */
export const SCHEDULE_PERIOD_SECONDS = 60;

/**
 * The longest a run drives the loop. Runs start every minute and each lives several
 * minutes: a newer run takes the lease and the older one ends at its next tick (so the
 * overlap costs one tick in steady state), while a start that is lost or late leaves the
 * older run ticking until a newer one arrives.
 */
export const RUN_SECONDS = 230;

/** The controller Lambda's timeout: a tick normally takes well under the interval. */
export function tickTimeoutSeconds(intervalSeconds: number): number {
  return Math.max(10, 2 * intervalSeconds);
}

/**
 * How long a run drives the loop at this interval: as long as possible while what may
 * follow its last tick still ends inside Express's five minutes. After the deadline a run
 * may still finish that tick (its timeout and two Lambda retries, a late scale call included).
 */
export function runSecondsFor(intervalSeconds: number): number {
  const afterLastTick = tickTimeoutSeconds(intervalSeconds) + 3 + Math.ceil(scaleCallWorstCaseSeconds()) + 3;
  const fits = Math.floor((EXPRESS_MAX_SECONDS - afterLastTick) / 10) * 10;
  return Math.min(RUN_SECONDS, fits);
}

/**
 * Concurrent ticks the controller may need: one per live run when every tick fails (runs
 * then do not yield: no lease changes hands), plus a successor being started.
 */
export const DEFAULT_RESERVED_CONCURRENCY = Math.ceil(RUN_SECONDS / SCHEDULE_PERIOD_SECONDS) + 1;

export interface ControlLoopProps {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly intervalSeconds: number;
  readonly logRetention: logs.RetentionDays;
  readonly stateMachineLogLevel: sfn.LogLevel;
  /** Executions reserved for the controller, or none. */
  readonly reservedConcurrency?: number;
  /** The controller Lambda's memory in MB (its CPU share follows), asked for once every service has joined. */
  readonly memorySize: () => number;
  /** Encrypts the table, the log groups, the dead-letter queue and the controller's environment. */
  readonly encryptionKey?: kms.IKey;
  /**
   * Where the services are listed: in the controller's environment (a FastAutoscaler's own
   * loop), or one SSM parameter per service under a path of the loop's (a shared loop, which
   * services of other stacks join without the loop's stack naming them).
   */
  readonly registry: 'inline' | 'ssm';
  /** Publish the loop's own tick count (for its "stopped" alarm). */
  readonly loopMetrics: boolean;
}

/**
 * The control loop: a state table, the tick Lambda, the Express state machine that ticks,
 * and the schedule that starts a run every minute. Services join it (see loop-membership.ts):
 * each brings its own configuration, IAM statements and security-group rule.
 */
export class ControlLoop extends Construct {
  public readonly table: dynamodb.Table;
  public readonly function: lambda.Function;
  public readonly stateMachine: sfn.StateMachine;
  public readonly schedule: scheduler.Schedule;
  public readonly securityGroup: ec2.SecurityGroup;
  /** Receives the scheduled starts that EventBridge Scheduler could not deliver. */
  public readonly deadLetterQueue: sqs.Queue;
  public readonly vpc: ec2.IVpc;
  public readonly intervalSeconds: number;
  public readonly encryptionKey?: kms.IKey;
  /** The loop's name: its lease, its metrics' `Loop` dimension, its registry path. */
  public readonly loopName: string;
  /** Under the SSM registry: the path each service's parameter is written under. */
  public readonly registryPath?: string;
  /** Under the SSM registry: the IAM path of each joined service's role, which the controller may assume. */
  public readonly serviceRolePath?: string;
  /** The controller's role, which each service's statements are attached to. */
  public readonly controllerRole: iam.IRole;
  private readonly inlineServices: Array<Record<string, unknown>> = [];
  private readonly maxTasksOfServices: number[] = [];

  constructor(scope: Construct, id: string, props: ControlLoopProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.vpc = props.vpc;
    this.intervalSeconds = props.intervalSeconds;
    this.encryptionKey = props.encryptionKey;
    const key = props.encryptionKey;
    this.loopName = Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });
    this.registryPath = props.registry === 'ssm' ? `/fast-autoscaler/${this.loopName}` : undefined;
    this.serviceRolePath = props.registry === 'ssm' ? `/fast-autoscaler/${this.loopName}/` : undefined;
    if (key) grantLogsUseOf(key, stack);
    const serviceRolePattern = this.serviceRolePath
      ? stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `${this.serviceRolePath.slice(1)}*` })
      : undefined;

    // The controller's memory across runs: losing it costs one scale-in window of
    // history, nothing more, so the table is disposable.
    this.table = new dynamodb.Table(this, 'State', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      removalPolicy: RemovalPolicy.DESTROY,
      ...(key ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: key } : {}),
    });

    // The controller reaches the tasks' status port (each service adds its rule) and the AWS APIs, nothing else.
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      // EC2 accepts no apostrophe in a security group description (cfn-lint E3031).
      description: 'fast-autoscaler controller: reads the status port of the tasks',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs (ECS, DynamoDB) over HTTPS');

    const config = (): LoopConfig => ({
      loop: this.loopName,
      table: this.table.tableName,
      intervalSeconds: props.intervalSeconds,
      runSeconds: runSecondsFor(props.intervalSeconds),
      loopMetrics: props.loopMetrics,
      ...(this.registryPath ? { registryPath: this.registryPath } : { services: this.inlineServices }),
    });
    this.function = new TickFunction(this, 'Function', {
      description: 'fast-autoscaler: scrapes every task, decides, remembers',
      architecture: lambda.Architecture.ARM_64,
      memorySize: Lazy.number({ produce: () => props.memorySize() }),
      timeout: Duration.seconds(tickTimeoutSeconds(props.intervalSeconds)),
      // A surge that exhausts the account's concurrency is exactly when the controller must run.
      reservedConcurrentExecutions: props.reservedConcurrency,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [this.securityGroup],
      environment: { [LOOP_CONFIG_ENV]: Lazy.string({ produce: () => stack.toJsonString(config()) }) },
      environmentEncryption: key,
      // Lambda's own START, END and REPORT lines, one set a tick, would be most of the loop's
      // log bill at 1 s: JSON logs at WARN for the platform leave them out (the function's
      // duration stays in Lambda's own metrics). The controller logs at INFO what changed.
      loggingFormat: lambda.LoggingFormat.JSON,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      logGroup: new logs.LogGroup(this, 'FunctionLogs', {
        retention: props.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
        encryptionKey: key,
      }),
    });
    this.controllerRole = this.function.role!;
    this.table.grant(this.function, 'dynamodb:GetItem', 'dynamodb:PutItem');
    key?.grantEncryptDecrypt(this.function);
    if (this.registryPath) {
      this.function.addToRolePolicy(new iam.PolicyStatement({
        actions: ['ssm:GetParametersByPath'],
        resources: [stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: this.registryPath.slice(1) })],
      }));
      // Each joined service's own role, under the loop's IAM path: the controller acts on a
      // service only as that service's role allows.
      this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [serviceRolePattern!] }));
    }

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.EXPRESS,
      definitionBody: sfn.DefinitionBody.fromChainable(controlLoopDefinition(this, {
        tickFunction: this.function,
        intervalSeconds: props.intervalSeconds,
      })),
      timeout: Duration.seconds(EXPRESS_MAX_SECONDS),
      logs: {
        destination: new logs.LogGroup(this, 'StateMachineLogs', {
          // Step Functions' documented prefix: log groups under it need no entry in the account's
          // CloudWatch Logs resource policy, whose size limit accounts with many state machines hit.
          logGroupName: `/aws/vendedlogs/states/${stack.stackName}-${Names.uniqueId(this)}`,
          retention: props.logRetention,
          removalPolicy: RemovalPolicy.DESTROY,
          encryptionKey: key,
        }),
        level: props.stateMachineLogLevel,
        includeExecutionData: false,
      },
      tracingEnabled: false,
      ...(key ? { encryptionConfiguration: new sfn.CustomerManagedEncryptionConfiguration(key) } : {}),
    });
    // A run that gives up starts its successor. Granted in a policy of its own: the role's
    // default policy is a dependency of the state machine, which this one refers to.
    new iam.Policy(this, 'StartSuccessorPolicy', {
      roles: [this.stateMachine.role],
      statements: [new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachine.stateMachineArn] })],
    });

    // A start that EventBridge Scheduler could not deliver after its retries lands here.
    this.deadLetterQueue = new sqs.Queue(this, 'ScheduleDeadLetters', {
      ...(key ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key } : { encryption: sqs.QueueEncryption.SQS_MANAGED }),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // With a key, the schedule's role must use it to send to the dead-letter queue.
    const scheduleRole = key ? new iam.Role(this, 'ScheduleRole', { assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com') }) : undefined;
    if (scheduleRole) key!.grant(scheduleRole, 'kms:GenerateDataKey*', 'kms:Decrypt');
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'fast-autoscaler: starts one control-loop run a minute',
      schedule: scheduler.ScheduleExpression.rate(Duration.seconds(SCHEDULE_PERIOD_SECONDS)),
      target: new targets.StepFunctionsStartExecution(this.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({}),
        // A start that fails is retried: the older run still ticks meanwhile, and a late run
        // only takes over from it.
        retryAttempts: 5,
        maxEventAge: Duration.minutes(2),
        deadLetterQueue: this.deadLetterQueue,
        role: scheduleRole,
      }),
    });

    acknowledgeNagFindings(this, {
      table: this.table,
      controller: this.function,
      controllerCfn: this.function.node.defaultChild as CfnElement,
      stateMachine: this.stateMachine,
      deadLetterQueue: this.deadLetterQueue,
      serviceRolePattern,
    });
  }

  /** Lists a service in the controller's environment (a FastAutoscaler's own loop). */
  public addInlineService(entry: Record<string, unknown>): void {
    if (this.registryPath) throw new Error('this loop lists its services in SSM');
    this.inlineServices.push(entry);
  }

  /** Counts a joined service's maxTasks towards the controller's default memory. */
  public countTasks(maxTasks: number): void {
    this.maxTasksOfServices.push(maxTasks);
  }

  /** The sum of the joined services' maxTasks: what one tick may have to read. */
  public get totalMaxTasks(): number {
    return this.maxTasksOfServices.reduce((a, b) => a + b, 0);
  }
}

/**
 * CloudWatch Logs encrypts a log group only with a key whose policy lets the Logs service of
 * the region use it, for log groups of this account (AWS documents the statement). An imported
 * key's policy cannot be changed here: its owner must add the statement.
 */
function grantLogsUseOf(key: kms.IKey, stack: Stack): void {
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowCloudWatchLogsOfThisAccount',
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
    },
  }), /* allowNoOp */ true);
}
