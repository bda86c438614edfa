import { ECSClient, ECSServiceException, ServerException, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FastAutoscaler, ScalingMetric, ScalingPolicy } from '../src';
import { CONTROLLER_FUNCTION_PROPS, stateMachineDefinition } from './support/template-lookups';
import { fargateService, typicalStack } from './support/typical-stack';
import { SCALE_CALL, scaleCallWorstCaseSeconds } from '../src/controller/act/scale-call-limits';
import { NON_RETRYABLE_SCALE_ERRORS, notifyTimeoutMs, updateDesiredCount } from '../src/controller/act/service-actions';
import { EXPRESS_MAX_SECONDS, runSecondsFor, SCHEDULE_PERIOD_SECONDS, tickTimeoutSeconds } from '../src/loop/control-loop';
import { MAX_CONSECUTIVE_FAILURES } from '../src/loop/state-machine-definition';

function statementsOf(template: Template, id: RegExp): any[] {
  return Object.entries(template.findResources('AWS::IAM::Policy'))
    .filter(([k]) => id.test(k))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
}

function autoscaler(stack: Stack, service = fargateService(stack).service, props: Partial<ConstructorParameters<typeof FastAutoscaler>[2]> = {}) {
  return new FastAutoscaler(stack, 'Autoscaler', {
    service,
    policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 100 }),
    maxTasks: 20,
    ...props,
  });
}

describe('the controller\'s scale call retries what may pass, within the tick', () => {
  const ecsMock = mockClient(ECSClient);
  const client = new ECSClient({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const noSleep = async () => undefined;
  beforeEach(() => ecsMock.reset());

  test('an error no retry cures is not retried', async () => {
    for (const name of ['AccessDeniedException', 'ServiceNotFoundException', 'ServiceNotActiveException', 'ClusterNotFoundException', 'InvalidParameterException']) {
      expect(NON_RETRYABLE_SCALE_ERRORS.has(name)).toBe(true);
      ecsMock.reset();
      ecsMock.on(UpdateServiceCommand).rejects(Object.assign(new Error('no'), { name }));
      const outcome = await updateDesiredCount(client, 'c', 's', 3, Date.now() + 10_000, noSleep);
      expect(outcome).toMatchObject({ ok: false, attempts: 1, error: `${name}: no` });
    }
  });

  test('throttling, server errors and hung calls are retried, SCALE_CALL\'s attempts at most', async () => {
    const throttled = new ECSServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: {}, message: 'Rate exceeded' });
    ecsMock.on(UpdateServiceCommand).rejectsOnce(throttled).rejectsOnce(new ServerException({ $metadata: {}, message: 'oops' })).resolves({});
    expect(await updateDesiredCount(client, 'c', 's', 3, Date.now() + 10_000, noSleep)).toMatchObject({ ok: true, attempts: 3 });
    ecsMock.reset();
    ecsMock.on(UpdateServiceCommand).rejects(throttled);
    expect(await updateDesiredCount(client, 'c', 's', 3, Date.now() + 10_000, noSleep)).toMatchObject({ ok: false, attempts: SCALE_CALL.retries + 1 });
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toHaveLength(SCALE_CALL.retries + 1);
  });

  test('no attempt starts after the time the tick allows', async () => {
    ecsMock.on(UpdateServiceCommand).resolves({});
    expect(await updateDesiredCount(client, 'c', 's', 3, Date.now() - 1, noSleep)).toMatchObject({ ok: false, attempts: 0 });
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });
});

describe('the state machine', () => {
  const definition = stateMachineDefinition(Template.fromStack(typicalStack({ withTopic: true }).stack));

  test('the failure count is of failures in a row: a good cycle resets it', () => {
    expect(definition.States['KeepGoing?'].Choices[0]).toEqual({
      And: [{ Variable: '$.tick.continue', BooleanEquals: true }, { Variable: '$.failures.count', NumericGreaterThan: 0 }],
      Next: 'ResetFailures',
    });
    expect(definition.States.ResetFailures).toMatchObject({ Type: 'Pass', Result: { count: 0 }, ResultPath: '$.failures', Next: 'WaitForNextTick' });
    expect(definition.States['TooManyFailures?'].Choices[1]).toEqual({ Variable: '$.failures.count', NumericGreaterThan: MAX_CONSECUTIVE_FAILURES, Next: 'GiveUp' });
  });
});

describe('no blind minute', () => {
  const { stack } = typicalStack({ withTopic: true });
  const template = Template.fromStack(stack);
  const definition = stateMachineDefinition(template);

  test('runs outlive several schedule periods, and still end inside Express\'s five minutes', () => {
    for (let interval = 1; interval <= 60; interval++) {
      const run = runSecondsFor(interval);
      // At least two lost starts in a row are covered.
      expect(run).toBeGreaterThanOrEqual(2 * SCHEDULE_PERIOD_SECONDS);
      // The last tick (with its two Lambda retries), the scale call's attempts with backoff, a notification.
      const afterLastTick = tickTimeoutSeconds(interval) + 3 + scaleCallWorstCaseSeconds() + notifyTimeoutMs(interval) / 1000;
      expect(run + afterLastTick).toBeLessThanOrEqual(EXPRESS_MAX_SECONDS);
    }
    expect(runSecondsFor(3)).toBe(230);
    expect(definition.TimeoutSeconds).toBe(EXPRESS_MAX_SECONDS);
  });

  test('the schedule retries a failed start and keeps what it could not deliver in an encrypted, TLS-only queue', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({
        RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 120 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AutoscalerControlLoopScheduleDeadLetters'), 'Arn'] } },
      }),
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('a run that took the lease and gives up starts its successor, which it may do on this state machine only', () => {
    expect(definition.States['TooManyFailures?'].Choices[0]).toEqual({
      And: [{ Variable: '$.failures.count', NumericGreaterThan: MAX_CONSECUTIVE_FAILURES }, { Variable: '$.tick', IsPresent: true }],
      Next: 'StartSuccessor',
    });
    expect(definition.States.StartSuccessor).toMatchObject({
      Type: 'Task',
      Resource: 'arn:PARTITION:states:::states:startExecution',
      Parameters: { 'StateMachineArn.$': '$$.StateMachine.Id', 'Input': { 'successorOf.$': '$$.Execution.Name' } },
      Next: 'GiveUp',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.successorError', Next: 'GiveUp' }],
    });
    expect(statementsOf(template, /^AutoscalerControlLoopStartSuccessorPolicy/)).toEqual([
      { Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: expect.stringMatching(/^AutoscalerControlLoopStateMachine[0-9A-F]{8}$/) } },
    ]);
  });
});

describe('one interval from tick to tick, however long a tick takes', () => {
  test('Tick → KeepGoing? → WaitForNextTick, until the time the tick named; no service is scaled or notified by the state machine', () => {
    const definition = stateMachineDefinition(Template.fromStack(typicalStack({ withTopic: true }).stack));
    expect(definition.States.Tick.Next).toBe('KeepGoing?');
    expect(definition.States['KeepGoing?'].Choices[1]).toEqual({ Variable: '$.tick.continue', BooleanEquals: true, Next: 'WaitForNextTick' });
    expect(definition.States.WaitForNextTick).toMatchObject({ Type: 'Wait', TimestampPath: '$.tick.nextTickAt', Next: 'Tick' });
    // After a failed tick there is no time named: one interval.
    expect(definition.States.WaitInterval).toMatchObject({ Type: 'Wait', Seconds: 3, Next: 'Tick' });
    const resources = Object.values(definition.States).map((st: any) => String(st.Resource ?? ''));
    expect(resources.filter(r => /ecs|sns/.test(r))).toEqual([]);
    expect(notifyTimeoutMs(3)).toBeLessThanOrEqual(3000);
  });
});

describe('SNS', () => {
  test('an encrypted topic: the state machine may use its key', () => {
    const stack = new Stack(new App(), 'S', { env: { account: '123456789012', region: 'eu-west-1' } });
    const masterKey = new kms.Key(stack, 'Key');
    autoscaler(stack, undefined, { topic: new sns.Topic(stack, 'Topic', { masterKey }) });
    const statements = statementsOf(Template.fromStack(stack), /^AutoscalerLoopPermissions/);
    expect(statements).toContainEqual({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
    });
    expect(statements).toContainEqual({ Action: 'sns:Publish', Effect: 'Allow', Resource: { Ref: expect.stringMatching(/^Topic/) } });
  });

  test('a FIFO topic is refused, naming the prop', () => {
    const stack = new Stack();
    const topic = new sns.Topic(stack, 'Topic', { fifo: true, contentBasedDeduplication: true });
    expect(() => autoscaler(stack, undefined, { topic })).toThrow(/`topic` must be a standard SNS topic, got the FIFO topic Default\/Topic/);
    const imported = sns.Topic.fromTopicArn(stack, 'Imported', 'arn:aws:sns:eu-west-1:123456789012:events.fifo');
    const other = new Stack();
    expect(() => autoscaler(other, fargateService(other).service, { topic: imported })).toThrow(/FIFO topic/);
  });
});

test('the state machine logs under /aws/vendedlogs/states/, one deterministic name per autoscaler', () => {
  const names = () => {
    const stack = new Stack(new App(), 'Web', { env: { account: '123456789012', region: 'eu-west-1' } });
    const { service, cluster } = fargateService(stack);
    autoscaler(stack, service);
    const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task2');
    taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('busybox'), portMappings: [{ containerPort: 80 }] });
    new FastAutoscaler(stack, 'Second', {
      service: new ecs.FargateService(stack, 'Web2', { cluster, taskDefinition }), policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 5 }), maxTasks: 5, statusPort: 8023,
    });
    const template = Template.fromStack(stack);
    const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const groups = template.findResources('AWS::Logs::LogGroup');
    return machines.map(m => groups[m.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0]].Properties.LogGroupName);
  };
  const first = names();
  expect(first).toHaveLength(2);
  expect(first.every((n: string) => /^\/aws\/vendedlogs\/states\/Web-[A-Za-z0-9]+$/.test(n))).toBe(true);
  expect(new Set(first).size).toBe(2);
  expect(names()).toEqual(first);
});

describe('reserved concurrency', () => {
  test('the controller gets 5 by default, enough for every run that may be alive at once', () => {
    Template.fromStack(typicalStack().stack).hasResourceProperties('AWS::Lambda::Function', {
      ...CONTROLLER_FUNCTION_PROPS,
      ReservedConcurrentExecutions: 5,
    });
  });

  test('is configurable, and validated', () => {
    Template.fromStack(typicalStack({ props: { controllerReservedConcurrency: 12 } }).stack)
      .hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 12 });
    expect(() => typicalStack({ props: { controllerReservedConcurrency: -1 } }))
      .toThrow('`controllerReservedConcurrency` must be a whole number from 0 to 1000, got -1');
    expect(() => typicalStack({ props: { controllerReservedConcurrency: 1001 } }))
      .toThrow('`controllerReservedConcurrency` must be a whole number from 0 to 1000, got 1001');
  });
});

describe('warnings about what silently breaks the autoscaler', () => {
  test('Application Auto Scaling on the same service (autoScaleTaskCount)', () => {
    const { stack, service } = typicalStack();
    service.autoScaleTaskCount({ maxCapacity: 10 }).scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 50 });
    Annotations.fromStack(stack).hasWarning('/Typical/Autoscaler',
      Match.stringLikeRegexp('Application Auto Scaling also sets this service\'s desired count \\(Typical/Web/TaskCount/Target/Resource\\)[\\s\\S]*`disableScaleIn` true'));
  });

  test('Application Auto Scaling on the same service (a CfnScalableTarget), not on another service', () => {
    const { stack, service } = typicalStack();
    const target = (id: string, serviceName: string) => new appscaling.CfnScalableTarget(stack, id, {
      serviceNamespace: 'ecs',
      scalableDimension: 'ecs:service:DesiredCount',
      minCapacity: 1,
      maxCapacity: 4,
      resourceId: `service/${service.cluster.clusterName}/${serviceName}`,
    });
    target('Other', 'someone-else');
    Annotations.fromStack(stack).hasNoWarning('/Typical/Autoscaler', Match.stringLikeRegexp('Application Auto Scaling'));
    const { stack: stack2, service: service2 } = typicalStack();
    new appscaling.CfnScalableTarget(stack2, 'Mine', {
      serviceNamespace: 'ecs',
      scalableDimension: 'ecs:service:DesiredCount',
      minCapacity: 1,
      maxCapacity: 4,
      resourceId: `service/${service2.cluster.clusterName}/${service2.serviceName}`,
    });
    Annotations.fromStack(stack2).hasWarning('/Typical/Autoscaler', Match.stringLikeRegexp('Application Auto Scaling also sets .*\\(Typical/Mine\\)'));
  });

  test('an imported immutable security group on the service, where the status-port rule cannot go', () => {
    const build = (mutable: boolean, alsoOwnGroup: boolean) => {
      const stack = new Stack(new App(), 'Web', { env: { account: '123456789012', region: 'eu-west-1' } });
      const { cluster, taskDefinition } = fargateService(stack);
      const shared = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Shared', 'sg-0123456789abcdef0', { mutable });
      const service = new ecs.FargateService(stack, 'Only', { cluster, taskDefinition, securityGroups: [shared] });
      if (alsoOwnGroup) service.connections.addSecurityGroup(new ec2.SecurityGroup(stack, 'Own', { vpc: cluster.vpc }));
      autoscaler(stack, service);
      return Annotations.fromStack(stack);
    };
    build(false, false).hasWarning('/Web/Autoscaler', Match.stringLikeRegexp('security group Web/Shared takes no new rules[\\s\\S]*status port 8022[\\s\\S]*every scrape would time out'));
    build(true, false).hasNoWarning('/Web/Autoscaler', Match.stringLikeRegexp('takes no new rules'));
    // Security group rules add up: one group that lets the controller in is enough.
    build(false, true).hasNoWarning('/Web/Autoscaler', Match.stringLikeRegexp('takes no new rules'));
  });

  test('none for the typical setup', () => {
    Annotations.fromStack(typicalStack({ withTopic: true }).stack).hasNoWarning('/Typical/Autoscaler', Match.anyValue());
  });
});

describe('IAM as docs/security.md tells it', () => {
  const { app, stack } = typicalStack({ withTopic: true });
  const template = Template.fromStack(stack);

  test('the only managed policies are the two CDK attaches to every VPC function, on the controller\'s role', () => {
    const withManaged = Object.entries(template.findResources('AWS::IAM::Role')).filter(([, r]) => r.Properties.ManagedPolicyArns);
    expect(withManaged.map(([id]) => id)).toEqual([expect.stringMatching(/^AutoscalerControlLoopFunctionServiceRole/)]);
    expect(JSON.stringify(withManaged[0][1].Properties.ManagedPolicyArns)).toMatch(
      /^\[\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole"\]\]\},\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":iam::aws:policy\/service-role\/AWSLambdaVPCAccessExecutionRole"\]\]\}\]$/);
  });

  test('cdk-nag finds nothing in the autoscaler, and every acknowledgment gives a reason', () => {
    app.synth();
    const report = new AwsSolutionsChecks().validateScope(app);
    const ours = report.violations.filter(v => v.violatingResources.some(r => (r.constructPath ?? '').includes('/Autoscaler/')));
    expect(ours.map(v => v.ruleName)).toEqual([]);
    const reasons = stack.node.findAll().flatMap(c => c.node.metadata.filter(m => m.type === 'aws:cdk:acknowledged-rules' || /acknowledge/i.test(m.type)))
      .flatMap(m => Object.values(m.data as Record<string, unknown>));
    expect(reasons.length).toBeGreaterThan(5);
    for (const reason of reasons) expect(String(typeof reason === 'object' ? (reason as any).reason ?? JSON.stringify(reason) : reason).length).toBeGreaterThan(40);
  });
});
