// A user's CDK app, in plain JavaScript, using the library as installed from the tarball.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { App, Stack } = require('aws-cdk-lib');
const { Template } = require('aws-cdk-lib/assertions');
const ec2 = require('aws-cdk-lib/aws-ec2');
const ecs = require('aws-cdk-lib/aws-ecs');
const { FastAutoscaler, MetricSource, ScalingMetric, ScalingPolicy } = require('cdk-fast-autoscaler');

const app = new App({ outdir: path.join(__dirname, 'cdk.out') });
const stack = new Stack(app, 'UserStack');
const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task');
taskDefinition.addContainer('web', { image: ecs.ContainerImage.fromRegistry('nginx'), portMappings: [{ containerPort: 3000 }] });
const service = new ecs.FargateService(stack, 'Service', { cluster, taskDefinition });
const autoscaler = new FastAutoscaler(stack, 'Autoscaler', {
  service,
  policy: ScalingPolicy.steps({ metric: ScalingMetric.ACTIVE_CONNECTIONS, steps: [{ threshold: 50, desiredTasks: 2 }, { threshold: 100, desiredTasks: 10 }] }),
  minTasks: 1,
  maxTasks: 10,
});
assert.ok(autoscaler.loadBalancerTarget);

const template = Template.fromStack(stack);
template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
template.hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs22.x', Architectures: ['arm64'] });
template.hasResourceProperties('AWS::ECS::TaskDefinition', {
  ContainerDefinitions: [
    { Name: 'web' },
    { Name: 'fast-autoscaler-proxy', PortMappings: [{ ContainerPort: 8012 }, { ContainerPort: 8022 }] },
    { Name: 'fast-autoscaler-proxy-init' },
  ],
});
// The other metric sources ship too.
for (const factory of ['nginxProxy', 'taskAgent', 'prometheus', 'sqsQueue']) assert.strictEqual(typeof MetricSource[factory], 'function', factory);
// The controller's bundle ships in the package, and the asset stages from it.
const assembly = app.synth();
const assets = fs.readdirSync(assembly.directory).filter(f => f.startsWith('asset.'));
assert.ok(assets.some(a => fs.existsSync(path.join(assembly.directory, a, 'index.js'))), 'the controller bundle is staged as an asset');
console.log(`installed-app: synthesized ${Object.keys(template.toJSON().Resources).length} resources from the packed tarball`);
