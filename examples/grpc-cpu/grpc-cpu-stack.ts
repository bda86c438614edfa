import { CfnOutput, CfnParameter, Duration, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
// In your own app: import { FastAutoscaler, MetricSource, ScalingMetric, ScalingPolicy } from 'cdk-fast-autoscaler';
import { FastAutoscaler, MetricSource, ScalingMetric, ScalingPolicy } from '../../src';

/** The gRPC port of the example server. */
export const GRPC_PORT = 50051;

/**
 * A gRPC service scaled on CPU with nothing in its data path: the ALB's gRPC target group
 * reaches the app container directly (HTTP/2 end to end), and the task agent beside it reads
 * the task's CPU from the task metadata endpoint on every tick. (The nginx proxy speaks
 * HTTP/1.1 only, and over HTTP/2 the ALB multiplexes many calls on few connections, so
 * neither the proxy nor a connection count fits a gRPC service.)
 *
 * Environment-agnostic: the HTTPS listener's certificate (gRPC needs one on an ALB) is a
 * parameter. Replace the image with your own gRPC server.
 */
export class GrpcCpuStack extends Stack {
  public readonly autoscaler: FastAutoscaler;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const certificateArn = new CfnParameter(this, 'CertificateArn', { description: 'An ACM certificate for the HTTPS listener' });

    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      flowLogs: { all: { trafficType: ec2.FlowLogTrafficType.REJECT } },
    });
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', { cpu: 1024, memoryLimitMiB: 2048 });
    taskDefinition.addContainer('grpc', {
      // gRPC's own example server (the "hostname" example of grpc-java), listening on 50051.
      image: ecs.ContainerImage.fromRegistry('grpc/java-example-hostname:1.62.2'),
      portMappings: [{ containerPort: GRPC_PORT }],
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'grpc', logRetention: logs.RetentionDays.ONE_WEEK }),
    });
    const service = new ecs.FargateService(this, 'Service', { cluster, taskDefinition, minHealthyPercent: 100, circuitBreaker: { rollback: true } });

    this.autoscaler = new FastAutoscaler(this, 'Autoscaler', {
      service,
      // Beside the app, not in front of it: the load balancer targets the gRPC container.
      metricSource: MetricSource.taskAgent(),
      // Keep each task's CPU near 60 % of its vCPU, read every 3 s.
      policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.CPU_UTILIZATION, targetPerTask: 60 }),
      minTasks: 2,
      maxTasks: 30,
    });

    const alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', { vpc, internetFacing: true, dropInvalidHeaderFields: true });
    const listener = alb.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [elbv2.ListenerCertificate.fromArn(certificateArn.valueAsString)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
    });
    listener.addTargets('Grpc', {
      port: GRPC_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      protocolVersion: elbv2.ApplicationProtocolVersion.GRPC,
      targets: [this.autoscaler.loadBalancerTarget],
      // gRPC health checks answer with a gRPC status code: 0 (OK) to 99 covers "the server answers".
      healthCheck: { path: '/AWS.ALB/healthcheck', healthyGrpcCodes: '0-99', interval: Duration.seconds(10) },
      deregistrationDelay: Duration.seconds(10),
    });

    Validations.of(alb).acknowledge({ id: 'AwsSolutions-ELB2', reason: 'An example ALB: access logs would need a log bucket that outlives `cdk destroy`.' });
    Validations.of(alb).acknowledge({ id: 'AwsSolutions-EC23', reason: 'The example\'s gRPC endpoint is public on 443 by design.' });
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The only environment variable is the task agent\'s script, which the construct writes; it holds no secret.',
    });
    for (const resource of [vpc, cluster]) resource.applyRemovalPolicy(RemovalPolicy.DESTROY);

    new CfnOutput(this, 'Endpoint', { value: `${alb.loadBalancerDnsName}:443` });
  }
}
