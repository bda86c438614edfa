// The real-account test: `npx projen integ:fast-autoscaler:deploy` deploys this app, runs the
// assertions below in AWS, and destroys it; `npx projen integ:fast-autoscaler:assert` (part of
// the build) only checks, offline, that the app still synthesizes to the committed snapshot.
import { AwsApiCall, ExpectedResult, IntegTest, InvocationType, Match } from '@aws-cdk/integ-tests-alpha';
import { Duration, Stack } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FastAutoscalerIntegStack, LOAD } from './fast-autoscaler-integ-stack';
import { giveEveryFunctionAnOwnedLogGroup } from './owned-log-groups';
import { appFailingOnFindings, checkOnEverySynth } from '../../examples/php-demo/nag-on-synth';

/** The bound the test holds the autoscaler to: from the load's start to desiredCount = maxTasks. */
const SCALE_OUT_WITHIN = Duration.seconds(90);

// No creation stack traces in the snapshot's metadata: they hold this machine's paths.
const app = appFailingOnFindings({ context: { [cxapi.DISABLE_CREATION_STACK_TRACES]: true } });
const stack = new FastAutoscalerIntegStack(app, 'FastAutoscalerInteg');
const assertionStack = new Stack(app, 'FastAutoscalerIntegAssertions');
const integ = new IntegTest(app, 'FastAutoscalerIntegTest', {
  testCases: [stack],
  assertionStack,
  // Deploy, assert, destroy: the stack is new every time, so the update workflow (deploy the
  // committed snapshot first, then the change) would only double the time and the cost.
  stackUpdateWorkflow: false,
  diffAssets: true,
  // A change to the proxy's configuration or image replaces the task definition: expected,
  // and no reason for integ-runner to fail (the stack is new on every run anyway).
  allowDestroy: ['AWS::ECS::TaskDefinition'],
});
const assertions = integ.assertions;

const describeService = () => assertions.awsApiCall('ECS', 'describeServices', {
  cluster: stack.service.cluster.clusterName,
  services: [stack.service.serviceName],
});
/**
 * The service's desired count, and only it: the whole DescribeServices answer (events grow
 * it by the minute) would pass CloudFormation's 4,096-byte limit on a custom resource's
 * response, and the assertion would fail for that alone.
 */
const desiredCountIs = (count: number) => describeService().assertAtPath('services.0.desiredCount', ExpectedResult.exact(count));
const receive = (queueUrl: string) => assertions.awsApiCall('SQS', 'receiveMessage', {
  QueueUrl: queueUrl,
  MaxNumberOfMessages: 10,
  WaitTimeSeconds: 5,
  // Every poll sees every message: none is hidden by an earlier poll that did not match.
  VisibilityTimeout: 0,
});
const aMessage = (bodyPattern: string) => ExpectedResult.objectLike({
  Messages: Match.arrayWith([Match.objectLike({ Body: Match.stringLikeRegexp(bodyPattern) })]),
});

// 1. Before any load: the task is healthy behind the ALB, and the service runs minTasks.
const healthy = assertions.awsApiCall('ElasticLoadBalancingV2', 'describeTargetHealth', {
  TargetGroupArn: stack.targetGroup.targetGroupArn,
}).expect(ExpectedResult.objectLike({
  TargetHealthDescriptions: Match.arrayWith([Match.objectLike({ TargetHealth: Match.objectLike({ State: 'healthy' }) })]),
})).waitForAssertions({ totalTimeout: Duration.minutes(10), interval: Duration.seconds(10) });
// integ-tests-alpha derives the IAM action from the client's name ("elasticloadbalancingv2:"),
// but the service's IAM prefix is "elasticloadbalancing".
const describeTargetHealth = { Effect: 'Allow', Action: ['elasticloadbalancing:DescribeTargetHealth'], Resource: ['*'] };
healthy.provider.addToRolePolicy(describeTargetHealth);
(healthy as AwsApiCall).waiterProvider?.addToRolePolicy(describeTargetHealth);
const atMinimum = desiredCountIs(LOAD.minTasks);

// 2. The load starts: 200 requests a second for 3 minutes, then a quiet period (asynchronous).
const startLoad = assertions.invokeFunction({
  functionName: stack.loadGenerator.functionName,
  invocationType: InvocationType.EVENT,
});

// 3. The service scales out to maxTasks within SCALE_OUT_WITHIN of the load's start.
const scaledOut = desiredCountIs(LOAD.maxTasks)
  .waitForAssertions({ totalTimeout: SCALE_OUT_WITHIN, interval: Duration.seconds(5) });

// 4. The topic told its subscriber what was done. The first action starts from minTasks; it may
//    stop short of maxTasks if its tick measured the load's first second only.
const notified = receive(stack.notifications.queueUrl)
  .expect(aMessage(`scales out from ${LOAD.minTasks} to \\d+ tasks`))
  .waitForAssertions({ totalTimeout: Duration.minutes(2), interval: Duration.seconds(10) });

// 5. The load is over, and so is a quiet period longer than the load balancer's idle timeout
//    plus the default scale-in window; the generator reports how many requests were answered.
const quietOver = receive(stack.progress.queueUrl)
  .expect(aMessage('"phase":"quiet-period-over".*"ok":[1-9]'))
  .waitForAssertions({
    totalTimeout: Duration.seconds(LOAD.loadSeconds + LOAD.quietSeconds).plus(Duration.minutes(5)),
    interval: Duration.seconds(30),
  });

// 6. With the default props (scale-in off), the desired count has not fallen.
const stillOut = desiredCountIs(LOAD.maxTasks);

healthy.next(atMinimum).next(startLoad).next(scaledOut).next(notified).next(quietOver).next(stillOut);

// Every Lambda function writes to a log group its stack deletes, and cdk-nag AwsSolutions
// checks every synth (an unacknowledged finding fails it, and with it the snapshot check).
for (const s of [stack, assertionStack]) giveEveryFunctionAnOwnedLogGroup(s);
checkOnEverySynth(app, new AwsSolutionsChecks());
app.synth();
