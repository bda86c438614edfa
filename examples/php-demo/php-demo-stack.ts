import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
// In your own app: import { FastAutoscaler, ScalingMetric, ScalingPolicy } from 'cdk-fast-autoscaler';
import { FastAutoscaler, ScalingMetric, ScalingPolicy } from '../../src';

/**
 * A complete deployable demo: a PHP app (phpinfo) on Fargate behind an internet-facing ALB,
 * scaled by FastAutoscaler, with an SNS topic for scaling notices. Environment-agnostic:
 * `cdk synth` needs neither credentials nor context lookups.
 */
export class PhpDemoStack extends Stack {
  public readonly autoscaler: FastAutoscaler;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      flowLogs: { all: { trafficType: ec2.FlowLogTrafficType.REJECT } },
    });
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', { cpu: 512, memoryLimitMiB: 1024 });
    taskDefinition.addContainer('php', {
      // A stock public image; the page is written at start, so no Docker build is needed.
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/php:8.3-apache'),
      entryPoint: ['/bin/sh', '-c'],
      command: ['echo "<?php phpinfo();" > /var/www/html/index.php && exec apache2-foreground'],
      portMappings: [{ containerPort: 80 }],
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'php', logRetention: logs.RetentionDays.ONE_WEEK }),
    });
    // desiredCount is left unset on purpose: the autoscaler owns it.
    const service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition,
      minHealthyPercent: 100,
      circuitBreaker: { rollback: true },
    });

    const topic = new sns.Topic(this, 'ScalingEvents', { displayName: 'fast-autoscaler demo', enforceSSL: true });
    this.autoscaler = new FastAutoscaler(this, 'Autoscaler', {
      service,
      policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 50 }),
      minTasks: 2,
      maxTasks: 20,
      topic,
    });

    const alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', { vpc, internetFacing: true, dropInvalidHeaderFields: true });
    const listener = alb.addListener('Http', { port: 80 });
    listener.addTargets('Php', {
      port: 80,
      targets: [this.autoscaler.loadBalancerTarget],
      healthCheck: { path: '/', interval: Duration.seconds(10), healthyThresholdCount: 2 },
      deregistrationDelay: Duration.seconds(10),
    });

    // The demo's own choices, each acknowledged with its reason (cdk-nag AwsSolutions).
    Validations.of(alb).acknowledge({ id: 'AwsSolutions-ELB2', reason: 'A demo ALB: access logs would need a log bucket that outlives `cdk destroy`.' });
    Validations.of(alb).acknowledge({ id: 'AwsSolutions-EC23', reason: 'The demo ALB is public on port 80 by design: anyone may load the page.' });
    Validations.of(topic).acknowledge({ id: 'AwsSolutions-SNS2', reason: 'The topic carries scaling notices only (service name, task counts): nothing to encrypt with a customer key.' });
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The only environment variable is the proxy\'s nginx configuration, which the construct writes; it holds no secret.',
    });
    for (const resource of [vpc, cluster]) resource.applyRemovalPolicy(RemovalPolicy.DESTROY);

    new CfnOutput(this, 'Url', { value: `http://${alb.loadBalancerDnsName}/` });
    new CfnOutput(this, 'StateMachine', { value: this.autoscaler.stateMachine.stateMachineArn });
    new CfnOutput(this, 'Topic', { value: topic.topicArn });
  }
}
