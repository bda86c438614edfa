import { App, Duration, Stack, StackProps } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import { FastAutoscaler, MetricSource, ScalingLoop, ScalingMetric, ScalingPolicy } from '../src';
import { renderedLoopConfig } from './support/controller-config-fixture';
import { CONTROLLER_FUNCTION_PROPS, placeholderText } from './support/template-lookups';
import { serviceConfigOf } from '../src/controller/loop-config';

const ENV = { account: '123456789012', region: 'eu-west-1' };

/** A platform stack with the VPC, the cluster and the loop. */
class PlatformStack extends Stack {
  public readonly vpc: ec2.Vpc;
  public readonly cluster: ecs.Cluster;
  public readonly loop: ScalingLoop;
  constructor(scope: Construct, id: string, props: StackProps & { key?: boolean } = {}) {
    super(scope, id, { env: ENV, ...props });
    this.vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 1 });
    this.cluster = new ecs.Cluster(this, 'Cluster', { vpc: this.vpc });
    this.loop = new ScalingLoop(this, 'Loop', {
      vpc: this.vpc,
      encryptionKey: props.key ? new kms.Key(this, 'Key', { enableKeyRotation: true }) : undefined,
    });
  }
}

/** A service of its own in an application stack, joined to the platform's loop. */
function appService(scope: Construct, id: string, platform: PlatformStack, props: Partial<ConstructorParameters<typeof FastAutoscaler>[2]> = {}) {
  const taskDefinition = new ecs.FargateTaskDefinition(scope, `${id}Task`);
  taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/httpd:2.4'), portMappings: [{ containerPort: 80 }] });
  const service = new ecs.FargateService(scope, `${id}Service`, { cluster: platform.cluster, taskDefinition });
  return new FastAutoscaler(scope, id, {
    service,
    policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 100 }),
    maxTasks: 100,
    loop: platform.loop,
    ...props,
  });
}

describe('a loop in a platform stack, services in application stacks', () => {
  const app = new App();
  const platform = new PlatformStack(app, 'Platform');
  const apps = new Stack(app, 'Apps', { env: ENV });
  const topic = new sns.Topic(apps, 'Topic');
  appService(apps, 'Api', platform, { topic, maxTasks: 150 });
  appService(apps, 'Web', platform, { dryRun: true, maxTasks: 150 });
  const assembly = app.synth();
  const platformTemplate = Template.fromStack(platform);
  const appsTemplate = Template.fromStack(apps);

  test('synthesizes without a cycle: the application stack depends on the platform stack, never the reverse', () => {
    expect(assembly.getStackByName('Apps').dependencies.map(d => d.id)).toContain('Platform');
    expect(assembly.getStackByName('Platform').dependencies.map(d => d.id)).not.toContain('Apps');
    expect(JSON.stringify(platformTemplate.toJSON())).not.toMatch(/Fn::ImportValue|ApiService|WebService/);
  });

  test('the loop lists its services through SSM; each service writes its own entry under the loop\'s path', () => {
    const loop = renderedLoopConfig(platformTemplate);
    expect(loop).toMatchObject({ intervalSeconds: 3, runSeconds: 230, loopMetrics: true, registryPath: expect.stringMatching(/^\/fast-autoscaler\//) });
    expect(loop.services).toBeUndefined();
    const parameters = Object.values(appsTemplate.findResources('AWS::SSM::Parameter'));
    expect(parameters).toHaveLength(2);
    for (const p of parameters) {
      expect(p.Properties).toMatchObject({ Type: 'String', Tier: 'Intelligent-Tiering' });
      expect(p.Properties.Name).toMatch(new RegExp(`^${loop.registryPath}/[A-Za-z0-9-]+$`));
      // Written once the service's role may act on it.
      expect(p.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/LoopRoleDefaultPolicy/)]));
    }
    const entries = parameters.map(p => serviceConfigOf(JSON.parse(placeholderText(p.Properties.Value)), loop));
    expect(entries.map(e => [e.maxTasks, e.dryRun, e.topicArn, e.publishMetrics])).toEqual([
      [150, false, 'REF', ['Degraded']],
      [150, true, undefined, ['Degraded']],
    ]);
    // The controller may read the registry path and nothing else of SSM.
    const statements = Object.values(platformTemplate.findResources('AWS::IAM::Policy')).flatMap(p => p.Properties.PolicyDocument.Statement);
    const ssm = statements.filter(st => JSON.stringify(st.Action).includes('ssm:'));
    expect(ssm).toEqual([{ Action: 'ssm:GetParametersByPath', Effect: 'Allow', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ssm:eu-west-1:123456789012:parameter${loop.registryPath}`]] } }]);
  });

  test('each service has its own role in its own stack, which only the loop\'s controller may assume, scoped to its cluster, service and topic', () => {
    const loop = renderedLoopConfig(platformTemplate);
    const roles = Object.entries(appsTemplate.findResources('AWS::IAM::Role')).filter(([id]) => /LoopRole/.test(id));
    expect(roles.map(([id]) => id).sort()).toEqual([expect.stringMatching(/^ApiLoopRole/), expect.stringMatching(/^WebLoopRole/)]);
    for (const [, role] of roles) {
      expect(role.Properties.Path).toBe(`${loop.registryPath}/`);
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { AWS: { 'Fn::ImportValue': expect.stringMatching(/^Platform:ExportsOutputFnGetAttLoopControlLoopFunctionServiceRole.*Arn/) } },
      }]);
    }
    const policies = Object.entries(appsTemplate.findResources('AWS::IAM::Policy')).filter(([id]) => /LoopRoleDefaultPolicy/.test(id));
    for (const [id, p] of policies) {
      expect(p.Properties.Roles).toEqual([{ Ref: expect.stringMatching(/LoopRole[0-9A-F]{8}$/) }]);
      const actions = p.Properties.PolicyDocument.Statement.map((st: any) => st.Action);
      if (id.startsWith('Api')) expect(actions).toEqual(['ecs:ListTasks', 'ecs:DescribeTasks', ['ecs:DescribeServices', 'ecs:UpdateService'], 'sns:Publish']);
      // A dry run may not scale.
      else expect(actions).toEqual(['ecs:ListTasks', 'ecs:DescribeTasks', 'ecs:DescribeServices']);
    }
    // The loop's own stack grants nothing on ECS or SNS: a service removed from the app leaves no permission behind.
    const platformStatements = Object.values(platformTemplate.findResources('AWS::IAM::Policy')).flatMap(p => p.Properties.PolicyDocument.Statement);
    expect(JSON.stringify(platformStatements)).not.toMatch(/"ecs:|"sns:/);
    // Its controller may assume the roles under the loop's path, no other.
    expect(platformStatements).toContainEqual({
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::123456789012:role${loop.registryPath}/*`]] },
    });
  });

  test('the controller\'s role does not grow with the services: IAM caps a role\'s inline policies at 10,240 characters', () => {
    const size = (services: number) => {
      const a = new App();
      const p = new PlatformStack(a, 'Platform');
      const s = new Stack(a, 'Apps', { env: ENV });
      for (let i = 0; i < services; i++) appService(s, `S${i}`, p);
      const statements = Object.values(Template.fromStack(p).findResources('AWS::IAM::Policy'))
        .filter(x => JSON.stringify(x.Properties.Roles).includes('FunctionServiceRole'));
      return JSON.stringify(statements).length;
    };
    expect(size(30)).toBe(size(1));
  });

  test('each service lets the loop\'s controller in on its status port, from its own stack', () => {
    appsTemplate.resourcePropertiesCountIs('AWS::EC2::SecurityGroupIngress', {
      FromPort: 8022,
      ToPort: 8022,
      IpProtocol: 'tcp',
      SourceSecurityGroupId: { 'Fn::ImportValue': Match.stringLikeRegexp('^Platform:ExportsOutputFnGetAttLoopControlLoopSecurityGroup') },
    }, 2);
  });

  test('the controller\'s memory is sized from the sum of the services\' maxTasks', () => {
    // 150 + 150 = 300 tasks: the 1,000-task tier.
    platformTemplate.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 512, ...CONTROLLER_FUNCTION_PROPS });
  });

  test('each service has one health alarm by default, the loop its own three', () => {
    const serviceAlarms = Object.values(appsTemplate.findResources('AWS::CloudWatch::Alarm'));
    expect(serviceAlarms).toHaveLength(2);
    for (const alarm of serviceAlarms) {
      expect(alarm.Properties).toMatchObject({ EvaluationPeriods: 3, DatapointsToAlarm: 3, Threshold: 0.5, TreatMissingData: 'breaching' });
      expect(alarm.Properties.Metrics[0]).toMatchObject({ Expression: 'FILL(degraded, 1)' });
      expect(alarm.Properties.Metrics[1].MetricStat.Metric).toMatchObject({ MetricName: 'Degraded', Namespace: 'FastAutoscaler' });
    }
    const loopAlarms = Object.keys(platformTemplate.findResources('AWS::CloudWatch::Alarm'));
    expect(loopAlarms.map(id => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['LoopAlarmsLoopStoppedTicking', 'LoopAlarmsRunsGivingUp', 'LoopAlarmsStartsDeadLettered']);
  });

  test('cdk-nag finds nothing on the loop or the services, every acknowledgment with its reason', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    const ours = report.violations.filter(v => v.violatingResources.some(r => /\/(Loop|Api|Web)\//.test(r.constructPath ?? '')));
    expect(ours.map(v => `${v.ruleName} ${v.violatingResources.map(r => r.constructPath).join(',')}`)).toEqual([]);
  });
});

describe('joining is checked before anything is added', () => {
  test('a service in another VPC, region or account is a synth error that says why', () => {
    const app = new App();
    const platform = new PlatformStack(app, 'Platform');
    const other = new Stack(app, 'Other', { env: ENV });
    const vpc = new ec2.Vpc(other, 'Vpc');
    const cluster = new ecs.Cluster(other, 'Cluster', { vpc });
    const taskDefinition = new ecs.FargateTaskDefinition(other, 'Task');
    taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('x'), portMappings: [{ containerPort: 80 }] });
    const service = new ecs.FargateService(other, 'Service', { cluster, taskDefinition });
    const join = () => new FastAutoscaler(other, 'A', {
      service, policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 1 }), maxTasks: 5, loop: platform.loop,
    });
    expect(join).toThrow(/`loop` must run in the service's VPC \(Other\/Vpc\), got Platform\/Vpc: the controller reads every task's status port from inside the VPC/);
    // Nothing was added to the task definition.
    expect(taskDefinition.findContainer('fast-autoscaler-proxy')).toBeUndefined();

    const elsewhere = new Stack(app, 'Elsewhere', { env: { account: '123456789012', region: 'us-east-1' } });
    expect(() => appService(elsewhere, 'B', platform)).toThrow(/`loop` must be in the service's account and region \(123456789012\/us-east-1\), got 123456789012\/eu-west-1/);
  });

  test('what the loop owns cannot be set on a service that joins it', () => {
    const app = new App();
    const platform = new PlatformStack(app, 'Platform');
    const apps = new Stack(app, 'Apps', { env: ENV });
    expect(() => appService(apps, 'A', platform, {
      interval: Duration.seconds(1), controllerMemorySize: 1024, encryptionKey: new kms.Key(apps, 'K'), controllerReservedConcurrency: 3,
    })).toThrow(new RegExp([
      '`controllerReservedConcurrency` must not be set beside `loop`: the shared loop owns it \\(set `reservedConcurrency` on the ScalingLoop\\)',
      '`controllerMemorySize` must not be set beside `loop`',
      '`encryptionKey` must not be set beside `loop`',
    ].join('[\\s\\S]*')));
    expect(() => appService(apps, 'B', platform, { interval: Duration.seconds(1) })).toThrow(/`interval` must not be set beside `loop`/);
    expect(() => appService(apps, 'C', platform, { loop: { interval: Duration.seconds(3) } as any })).toThrow('`loop` must be a ScalingLoop, got {"interval"');
    // A construct (circular, no JSON) is named by its class and path, not by a TypeError of JSON.stringify.
    expect(() => appService(apps, 'D', platform, { loop: platform as any })).toThrow(/`loop` must be a ScalingLoop, got \w+ Platform/);
  });

  test('the loop\'s own props are checked, naming each', () => {
    const stack = new Stack(new App(), 'S', { env: ENV });
    const vpc = new ec2.Vpc(stack, 'Vpc');
    expect(() => new ScalingLoop(stack, 'L', { vpc, interval: Duration.millis(1500), reservedConcurrency: -1, controllerMemorySize: 64 })).toThrow(
      /`interval` must be whole seconds from 1 to 60[\s\S]*`reservedConcurrency` must be a whole number from 0 to 1000, got -1[\s\S]*`controllerMemorySize` must be a whole number from 128 to 10240, got 64/);
    expect(() => new ScalingLoop(stack, 'M', undefined as any)).toThrow('`vpc` is required');
    // 0 reserves no concurrency.
    const loop = new ScalingLoop(stack, 'N', { vpc, reservedConcurrency: 0 });
    expect((loop.controllerFunction.node.defaultChild as any).reservedConcurrentExecutions).toBeUndefined();
  });
});

describe('encryption with the user\'s key', () => {
  const app = new App();
  const platform = new PlatformStack(app, 'Platform', { key: true });
  const apps = new Stack(app, 'Apps', { env: ENV });
  appService(apps, 'Api', platform, { metricSource: MetricSource.taskAgent() });
  appService(apps, 'Web', platform);
  const platformTemplate = Template.fromStack(platform);
  const appsTemplate = Template.fromStack(apps);
  const keyRef = { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] };

  test('the table, every log group, the state machine, the dead-letter queue and the controller\'s environment', () => {
    platformTemplate.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyRef } });
    const groups = Object.values(platformTemplate.findResources('AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(2);
    for (const g of groups) expect(g.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] });
    platformTemplate.hasResourceProperties('AWS::StepFunctions::StateMachine', { EncryptionConfiguration: { Type: 'CUSTOMER_MANAGED_KMS_KEY', KmsKeyId: keyRef } });
    platformTemplate.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: keyRef });
    platformTemplate.hasResourceProperties('AWS::Lambda::Function', { KmsKeyArn: keyRef });
    // The sidecars' log groups, in the services' stack.
    const sidecarGroups = Object.values(appsTemplate.findResources('AWS::Logs::LogGroup'));
    expect(sidecarGroups).toHaveLength(2);
    for (const g of sidecarGroups) expect(g.Properties.KmsKeyId).toEqual({ 'Fn::ImportValue': expect.stringMatching(/^Platform:ExportsOutputFnGetAttKey/) });
  });

  test('the key\'s policy lets CloudWatch Logs of this account and region use it', () => {
    const [key] = Object.values(platformTemplate.findResources('AWS::KMS::Key'));
    expect(key.Properties.KeyPolicy.Statement).toContainEqual(expect.objectContaining({
      Sid: 'AllowCloudWatchLogsOfThisAccount',
      Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
      Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:eu-west-1:123456789012:log-group:*']] } } },
    }));
  });

  test('the schedule may use the key to dead-letter a start, the controller to read its state', () => {
    const statements = Object.values(platformTemplate.findResources('AWS::IAM::Policy')).flatMap(p => p.Properties.PolicyDocument.Statement);
    const keyed = statements.filter(st => JSON.stringify(st.Resource).includes('Key'));
    expect(keyed.map(st => st.Action).flat()).toEqual(expect.arrayContaining(['kms:GenerateDataKey*', 'kms:Decrypt', 'kms:Encrypt']));
  });

  test('a FastAutoscaler on its own takes a key too', () => {
    const stack = new Stack(new App(), 'Alone', { env: ENV });
    const vpc = new ec2.Vpc(stack, 'Vpc');
    const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
    const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task');
    taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('x'), portMappings: [{ containerPort: 80 }] });
    new FastAutoscaler(stack, 'A', {
      service: new ecs.FargateService(stack, 'Service', { cluster, taskDefinition }),
      policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 1 }),
      maxTasks: 5,
      encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
    });
    const template = Template.fromStack(stack);
    for (const g of Object.values(template.findResources('AWS::Logs::LogGroup'))) expect(g.Properties.KmsKeyId).toBeDefined();
    template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEType: 'KMS' } });
  });
});
