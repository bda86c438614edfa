import { Aws, Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { SCALE_CALL } from './controller/scale-call-limits';

/** Names of the states, which the local executor's overrides are keyed by. */
export const StateNames = {
  START: 'Start',
  TICK: 'Tick',
  DECIDE: 'Decide',
  SCALE: 'Scale',
  NOTIFY_CHOICE: 'Notify?',
  NOTIFY: 'Notify',
  KEEP_GOING: 'KeepGoing?',
  RESET_FAILURES: 'ResetFailures',
  WAIT: 'WaitInterval',
  COUNT_FAILURE: 'CountFailure',
  TOO_MANY_FAILURES: 'TooManyFailures?',
  START_SUCCESSOR: 'StartSuccessor',
  GIVE_UP: 'GiveUp',
  DONE: 'Done',
} as const;

/**
 * Failed ticks or scaling calls in a row one run tolerates; the next one ends the run (after
 * it has started its successor, if it ever ticked). A good tick-and-scale resets the count.
 */
export const MAX_CONSECUTIVE_FAILURES = 5;

/**
 * The UpdateService errors that no retry can cure, named as Step Functions names the errors
 * of an SDK integration (`Ecs.` and the exception the ECS model declares). Every other error
 * is retried: ECS throttling is not in its model, so Step Functions reports it as
 * `Ecs.EcsException`, the name it gives every error the model does not declare.
 */
export const NON_RETRYABLE_SCALE_ERRORS = [
  'Ecs.AccessDeniedException',
  'Ecs.ClusterNotFoundException',
  'Ecs.ServiceNotFoundException',
  'Ecs.ServiceNotActiveException',
  'Ecs.InvalidParameterException',
  'Ecs.UnsupportedFeatureException',
  'Ecs.PlatformUnknownException',
  'Ecs.PlatformTaskDefinitionIncompatibilityException',
  // The state machine's role lacks a permission: not passing either.
  'States.Permissions',
] as const;

/** How long a notification may take before the loop goes on without it. */
export function notifyTimeoutSeconds(intervalSeconds: number): number {
  return Math.min(3, Math.max(1, intervalSeconds));
}

export interface ControlLoopDefinitionProps {
  readonly service: ecs.BaseService;
  readonly tickFunction: lambda.IFunction;
  readonly topic?: sns.ITopic;
  readonly intervalSeconds: number;
  readonly dryRun: boolean;
}

/**
 * One run of the control loop: Tick → Decide → Scale → Notify → KeepGoing? → Wait, until the
 * run's deadline or a newer run's lease. Scaling comes first and a notification can neither
 * delay it long nor fail it; a run that gives up first starts its successor, so that ticks
 * go on without waiting for the next scheduled start.
 */
export function controlLoopDefinition(scope: Construct, props: ControlLoopDefinitionProps): sfn.IChainable {
  const { service } = props;
  const start = new sfn.Pass(scope, StateNames.START, {
    comment: 'Counts the failures in a row of this run.',
    result: sfn.Result.fromObject({ count: 0 }),
    resultPath: '$.failures',
  });
  const tick = new tasks.LambdaInvoke(scope, StateNames.TICK, {
    lambdaFunction: props.tickFunction,
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

  const wait = new sfn.Wait(scope, StateNames.WAIT, {
    time: sfn.WaitTime.duration(Duration.seconds(props.intervalSeconds)),
  });
  const done = new sfn.Succeed(scope, StateNames.DONE, { comment: 'The run reached its deadline or a newer run took the lease.' });
  const resetFailures = new sfn.Pass(scope, StateNames.RESET_FAILURES, {
    result: sfn.Result.fromObject({ count: 0 }),
    resultPath: '$.failures',
  });
  resetFailures.next(wait);
  const keepGoing = new sfn.Choice(scope, StateNames.KEEP_GOING)
    .when(sfn.Condition.and(
      sfn.Condition.booleanEquals('$.tick.continue', true),
      sfn.Condition.numberGreaterThan('$.failures.count', 0),
    ), resetFailures)
    .when(sfn.Condition.booleanEquals('$.tick.continue', true), wait)
    .otherwise(done);

  const countFailure = new sfn.Pass(scope, StateNames.COUNT_FAILURE, {
    parameters: { 'count.$': 'States.MathAdd($.failures.count, 1)' },
    resultPath: '$.failures',
  });
  const giveUp = new sfn.Fail(scope, StateNames.GIVE_UP, {
    error: 'FastAutoscaler.TooManyFailures',
    cause: `More than ${MAX_CONSECUTIVE_FAILURES} failed ticks or scaling calls in a row`,
  });
  // Optimized integration, request-response: Express workflows may start executions, not wait for them.
  // The ARN comes from the context object: naming the state machine in its own definition would be a cycle.
  const startSuccessor = new sfn.CustomState(scope, StateNames.START_SUCCESSOR, {
    stateJson: {
      Type: 'Task',
      Comment: 'A run that took the lease and now gives up starts its successor, so that ticks go on within an interval.',
      Resource: `arn:${Aws.PARTITION}:states:::states:startExecution`,
      Parameters: {
        'StateMachineArn.$': '$$.StateMachine.Id',
        'Input': { 'successorOf.$': '$$.Execution.Name' },
      },
      TimeoutSeconds: 5,
      ResultPath: null,
    },
  });
  startSuccessor.addCatch(giveUp, { resultPath: '$.successorError' });
  startSuccessor.next(giveUp);
  const tooManyFailures = new sfn.Choice(scope, StateNames.TOO_MANY_FAILURES)
    // `$.tick` holds a tick's result only after a good tick: this run has taken the lease, so
    // older runs have ended and nothing else would tick until the next scheduled start. A run
    // that never ticked leaves the older run in charge and just ends.
    .when(sfn.Condition.and(
      sfn.Condition.numberGreaterThan('$.failures.count', MAX_CONSECUTIVE_FAILURES),
      sfn.Condition.isPresent('$.tick'),
    ), startSuccessor)
    .when(sfn.Condition.numberGreaterThan('$.failures.count', MAX_CONSECUTIVE_FAILURES), giveUp)
    .otherwise(wait);

  tick.addCatch(countFailure, { resultPath: '$.error' });
  countFailure.next(tooManyFailures);
  wait.next(tick);

  // What follows a real (or dry-run) decision: notify, if there is a topic, then go on.
  let afterScale: sfn.IChainable = keepGoing;
  if (props.topic) {
    const notify = new tasks.SnsPublish(scope, StateNames.NOTIFY, {
      comment: 'Tells the topic what was done, after it was done; never delays the loop by more than its timeout.',
      topic: props.topic,
      subject: sfn.JsonPath.stringAt('$.tick.subject'),
      message: sfn.TaskInput.fromJsonPathAt('$.tick.message'),
      resultPath: sfn.JsonPath.DISCARD,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(notifyTimeoutSeconds(props.intervalSeconds))),
    });
    // A notification that cannot be sent must not stop the loop.
    notify.addCatch(keepGoing, { resultPath: '$.notifyError' });
    notify.next(keepGoing);
    // Every real action is announced; a dry run announces only a decision that changed.
    afterScale = new sfn.Choice(scope, StateNames.NOTIFY_CHOICE)
      .when(sfn.Condition.booleanEquals('$.tick.notify', true), notify)
      .otherwise(keepGoing);
  }

  let act = afterScale;
  if (!props.dryRun) {
    const scale = new tasks.CallAwsService(scope, StateNames.SCALE, {
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
      // Setting the same desired count twice is harmless, so a call that hangs is retried, but
      // only briefly: a call that lands late could undo a newer run's action (SCALE_CALL).
      taskTimeout: sfn.Timeout.duration(Duration.seconds(SCALE_CALL.timeoutSeconds)),
    });
    // Retriers are evaluated in order: the errors no retry cures first, with no attempts;
    // then everything else (throttling arrives as Ecs.EcsException), States.ALL alone and last.
    scale.addRetry({ errors: [...NON_RETRYABLE_SCALE_ERRORS], maxAttempts: 0 });
    scale.addRetry({
      errors: [sfn.Errors.ALL],
      interval: Duration.seconds(SCALE_CALL.firstRetryDelaySeconds),
      backoffRate: SCALE_CALL.backoffRate,
      maxAttempts: SCALE_CALL.retries,
      maxDelay: Duration.seconds(SCALE_CALL.maxRetryDelaySeconds),
      jitterStrategy: sfn.JitterType.FULL,
    });
    scale.addCatch(countFailure, { resultPath: '$.error' });
    scale.next(afterScale);
    act = scale;
  }

  const decide = new sfn.Choice(scope, StateNames.DECIDE)
    .when(sfn.Condition.or(
      sfn.Condition.stringEquals('$.tick.action', 'SCALE_OUT'),
      sfn.Condition.stringEquals('$.tick.action', 'SCALE_IN'),
    ), act)
    .otherwise(keepGoing);

  return start.next(tick).next(decide);
}
