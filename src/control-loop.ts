import { CfnElement, Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { controlLoopDefinition } from './control-loop-definition';
import { CONFIG_ENV, ControllerConfig } from './controller/controller-config';
import { scaleCallWorstCaseSeconds } from './controller/scale-call-limits';
import { TickFunction } from './controller/tick-function';
import { acknowledgeNagFindings } from './nag-acknowledgments';

/** The longest an Express execution may run. */
export const EXPRESS_MAX_SECONDS = 300;

/** How often the schedule starts a run (EventBridge Scheduler's shortest rate). */
export const SCHEDULE_PERIOD_SECONDS = 60;

/**
 * The longest a run drives the service. Runs start every minute and each lives several
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
 * How long a run drives the service at this interval: as long as possible while what may
 * follow its last tick still ends inside Express's five minutes. After the deadline a run
 * may still finish that tick (its timeout and two Lambda retries), a scale call (its
 * attempts and their backoff, see SCALE_CALL) and a notification (3 s).
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
  readonly service: ecs.BaseService;
  readonly config: Omit<ControllerConfig, 'cluster' | 'service' | 'table' | 'runSeconds'>;
  readonly topic?: sns.ITopic;
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly logRetention: logs.RetentionDays;
  readonly stateMachineLogLevel: sfn.LogLevel;
  /** The controller Lambda's reserved concurrency. */
  /** Executions reserved for the controller, or none. */
  readonly reservedConcurrency?: number;
  /** The controller Lambda's memory in MB (its CPU share follows). */
  readonly memorySize: number;
}

/**
 * The controller: a state table, the tick Lambda, the Express state machine that ticks,
 * scales and notifies, and the schedule that starts a run every minute.
 */
export class ControlLoop extends Construct {
  public readonly table: dynamodb.Table;
  public readonly function: lambda.Function;
  public readonly stateMachine: sfn.StateMachine;
  public readonly schedule: scheduler.Schedule;
  public readonly securityGroup: ec2.SecurityGroup;
  /** Receives the scheduled starts that EventBridge Scheduler could not deliver. */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ControlLoopProps) {
    super(scope, id);
    const { service, topic } = props;
    const cluster = service.cluster;
    const stack = Stack.of(this);
    if (topic?.fifo) {
      throw new Error(`\`topic\` must be a standard SNS topic, got the FIFO topic ${topic.node.path}: FIFO topics need a message group id on every publish, which the autoscaler's notifications do not carry`);
    }

    // The controller's memory across runs: losing it costs one scale-in window of
    // history, nothing more, so the table is disposable.
    this.table = new dynamodb.Table(this, 'State', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // The controller reaches the tasks' status port and the AWS APIs, nothing else.
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: cluster.vpc,
      // EC2 accepts no apostrophe in a security group description (cfn-lint E3031).
      description: 'fast-autoscaler controller: reads the status port of the tasks',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs (ECS, DynamoDB) over HTTPS');
    // The tasks' status (or metrics) port; a queue is read through the SQS API, not on the tasks.
    if (props.config.statusPort > 0) {
      service.connections.allowFrom(this.securityGroup, ec2.Port.tcp(props.config.statusPort), 'fast-autoscaler controller reads stub_status');
    }

    const config: ControllerConfig = {
      ...props.config,
      cluster: cluster.clusterArn,
      service: service.serviceName,
      table: this.table.tableName,
      runSeconds: runSecondsFor(props.config.intervalSeconds),
    };
    this.function = new TickFunction(this, 'Function', {
      description: 'fast-autoscaler: scrapes every task, decides, remembers',
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: Duration.seconds(tickTimeoutSeconds(props.config.intervalSeconds)),
      // A surge that exhausts the account's concurrency is exactly when the controller must run.
      reservedConcurrentExecutions: props.reservedConcurrency,
      vpc: cluster.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [this.securityGroup],
      environment: { [CONFIG_ENV]: stack.toJsonString(config) },
      logGroup: new logs.LogGroup(this, 'FunctionLogs', {
        retention: props.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    this.grantControllerReads(service);
    this.table.grant(this.function, 'dynamodb:GetItem', 'dynamodb:PutItem');

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.EXPRESS,
      definitionBody: sfn.DefinitionBody.fromChainable(controlLoopDefinition(this, {
        service,
        tickFunction: this.function,
        topic,
        intervalSeconds: props.config.intervalSeconds,
        dryRun: props.config.dryRun,
      })),
      timeout: Duration.seconds(EXPRESS_MAX_SECONDS),
      logs: {
        destination: new logs.LogGroup(this, 'StateMachineLogs', {
          // Step Functions' documented prefix: log groups under it need no entry in the account's
          // CloudWatch Logs resource policy, whose size limit accounts with many state machines hit.
          logGroupName: `/aws/vendedlogs/states/${stack.stackName}-${Names.uniqueId(this)}`,
          retention: props.logRetention,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
        level: props.stateMachineLogLevel,
        includeExecutionData: false,
      },
      tracingEnabled: false,
    });
    // Covers an encrypted topic too (kms:GenerateDataKey* and kms:Decrypt on its key).
    topic?.grantPublish(this.stateMachine);
    // A run that gives up starts its successor. Granted in a policy of its own: the role's
    // default policy is a dependency of the state machine, which this one refers to.
    new iam.Policy(this, 'StartSuccessorPolicy', {
      roles: [this.stateMachine.role],
      statements: [new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachine.stateMachineArn] })],
    });

    // A start that EventBridge Scheduler could not deliver after its retries lands here.
    this.deadLetterQueue = new sqs.Queue(this, 'ScheduleDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
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
      }),
    });

    acknowledgeNagFindings(this, {
      table: this.table,
      controller: this.function,
      controllerCfn: this.function.node.defaultChild as CfnElement,
      stateMachine: this.stateMachine,
      deadLetterQueue: this.deadLetterQueue,
      taskArnPattern: this.taskArnPattern(service),
    });
  }

  /** ListTasks, DescribeTasks and DescribeServices on this cluster and service only. */
  private grantControllerReads(service: ecs.BaseService) {
    const cluster = service.cluster;
    this.function.addToRolePolicy(new iam.PolicyStatement({
      // ListTasks is authorized on the container-instance resource type; the cluster is
      // scoped through its condition key.
      actions: ['ecs:ListTasks'],
      resources: ['*'],
      conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
    }));
    this.function.addToRolePolicy(new iam.PolicyStatement({
      actions: ['ecs:DescribeTasks'],
      resources: [this.taskArnPattern(service)],
      conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
    }));
    this.function.addToRolePolicy(new iam.PolicyStatement({
      actions: ['ecs:DescribeServices'],
      resources: [service.serviceArn],
    }));
  }

  /** Every task of the service's cluster. */
  private taskArnPattern(service: ecs.BaseService): string {
    return Stack.of(this).formatArn({ service: 'ecs', resource: 'task', resourceName: `${service.cluster.clusterName}/*` });
  }
}
