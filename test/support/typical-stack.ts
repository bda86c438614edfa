import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { FastAutoscaler, FastAutoscalerProps, ScalingMetric, ScalingPolicy } from '../../src';

export interface TypicalStackOptions {
  /** Props for the autoscaler, over the typical ones. */
  readonly props?: Partial<FastAutoscalerProps>;
  /** Give the service a fixed desired count. */
  readonly desiredCount?: number;
  /** Attach the load balancer to the app container instead of the proxy. */
  readonly bypassProxy?: boolean;
  readonly withTopic?: boolean;
  readonly withLoadBalancer?: boolean;
}

export interface TypicalStack {
  readonly app: App;
  readonly stack: Stack;
  readonly service: ecs.FargateService;
  readonly autoscaler: FastAutoscaler;
  readonly topic?: sns.Topic;
}

/** A Fargate service behind an ALB, wrapped by a FastAutoscaler: what most users build. */
export function typicalStack(o: TypicalStackOptions = {}): TypicalStack {
  const app = new App();
  const stack = new Stack(app, 'Typical', { env: { account: '123456789012', region: 'eu-west-1' } });
  const { service } = fargateService(stack, o.desiredCount);
  const topic = o.withTopic ? new sns.Topic(stack, 'Topic') : undefined;
  const autoscaler = new FastAutoscaler(stack, 'Autoscaler', {
    service,
    policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 100 }),
    minTasks: 2,
    maxTasks: 50,
    topic,
    ...o.props,
  });
  if (o.withLoadBalancer ?? true) {
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc: service.cluster.vpc, internetFacing: true });
    const listener = alb.addListener('Http', { port: 80 });
    listener.addTargets('Web', {
      port: 80,
      targets: [o.bypassProxy ? service : autoscaler.loadBalancerTarget],
    });
  }
  return { app, stack, service, autoscaler, topic };
}

export function fargateService(stack: Stack, desiredCount?: number, appPort = 80) {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task', { cpu: 256, memoryLimitMiB: 512 });
  taskDefinition.addContainer('app', {
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/httpd:2.4'),
    portMappings: [{ containerPort: appPort }],
  });
  const service = new ecs.FargateService(stack, 'Web', { cluster, taskDefinition, desiredCount });
  return { vpc, cluster, taskDefinition, service };
}
