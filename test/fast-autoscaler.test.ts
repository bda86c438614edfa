import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { FastAutoscaler, ScalingMetric, ScalingPolicy } from '../src';
import { renderedControllerConfig } from './support/controller-config-fixture';
import { stateMachineDefinition } from './support/template-lookups';
import { fargateService, typicalStack } from './support/typical-stack';
import { DEFAULT_PROXY_IMAGE } from '../src/metric-sources/source-options';

const controllerConfig = renderedControllerConfig;

describe('FastAutoscaler resources', () => {
  const { stack } = typicalStack({ withTopic: true });
  const template = Template.fromStack(stack);

  test('adds the nginx proxy sidecar, configured from the task definition, with the app kept essential', () => {
    const noCapabilities = { Capabilities: { Drop: ['ALL'] } };
    const volume = [{ SourceVolume: 'fast-autoscaler-proxy', ContainerPath: '/fast-autoscaler', ReadOnly: false }];
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Volumes: [{ Name: 'fast-autoscaler-proxy' }],
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({ Name: 'app', Essential: true }),
        // nginx itself: not root, a read-only root filesystem, no capabilities.
        Match.objectLike({
          Name: 'fast-autoscaler-proxy',
          Image: DEFAULT_PROXY_IMAGE,
          Essential: true,
          User: '101:101',
          ReadonlyRootFilesystem: true,
          LinuxParameters: noCapabilities,
          MountPoints: volume,
          EntryPoint: ['nginx'],
          Command: ['-e', 'stderr', '-c', '/fast-autoscaler/nginx.conf', '-g', 'daemon off;'],
          PortMappings: [
            Match.objectLike({ ContainerPort: 8012, Protocol: 'tcp' }),
            Match.objectLike({ ContainerPort: 8022, Protocol: 'tcp' }),
          ],
          DependsOn: [{ ContainerName: 'fast-autoscaler-proxy-init', Condition: 'SUCCESS' }, { ContainerName: 'app', Condition: 'START' }],
        }),
        // The configuration is written to a task volume by a first container, root only for that, with no capabilities.
        Match.objectLike({
          Name: 'fast-autoscaler-proxy-init',
          Image: DEFAULT_PROXY_IMAGE,
          Essential: false,
          User: '0',
          ReadonlyRootFilesystem: true,
          LinuxParameters: noCapabilities,
          MountPoints: volume,
          Environment: [{
            Name: 'FAST_AUTOSCALER_NGINX_CONF',
            Value: Match.stringLikeRegexp('server 127\\.0\\.0\\.1:80;[\\s\\S]*listen 8012 [\\s\\S]*listen 8022;[\\s\\S]*stub_status;'),
          }],
        }),
      ]),
    });
  });

  test('the load balancer targets the proxy port, never the status port', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      LoadBalancers: [Match.objectLike({ ContainerName: 'fast-autoscaler-proxy', ContainerPort: 8012 })],
    });
    const albIngress = template.findResources('AWS::EC2::SecurityGroupIngress', {
      Properties: { SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlbSecurityGroup'), 'GroupId'] } },
    });
    expect(Object.values(albIngress).map(r => [r.Properties.FromPort, r.Properties.ToPort])).toEqual([[8012, 8012]]);
  });

  test('only the controller security group reaches the status port; the controller reaches it and HTTPS only', () => {
    const statusIngress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress', {
      Properties: { FromPort: 8022 },
    }));
    expect(statusIngress).toHaveLength(1);
    expect(statusIngress[0].Properties.ToPort).toBe(8022);
    expect(statusIngress[0].Properties.SourceSecurityGroupId['Fn::GetAtt'][0]).toMatch(/^AutoscalerControlLoopSecurityGroup/);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('fast-autoscaler controller'),
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, IpProtocol: 'tcp', Description: Match.anyValue() }],
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', { FromPort: 8022, ToPort: 8022 });
  });

  test('the controller Lambda runs Node.js 22 on arm64 inside the service VPC', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      VpcConfig: { SubnetIds: Match.anyValue(), SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^AutoscalerControlLoopSecurityGroup'), 'GroupId'] }] },
    });
  });

  test('the Lambda gets the whole configuration with the defaults', () => {
    expect(controllerConfig(template)).toEqual({
      cluster: 'REF',
      service: 'REF',
      table: 'REF',
      policy: { type: 'targetTracking', metric: 'ACTIVE_CONNECTIONS', targetPerTask: 100 },
      minTasks: 2,
      maxTasks: 50,
      maxScaleOutStep: 50,
      intervalSeconds: 3,
      scaleInEnabled: false,
      scaleInWindowSeconds: 300,
      maxFailedScrapeRatio: 0.5,
      source: { type: 'nginxProxy' },
      statusPort: 8022,
      runSeconds: 230,
      dryRun: false,
      topicArn: 'REF',
      // What the default alarms read.
      publishMetrics: ['Recommendation', 'ScrapesFailed', 'TasksScraped', 'Ticks'],
    });
  });

  test('an on-demand DynamoDB table holds the state', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    });
  });

  test('an Express state machine, logged, with Tick and Wait (the controller scales and notifies)', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'EXPRESS',
      LoggingConfiguration: { Level: 'ERROR', IncludeExecutionData: false, Destinations: Match.anyValue() },
    });
    const definition = stateMachineDefinition(Template.fromStack(stack));
    expect(Object.keys(definition.States).sort()).toEqual(
      ['CountFailure', 'Done', 'GiveUp', 'KeepGoing?', 'ResetFailures', 'Start', 'StartSuccessor', 'Tick', 'TooManyFailures?', 'WaitForNextTick', 'WaitInterval'],
    );
    expect(definition.States.WaitInterval).toMatchObject({ Type: 'Wait', Seconds: 3, Next: 'Tick' });
    expect(definition.States.WaitForNextTick).toMatchObject({ Type: 'Wait', TimestampPath: '$.tick.nextTickAt', Next: 'Tick' });
    expect(definition.States.Tick.Catch[0]).toMatchObject({ ErrorEquals: ['States.ALL'], Next: 'CountFailure' });
    // JSONPath only, and never a ResultPath of "$" (the local executor mishandles it).
    expect(JSON.stringify(definition)).not.toMatch(/"ResultPath":"\$"|QueryLanguage/);
  });

  test('an EventBridge schedule starts a run every minute', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 minute)',
      Target: Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('StateMachine') }, RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 120 } }),
    });
  });

  test('the controller may read this table; the service\'s own policy lets it read and update this cluster and service and publish to this topic', () => {
    expect(policyOf(template, /^AutoscalerControlLoopFunctionServiceRoleDefaultPolicy/).Statement).toEqual([
      { Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Effect: 'Allow', Resource: [{ 'Fn::GetAtt': [expect.stringMatching(/^AutoscalerControlLoopState/), 'Arn'] }] },
    ]);
    const policy = policyOf(template, /^AutoscalerLoopPermissions/);
    expect(policy.Statement).toEqual([
      { Action: 'ecs:ListTasks', Effect: 'Allow', Resource: '*', Condition: { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': ['ClusterEB0386A7', 'Arn'] } } } },
      {
        Action: 'ecs:DescribeTasks',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:eu-west-1:123456789012:task/', { Ref: 'ClusterEB0386A7' }, '/*']] },
        Condition: { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': ['ClusterEB0386A7', 'Arn'] } } },
      },
      { Action: ['ecs:DescribeServices', 'ecs:UpdateService'], Effect: 'Allow', Resource: { Ref: 'WebServiceDF29B54C' } },
      { Action: 'sns:Publish', Effect: 'Allow', Resource: { Ref: 'TopicBFC7AF6E' } },
    ]);
    const attached = Object.entries(template.findResources('AWS::IAM::Policy')).find(([k]) => /^AutoscalerLoopPermissions/.test(k))![1];
    expect(attached.Properties.Roles).toEqual([{ Ref: expect.stringMatching(/^AutoscalerControlLoopFunctionServiceRole/) }]);
  });

  test('the state machine may invoke the controller, and nothing on ECS or SNS', () => {
    const policy = policyOf(template, /^AutoscalerControlLoopStateMachineRoleDefaultPolicy/);
    const byAction = Object.fromEntries(policy.Statement.map((s: any) => [JSON.stringify(s.Action), s.Resource]));
    expect(JSON.stringify(policy)).not.toMatch(/ecs:|sns:/);
    expect(byAction['"lambda:InvokeFunction"']).toHaveLength(2);
    // Log delivery is the one action AWS authorizes on "*" only.
    const starred = policy.Statement.filter((s: any) => s.Resource === '*').flatMap((s: any) => s.Action);
    expect(starred.every((a: string) => a.startsWith('logs:'))).toBe(true);
  });

  test('no managed policies anywhere', () => {
    const roles = Object.values(template.findResources('AWS::IAM::Role'));
    for (const role of roles) {
      const managed = JSON.stringify(role.Properties.ManagedPolicyArns ?? []);
      expect(managed).not.toMatch(/FullAccess|AdministratorAccess/);
    }
  });
});

describe('FastAutoscaler options', () => {
  test('dry run leaves out the UpdateService permission', () => {
    const { stack } = typicalStack({ withTopic: true, props: { dryRun: true } });
    expect(controllerConfig(Template.fromStack(stack))).toMatchObject({ dryRun: true, topicArn: 'REF' });
    expect(JSON.stringify(Template.fromStack(stack).toJSON())).not.toMatch(/updateService/i);
  });

  test('without a topic there is no topic in the configuration and no SNS permission', () => {
    const { stack } = typicalStack();
    expect(controllerConfig(Template.fromStack(stack)).topicArn).toBeUndefined();
    expect(JSON.stringify(Template.fromStack(stack).toJSON())).not.toMatch(/sns:Publish/);
  });

  test('interval, scale-in, steps, ports and image reach the task definition and the controller', () => {
    const { stack } = typicalStack({
      props: {
        interval: Duration.seconds(1),
        disableScaleIn: false,
        scaleInWindow: Duration.minutes(2),
        maxScaleOutStep: 4,
        proxyPort: 9000,
        statusPort: 9001,
        proxyImage: ecs.ContainerImage.fromRegistry('example.com/my-nginx:1'),
        policy: ScalingPolicy.steps({
          metric: ScalingMetric.IN_FLIGHT_REQUESTS,
          steps: [{ threshold: 50, desiredTasks: 2 }, { threshold: 100, desiredTasks: 10 }],
        }),
      },
    });
    const template = Template.fromStack(stack);
    expect(controllerConfig(template)).toMatchObject({
      intervalSeconds: 1,
      scaleInEnabled: true,
      scaleInWindowSeconds: 120,
      maxScaleOutStep: 4,
      statusPort: 9001,
      policy: { type: 'steps', metric: 'IN_FLIGHT_REQUESTS', steps: [{ threshold: 50, desiredTasks: 2 }, { threshold: 100, desiredTasks: 10 }] },
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([Match.objectLike({ Name: 'fast-autoscaler-proxy', Image: 'example.com/my-nginx:1' })]),
    });
    expect(stateMachineDefinition(Template.fromStack(stack)).States.WaitInterval.Seconds).toBe(1);
  });

  test('the app container and port can be named', () => {
    const { stack, autoscaler } = typicalStack({ props: { appPort: 8080 } });
    expect(autoscaler.proxyContainer.containerName).toBe('fast-autoscaler-proxy');
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([Match.objectLike({
        Environment: [{ Name: 'FAST_AUTOSCALER_NGINX_CONF', Value: Match.stringLikeRegexp('server 127\\.0\\.0\\.1:8080;') }],
      })]),
    });
  });

  test('exposes the state machine, function, table, security group and schedule', () => {
    const { autoscaler } = typicalStack();
    expect(autoscaler.stateMachine.stateMachineArn).toBeDefined();
    expect(autoscaler.controllerFunction.functionArn).toBeDefined();
    expect(autoscaler.stateTable.tableName).toBeDefined();
    expect(autoscaler.controllerSecurityGroup.securityGroupId).toBeDefined();
    expect(autoscaler.schedule.scheduleArn).toBeDefined();
  });
});

describe('FastAutoscaler validation', () => {
  const invalid: Array<[string, Parameters<typeof typicalStack>[0], RegExp]> = [
    ['minTasks above maxTasks', { props: { minTasks: 5, maxTasks: 3 } }, /`minTasks` \(5\) must not be above `maxTasks` \(3\)/],
    ['maxTasks zero', { props: { maxTasks: 0 } }, /`maxTasks` must be a whole number from 1 to 5000, got 0/],
    ['fractional minTasks', { props: { minTasks: 1.5 } }, /`minTasks` must be a whole number from 1 to 5000, got 1.5/],
    ['minTasks zero (nothing left to measure)', { props: { minTasks: 0 } },
      /`minTasks` must be a whole number from 1 to 5000, got 0: the metric source reads the running tasks, so with none running the autoscaler could never scale out again/],
    ['interval below 1 s', { props: { interval: Duration.millis(500) } }, /`interval` must be whole seconds from 1 to 60, got 500 millis/],
    ['interval above 60 s', { props: { interval: Duration.seconds(61) } }, /`interval` must be whole seconds from 1 to 60, got 1 minute 1 second/],
    ['interval not whole', { props: { interval: Duration.millis(1500) } }, /`interval` must be whole seconds from 1 to 60/],
    ['scale-in window shorter than the interval', { props: { interval: Duration.seconds(10), scaleInWindow: Duration.seconds(5) } },
      /`scaleInWindow` must be whole seconds from 10 to 3600, got 5 seconds/],
    ['proxy port on the app port', { props: { proxyPort: 80 } }, /`appPort` and `proxyPort` must differ, both are 80/],
    ['status port on the proxy port', { props: { statusPort: 8012 } }, /`proxyPort` and `statusPort` must differ, both are 8012/],
    ['port out of range', { props: { statusPort: 70000 } }, /`statusPort` must be a whole number from 1024 to 65535, got 70000/],
    ['scrape ratio above 1', { props: { maxFailedScrapeRatio: 1.5 } }, /`maxFailedScrapeRatio` must be from 0 to 1, got 1.5/],
    ['maxScaleOutStep zero', { props: { maxScaleOutStep: 0 } }, /`maxScaleOutStep` must be a whole number from 1 to 5000, got 0/],
    ['a step outside the task bounds', {
      props: { policy: ScalingPolicy.steps({ metric: ScalingMetric.ACTIVE_CONNECTIONS, steps: [{ threshold: 50, desiredTasks: 80 }] }) },
    }, /`steps\[0\].desiredTasks` must be within `minTasks`..`maxTasks` \(2..50\), got 80/],
  ];
  test.each(invalid)('rejects %s', (_name, options, message) => {
    expect(() => typicalStack(options)).toThrow(message);
  });

  test('names missing required props, as plain JavaScript may omit them', () => {
    const { stack } = typicalStack();
    expect(() => new FastAutoscaler(stack, 'Bare', {} as any)).toThrow(
      /Invalid FastAutoscaler props:\n {2}`service` is required\n {2}`policy` is required\n {2}`maxTasks` is required/,
    );
  });

  test('lists every error at once', () => {
    expect(() => typicalStack({ props: { minTasks: -1, proxyPort: 0 } })).toThrow(
      /Invalid FastAutoscaler props:\n {2}`proxyPort` must be a whole number from 1024 to 65535, got 0: the sidecar runs as a non-root user, which cannot listen below 1024\n {2}`minTasks` must be/,
    );
  });

  test.each([
    ['not ascending', [{ threshold: 100, desiredTasks: 2 }, { threshold: 50, desiredTasks: 4 }], /`steps` must be in ascending order of threshold: `steps\[1\].threshold` is 50, not above `steps\[0\].threshold` 100/],
    ['fewer tasks higher up', [{ threshold: 50, desiredTasks: 4 }, { threshold: 100, desiredTasks: 2 }], /`steps\[1\].desiredTasks` is 2, below `steps\[0\].desiredTasks` 4/],
    ['empty', [], /`steps` must hold at least one step, got an empty list/],
    ['negative threshold', [{ threshold: -1, desiredTasks: 2 }], /`steps\[0\].threshold` must be a number greater than 0, got -1/],
  ])('rejects steps that are %s', (_name, steps, message) => {
    expect(() => ScalingPolicy.steps({ metric: ScalingMetric.ACTIVE_CONNECTIONS, steps })).toThrow(message);
  });

  test.each([0, -5, NaN])('rejects targetPerTask %p', target => {
    expect(() => ScalingPolicy.targetTracking({ metric: ScalingMetric.IN_FLIGHT_REQUESTS, targetPerTask: target }))
      .toThrow(`\`targetPerTask\` must be a number greater than 0, got ${target}`);
  });

  test('tokens pass construction-time checks', () => {
    const token = Lazy.number({ produce: () => 9100 });
    expect(() => typicalStack({ props: { statusPort: token } })).not.toThrow();
  });

  test('rejects a task definition that is not Fargate/awsvpc', () => {
    const stack = new Stack();
    const { cluster } = fargateService(stack);
    const taskDefinition = new ecs.Ec2TaskDefinition(stack, 'Ec2Task', { networkMode: ecs.NetworkMode.BRIDGE });
    taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('nginx'), memoryLimitMiB: 256, portMappings: [{ containerPort: 80 }] });
    cluster.addCapacity('Capacity', { instanceType: new ec2.InstanceType('t3.micro') });
    const service = new ecs.Ec2Service(stack, 'Ec2Service', { cluster, taskDefinition });
    expect(() => new FastAutoscaler(stack, 'A', {
      service,
      maxTasks: 5,
      policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 10 }),
    })).toThrow(/`service` must run a Fargate-compatible task definition in the awsvpc network mode, got network mode bridge and no FARGATE compatibility/);
  });

  test('requires an app port when the app container has none', () => {
    const stack = new Stack();
    const { service } = fargateService(stack);
    const bare = service.taskDefinition.addContainer('worker', { image: ecs.ContainerImage.fromRegistry('busybox') });
    expect(() => new FastAutoscaler(stack, 'A', {
      service,
      appContainer: bare,
      maxTasks: 5,
      policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 10 }),
    })).toThrow('`appPort` is required: the container `worker` has no port mapping');
  });
});

describe('FastAutoscaler warnings', () => {
  test('warns when the service fixes desiredCount in the template', () => {
    const { stack } = typicalStack({ desiredCount: 3 });
    Annotations.fromStack(stack).hasWarning('/Typical/Autoscaler', Match.stringLikeRegexp('sets `desiredCount` \\(3\\) in the template'));
  });

  test('warns when the load balancer bypasses the proxy', () => {
    const { stack } = typicalStack({ bypassProxy: true });
    Annotations.fromStack(stack).hasWarning('/Typical/Autoscaler', Match.stringLikeRegexp('targets the app container `app` on port 80 directly'));
  });

  test('no warnings for the typical setup', () => {
    const { stack } = typicalStack();
    Annotations.fromStack(stack).hasNoWarning('/Typical/Autoscaler', Match.anyValue());
  });
});

test('snapshot of a typical stack', () => {
  const { stack } = typicalStack({ withTopic: true });
  const json = JSON.stringify(Template.fromStack(stack).toJSON(), null, 1)
    // The Lambda bundle's hash changes with every controller change; the template around it is what matters here.
    .replace(/[0-9a-f]{64}(\.zip)?/g, 'ASSET_HASH$1');
  expect(JSON.parse(json)).toMatchSnapshot();
});

function policyOf(template: Template, id: RegExp): any {
  const [entry] = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([k]) => id.test(k));
  return entry[1].Properties.PolicyDocument;
}
