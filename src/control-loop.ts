import { CfnElement, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { CONFIG_ENV, ControllerConfig } from './controller/controller-config';
import { TickFunction } from './controller/tick-function';
import { acknowledgeNagFindings } from './nag-acknowledgments';

/**
 * How long one state-machine run drives the service. Runs start every minute; a run
 * outlives its minute so that the next one has taken over before it ends (the older
 * run sees the newer lease and stops at its next tick, so the overlap costs one tick).
 */
export const RUN_SECONDS = 90;

/** Names of the states, which the local executor's overrides are keyed by. */
export const StateNames = {
  START: 'Start',
  TICK: 'Tick',
  DECIDE: 'Decide',
  NOTIFY_CHOICE: 'Notify?',
  NOTIFY: 'Notify',
  SCALE: 'Scale',
  COUNT_FAILURE: 'CountFailure',
  TOO_MANY_FAILURES: 'TooManyFailures?',
  GIVE_UP: 'GiveUp',
  KEEP_GOING: 'KeepGoing?',
  WAIT: 'WaitInterval',
  DONE: 'Done',
} as const;

/** Failed ticks or scaling calls one run tolerates before it ends (the next minute's run starts afresh). */
export const MAX_FAILURES_PER_RUN = 5;

export interface ControlLoopProps {
  readonly service: ecs.BaseService;
  readonly config: Omit<ControllerConfig, 'cluster' | 'service' | 'table' | 'runSeconds'>;
  readonly topic?: sns.ITopic;
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly logRetention: logs.RetentionDays;
  readonly stateMachineLogLevel: sfn.LogLevel;
}

/**
 * The controller: a state table, the tick Lambda, the Express state machine that
 * ticks, notifies and scales, and the schedule that starts a run every minute.
 */
export class ControlLoop extends Construct {
  public readonly table: dynamodb.Table;
  public readonly function: lambda.Function;
  public readonly stateMachine: sfn.StateMachine;
  public readonly schedule: scheduler.Schedule;
  public readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: ControlLoopProps) {
    super(scope, id);
    const { service } = props;
    const cluster = service.cluster;
    const stack = Stack.of(this);

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
      description: 'fast-autoscaler controller: reads the tasks\' status port',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs (ECS, DynamoDB) over HTTPS');
    service.connections.allowFrom(this.securityGroup, ec2.Port.tcp(props.config.statusPort), 'fast-autoscaler controller reads stub_status');

    const config: ControllerConfig = {
      ...props.config,
      cluster: cluster.clusterArn,
      service: service.serviceName,
      table: this.table.tableName,
      runSeconds: RUN_SECONDS,
    };
    this.function = new TickFunction(this, 'Function', {
      description: 'fast-autoscaler: scrapes every task, decides, remembers',
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(Math.max(10, 2 * props.config.intervalSeconds)),
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
      definitionBody: sfn.DefinitionBody.fromChainable(this.definition(props)),
      timeout: Duration.minutes(5),
      logs: {
        destination: new logs.LogGroup(this, 'StateMachineLogs', {
          retention: props.logRetention,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
        level: props.stateMachineLogLevel,
        includeExecutionData: false,
      },
      tracingEnabled: false,
    });

    acknowledgeNagFindings(this, {
      table: this.table,
      controller: this.function,
      controllerCfn: this.function.node.defaultChild as CfnElement,
      stateMachine: this.stateMachine,
      taskArnPattern: this.taskArnPattern(service),
    });

    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'fast-autoscaler: starts one control-loop run a minute',
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(1)),
      target: new targets.StepFunctionsStartExecution(this.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({}),
        // A run that did not start is replaced a minute later: retrying a stale one only overlaps it.
        retryAttempts: 0,
        maxEventAge: Duration.minutes(1),
      }),
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

  private definition(props: ControlLoopProps): sfn.IChainable {
    const { service } = props;
    const start = new sfn.Pass(this, StateNames.START, {
      comment: 'Counts the failures of this run; a run gives up after a few and the next minute starts afresh.',
      result: sfn.Result.fromObject({ count: 0 }),
      resultPath: '$.failures',
    });
    const tick = new tasks.LambdaInvoke(this, StateNames.TICK, {
      lambdaFunction: this.function,
      payload: sfn.TaskInput.fromObject({
        runId: sfn.JsonPath.stringAt('$$.Execution.Name'),
        runStartedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
      }),
      payloadResponseOnly: true,
      resultPath: '$.tick',
      // Our own retry, short enough for a loop that ticks every few seconds.
      retryOnServiceExceptions: false,
    });
    tick.addRetry({
      errors: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'],
      interval: Duration.seconds(1),
      backoffRate: 2,
      maxAttempts: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    const countFailure = new sfn.Pass(this, StateNames.COUNT_FAILURE, {
      parameters: { 'count.$': 'States.MathAdd($.failures.count, 1)' },
      resultPath: '$.failures',
    });
    const giveUp = new sfn.Fail(this, StateNames.GIVE_UP, {
      error: 'FastAutoscaler.TooManyFailures',
      cause: `More than ${MAX_FAILURES_PER_RUN} failed ticks or scaling calls in one run; the next run starts within a minute`,
    });
    const wait = new sfn.Wait(this, StateNames.WAIT, {
      time: sfn.WaitTime.duration(Duration.seconds(props.config.intervalSeconds)),
    });
    const done = new sfn.Succeed(this, StateNames.DONE, { comment: 'The run reached its deadline or lost its lease.' });
    const keepGoing = new sfn.Choice(this, StateNames.KEEP_GOING)
      .when(sfn.Condition.booleanEquals('$.tick.continue', true), wait)
      .otherwise(done);
    const tooManyFailures = new sfn.Choice(this, StateNames.TOO_MANY_FAILURES)
      .when(sfn.Condition.numberGreaterThan('$.failures.count', MAX_FAILURES_PER_RUN), giveUp)
      .otherwise(wait);

    tick.addCatch(countFailure, { resultPath: '$.error' });
    countFailure.next(tooManyFailures);
    wait.next(tick);

    let actChain: sfn.IChainable = keepGoing;
    if (!props.config.dryRun) {
      const scale = new tasks.CallAwsService(this, StateNames.SCALE, {
        comment: 'Sets the desired count the tick decided on.',
        service: 'ecs',
        action: 'updateService',
        parameters: {
          Cluster: service.cluster.clusterArn,
          Service: service.serviceName,
          DesiredCount: sfn.JsonPath.numberAt('$.tick.desiredCount'),
        },
        iamResources: [service.serviceArn],
        resultPath: sfn.JsonPath.DISCARD,
      });
      scale.addRetry({
        errors: ['Ecs.ThrottlingException', 'Ecs.ServerException', 'Ecs.ServiceUnavailableException', 'Ecs.SdkClientException'],
        interval: Duration.seconds(1),
        backoffRate: 2,
        maxAttempts: 3,
        jitterStrategy: sfn.JitterType.FULL,
      });
      scale.addCatch(countFailure, { resultPath: '$.error' });
      scale.next(keepGoing);
      actChain = scale;
    }
    if (props.topic) {
      const notify = new tasks.SnsPublish(this, StateNames.NOTIFY, {
        comment: 'Tells the topic what the tick decided, before it is applied.',
        topic: props.topic,
        subject: sfn.JsonPath.stringAt('$.tick.subject'),
        message: sfn.TaskInput.fromJsonPathAt('$.tick.message'),
        resultPath: sfn.JsonPath.DISCARD,
      });
      // A notification that cannot be sent must not stop the scaling it announces.
      notify.addCatch(actChain, { resultPath: '$.notifyError' });
      notify.next(actChain);
      // Every real action is announced; a dry run announces only a decision that changed.
      actChain = new sfn.Choice(this, StateNames.NOTIFY_CHOICE)
        .when(sfn.Condition.booleanEquals('$.tick.notify', true), notify)
        .otherwise(actChain);
    }

    const decide = new sfn.Choice(this, StateNames.DECIDE)
      .when(sfn.Condition.or(
        sfn.Condition.stringEquals('$.tick.action', 'SCALE_OUT'),
        sfn.Condition.stringEquals('$.tick.action', 'SCALE_IN'),
      ), actChain)
      .otherwise(keepGoing);

    return start.next(tick).next(decide);
  }
}
