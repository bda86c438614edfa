// The TypeScript side of the Python and Java comparisons, synthesized to templates:
// - Typical: the typical stack that the construct tests use (a Fargate service behind an ALB,
//   wrapped by a FastAutoscaler with a topic), the props most users pass;
// - Tuned: the same service with the props that cross the language boundary in other shapes:
//   a step policy (an array of structs), a metric source (an enum-like class with options), Durations, a Size, an alarm action (an interface
//   implemented by aws-cdk-lib), enums of aws-cdk-lib, booleans away from their defaults.
// It also writes the message that bad props (maxTasks: 0) raise.
// examples/python-app and examples/java-app build both stacks; their templates must be equal.
// Usage: ts-node typical-app.ts <typical.template.json> <bad-props-message.txt>
//        (the Tuned template goes next to the first file, as typescript-tuned.template.json)
import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, Size, Stack } from 'aws-cdk-lib';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { FastAutoscaler, MetricSource, ScalingMetric, ScalingPolicy } from '../../src';
import { fargateService, typicalStack } from '../support/typical-stack';

const [templateFile, messageFile] = process.argv.slice(2);
if (!templateFile || !messageFile) throw new Error('usage: typical-app.ts <typical.template.json> <bad-props-message.txt>');
const tunedFile = path.join(path.dirname(templateFile), 'typescript-tuned.template.json');

/** The Tuned stack; examples/python-app (TunedStack) and examples/java-app (TunedStack.java) build the same. */
function tunedStack(): { app: App; stack: Stack } {
  const app = new App();
  const stack = new Stack(app, 'Tuned', { env: { account: '123456789012', region: 'eu-west-1' } });
  const { vpc, service } = fargateService(stack);
  const topic = new sns.Topic(stack, 'Topic');
  const autoscaler = new FastAutoscaler(stack, 'Autoscaler', {
    service,
    policy: ScalingPolicy.steps({
      metric: ScalingMetric.REQUESTS_PER_SECOND,
      steps: [
        { threshold: 50, desiredTasks: 4 },
        { threshold: 200, desiredTasks: 12 },
      ],
    }),
    minTasks: 2,
    maxTasks: 20,
    maxScaleOutStep: 5,
    interval: Duration.seconds(5),
    disableScaleIn: false,
    scaleInWindow: Duration.minutes(10),
    metricSource: MetricSource.nginxProxy({ maxRequestBodySize: Size.mebibytes(10), timeout: Duration.minutes(10) }),
    topic,
    alarmAction: new cw_actions.SnsAction(topic),
    createDashboard: true,
    logRetention: logs.RetentionDays.ONE_WEEK,
    stateMachineLogLevel: sfn.LogLevel.ALL,
  });
  const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
  alb.addListener('Http', { port: 80 }).addTargets('Web', { port: 80, targets: [autoscaler.loadBalancerTarget] });
  return { app, stack };
}

function write(file: string, built: { app: App; stack: Stack }): number {
  const template = built.app.synth().getStackArtifact(built.stack.artifactId).template;
  fs.writeFileSync(file, JSON.stringify(template, undefined, 1));
  return Object.keys(template.Resources).length;
}

const typicalResources = write(templateFile, typicalStack({ withTopic: true }));
const tunedResources = write(tunedFile, tunedStack());

let message: string | undefined;
try {
  typicalStack({ withTopic: true, props: { maxTasks: 0 } });
} catch (e) {
  message = (e as Error).message;
}
if (!message) throw new Error('maxTasks: 0 was accepted');
fs.writeFileSync(messageFile, message);
console.log(`typical-app: Typical ${typicalResources} resources, Tuned ${tunedResources}; maxTasks: 0 -> ${JSON.stringify(message)}`);
