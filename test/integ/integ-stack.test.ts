import * as fs from 'fs';
import * as path from 'path';
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FastAutoscalerIntegStack, LOAD } from './fast-autoscaler-integ-stack';
import { giveEveryFunctionAnOwnedLogGroup } from './owned-log-groups';

// What the real-account test promises about its own stacks, checked here so that a regenerated
// snapshot cannot quietly drop it: nothing outlives `cdk destroy`, and the load asks for more
// than maxTasks so that the scale-out assertion has one right answer.

function synth() {
  // integ-runner synthesizes with CDK's recommended feature flags; this one adds a custom
  // resource (and its function) to every VPC.
  const app = new App({ context: { '@aws-cdk/aws-ec2:restrictDefaultSecurityGroup': true } });
  const stack = new FastAutoscalerIntegStack(app, 'Under');
  const assertionStack = new Stack(app, 'Assertions');
  const integ = new IntegTest(app, 'Test', { testCases: [stack], assertionStack });
  integ.assertions.awsApiCall('ECS', 'describeServices', { services: [stack.service.serviceName] })
    .expect(ExpectedResult.objectLike({}))
    .waitForAssertions({ totalTimeout: Duration.minutes(1) });
  for (const s of [stack, assertionStack]) giveEveryFunctionAnOwnedLogGroup(s);
  return [Template.fromStack(stack), Template.fromStack(assertionStack)];
}

const templates = synth();

test.each([0, 1])('every resource of stack %i is deleted with it', (i) => {
  const resources = Object.entries(templates[i].toJSON().Resources as Record<string, { DeletionPolicy?: string; UpdateReplacePolicy?: string }>);
  expect(resources.length).toBeGreaterThan(0);
  const kept = resources.filter(([, r]) => (r.DeletionPolicy ?? 'Delete') !== 'Delete' || (r.UpdateReplacePolicy ?? 'Delete') !== 'Delete');
  expect(kept.map(([id]) => id)).toEqual([]);
});

test.each([0, 1])('every Lambda function of stack %i writes to a log group of that stack', (i) => {
  const template = templates[i];
  const functions = Object.entries(template.findResources('AWS::Lambda::Function'));
  const groups = new Set(Object.keys(template.findResources('AWS::Logs::LogGroup')));
  // The test stack: controller, load generator, the VPC's custom resource; the assertions: three.
  expect(functions.length).toBeGreaterThanOrEqual(3);
  for (const [id, fn] of functions) {
    const ref = fn.Properties?.LoggingConfig?.LogGroup?.Ref;
    expect({ id, group: groups.has(ref) ? 'owned' : ref }).toEqual({ id, group: 'owned' });
  }
});

test('Container Insights is off: it would leave a log group behind', () => {
  const clusters = Object.values(templates[0].findResources('AWS::ECS::Cluster'));
  expect(clusters).toHaveLength(1);
  const settings = (clusters[0].Properties?.ClusterSettings ?? []) as Array<{ Name: string; Value: string }>;
  expect(settings).toEqual([{ Name: 'containerInsights', Value: 'disabled' }]);
});

test('the describeServices assertions return only the desired count (CloudFormation takes 4,096 bytes at most)', () => {
  // The real test's assertions, as the committed snapshot has them.
  const snapshot = path.join(__dirname, 'integ.fast-autoscaler.ts.snapshot', 'FastAutoscalerIntegAssertions.template.json');
  const assertions = Template.fromJSON(JSON.parse(fs.readFileSync(snapshot, 'utf8')));
  const calls = Object.values(assertions.findResources('Custom::DeployAssert@SdkCallECSdescribeServices'));
  expect(calls.length).toBeGreaterThanOrEqual(3);
  for (const call of calls) {
    expect(call.Properties).toMatchObject({ flattenResponse: 'true', outputPaths: ['services.0.desiredCount'] });
  }
});

test('the load asks for more than maxTasks, so the scale-out has one right answer', () => {
  const requestsPerSecond = LOAD.connections * LOAD.requestsPerSecondPerConnection;
  expect(Math.ceil(requestsPerSecond / LOAD.targetPerTask)).toBeGreaterThan(LOAD.maxTasks);
  // The quiet period outlasts the ALB's idle timeout and the default scale-in window.
  expect(LOAD.quietSeconds).toBeGreaterThan(60 + 300);
});
