import { Aws, Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

/** Names of the states, which the local executor's overrides are keyed by. */
export const StateNames = {
  START: 'Start',
  TICK: 'Tick',
  KEEP_GOING: 'KeepGoing?',
  RESET_FAILURES: 'ResetFailures',
  WAIT_NEXT_TICK: 'WaitForNextTick',
  WAIT: 'WaitInterval',
  COUNT_FAILURE: 'CountFailure',
  TOO_MANY_FAILURES: 'TooManyFailures?',
  START_SUCCESSOR: 'StartSuccessor',
  GIVE_UP: 'GiveUp',
  DONE: 'Done',
} as const;

/**
 * Failed ticks in a row one run tolerates; the next one ends the run (after it has started
 * its successor, if it ever ticked). A good tick resets the count. A service's own failures
 * (its ECS calls, its reads, its scale call) are that service's, never the run's.
 */
export const MAX_CONSECUTIVE_FAILURES = 5;

export interface ControlLoopDefinitionProps {
  readonly tickFunction: lambda.IFunction;
  readonly intervalSeconds: number;
}

/**
 * One run of the control loop: Tick → KeepGoing? → WaitForNextTick, until the run's deadline
 * or a newer run's lease. Each tick scales and notifies every service that must change from
 * the controller itself, each service on its own (so that no service waits for another's
 * decision, call or failure), and names when the next tick is due: one interval after this one
 * began, so the period stays the interval however long a tick takes. A run that gives up first
 * starts its successor, so that ticks go on without waiting for the next scheduled start.
 */
export function controlLoopDefinition(scope: Construct, props: ControlLoopDefinitionProps): sfn.IChainable {
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
      // Step Functions' clock, which the next tick's Wait reads (the function's may differ).
      tickEnteredAt: sfn.JsonPath.stringAt('$$.State.EnteredTime'),
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
    comment: 'After a failed tick: one interval.',
    time: sfn.WaitTime.duration(Duration.seconds(props.intervalSeconds)),
  });
  const waitNextTick = new sfn.Wait(scope, StateNames.WAIT_NEXT_TICK, {
    comment: 'Until the time the tick named: one interval after it began.',
    time: sfn.WaitTime.timestampPath('$.tick.nextTickAt'),
  });
  const done = new sfn.Succeed(scope, StateNames.DONE, { comment: 'The run reached its deadline or a newer run took the lease.' });
  const resetFailures = new sfn.Pass(scope, StateNames.RESET_FAILURES, {
    result: sfn.Result.fromObject({ count: 0 }),
    resultPath: '$.failures',
  });
  resetFailures.next(waitNextTick);
  const keepGoing = new sfn.Choice(scope, StateNames.KEEP_GOING)
    .when(sfn.Condition.and(
      sfn.Condition.booleanEquals('$.tick.continue', true),
      sfn.Condition.numberGreaterThan('$.failures.count', 0),
    ), resetFailures)
    .when(sfn.Condition.booleanEquals('$.tick.continue', true), waitNextTick)
    .otherwise(done);

  const countFailure = new sfn.Pass(scope, StateNames.COUNT_FAILURE, {
    parameters: { 'count.$': 'States.MathAdd($.failures.count, 1)' },
    resultPath: '$.failures',
  });
  const giveUp = new sfn.Fail(scope, StateNames.GIVE_UP, {
    error: 'FastAutoscaler.TooManyFailures',
    cause: `More than ${MAX_CONSECUTIVE_FAILURES} failed ticks in a row`,
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
  waitNextTick.next(tick);

  return start.next(tick).next(keepGoing);
}
