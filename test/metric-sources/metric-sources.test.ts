import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { FastAutoscaler, FastAutoscalerProps, MetricSource, ScalingMetric, ScalingPolicy } from '../../src';
import {
  AGENT_CONTAINER_NAME, AGENT_SCRIPT_VARIABLE, agentHealthCheckCommand, DEFAULT_AGENT_IMAGE, renderAgentScript,
} from '../../src/metric-sources/task-agent-sidecar';
import { renderedControllerConfig } from '../support/controller-config-fixture';
import { fargateService } from '../support/typical-stack';

const CPU = ScalingPolicy.targetTracking({ metric: ScalingMetric.CPU_UTILIZATION, targetPerTask: 60 });
const CONNECTIONS = ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 100 });
const IN_FLIGHT_GAUGE = ScalingPolicy.targetTracking({ metric: ScalingMetric.prometheusGauge('http_requests_in_flight', { route: '/api' }), targetPerTask: 20 });

function autoscaled(props: Partial<FastAutoscalerProps>, appPorts: number[] = [8080]) {
  const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
  const { service, taskDefinition } = fargateService(stack, undefined, appPorts[0]);
  const app = taskDefinition.defaultContainer!;
  appPorts.slice(1).forEach(p => app.addPortMappings({ containerPort: p }));
  const make = () => new FastAutoscaler(stack, 'Autoscaler', { service, policy: CONNECTIONS, maxTasks: 10, ...props });
  return { stack, service, taskDefinition, make };
}

function containers(stack: Stack): any[] {
  const [td] = Object.values(Template.fromStack(stack).findResources('AWS::ECS::TaskDefinition')) as any[];
  return td.Properties.ContainerDefinitions;
}

describe('MetricSource.taskAgent()', () => {
  test('a non-essential, non-root sidecar outside the data path: the load balancer targets the app', () => {
    const { stack, service, make } = autoscaled({ metricSource: MetricSource.taskAgent(), logRetention: logs.RetentionDays.ONE_WEEK });
    const autoscaler = make();
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc: service.cluster.vpc });
    alb.addListener('Http', { port: 80 }).addTargets('Web', { port: 8080, targets: [autoscaler.loadBalancerTarget] });
    const template = Template.fromStack(stack);
    const agent = containers(stack).find(c => c.Name === AGENT_CONTAINER_NAME);
    expect(agent).toMatchObject({
      Image: DEFAULT_AGENT_IMAGE,
      Essential: false,
      User: '65534:65534',
      ReadonlyRootFilesystem: true,
      LinuxParameters: { Capabilities: { Drop: ['ALL'] } },
      MemoryReservation: 16,
      EntryPoint: ['sh', '-c'],
      Command: [`exec nc -ll -p 8022 -e sh -c "$${AGENT_SCRIPT_VARIABLE}"`],
      Environment: [{ Name: AGENT_SCRIPT_VARIABLE, Value: renderAgentScript({ appPorts: [8080], reads: 'connections' }) }],
      PortMappings: [{ ContainerPort: 8022, Protocol: 'tcp', Name: 'fast-autoscaler-status' }],
      HealthCheck: { Command: ['CMD-SHELL', agentHealthCheckCommand(8022)] },
    });
    expect(agent.Privileged).toBeUndefined();
    expect(containers(stack).map(c => c.Name)).not.toContain('fast-autoscaler-proxy');
    expect(autoscaler.agentContainer?.containerName).toBe(AGENT_CONTAINER_NAME);
    expect(() => autoscaler.proxyContainer).toThrow(/the metric source is not the nginx proxy, so there is no proxy container/);
    template.hasResourceProperties('AWS::ECS::Service', { LoadBalancers: [Match.objectLike({ ContainerName: 'app', ContainerPort: 8080 })] });
    // Only the controller reaches the agent's port.
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress', { Properties: { FromPort: 8022 } }));
    expect(ingress).toHaveLength(1);
    expect(ingress[0].Properties.SourceSecurityGroupId['Fn::GetAtt'][0]).toMatch(/^AutoscalerControlLoopSecurityGroup/);
    // The agent's log group keeps its logs as long as the controller's.
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    expect(renderedControllerConfig(template)).toMatchObject({ source: { type: 'taskAgent' }, statusPort: 8022, policy: { metric: 'ACTIVE_CONNECTIONS' } });
  });

  test('for CPU and memory it reads the task metadata endpoint, not the sockets', () => {
    const { stack, make } = autoscaled({ metricSource: MetricSource.taskAgent({ statusPort: 9000 }), policy: CPU });
    make();
    const agent = containers(stack).find(c => c.Name === AGENT_CONTAINER_NAME);
    expect(agent.Environment[0].Value).toBe(renderAgentScript({ appPorts: [8080], reads: 'stats' }));
    expect(agent.Environment[0].Value).toContain('$m/task/stats');
    expect(renderedControllerConfig(Template.fromStack(stack))).toMatchObject({ statusPort: 9000, policy: { metric: 'CPU_UTILIZATION' } });
  });

  test('the ports to watch: several mapped and none chosen is an error; appPorts chooses', () => {
    expect(autoscaled({ metricSource: MetricSource.taskAgent() }, [8080, 9090]).make).toThrow(
      /`appPort` is required: the container `app` maps several ports \(8080, 9090\)/,
    );
    const { stack, make } = autoscaled({ metricSource: MetricSource.taskAgent({ appPorts: [8080, 9090] }) }, [8080, 9090]);
    make();
    expect(containers(stack).find(c => c.Name === AGENT_CONTAINER_NAME).Environment[0].Value).toContain("ports=':1F90:2382:'");
  });

  test('a status port on an app port, an empty or bad list, a metric it does not read: errors naming the prop', () => {
    expect(autoscaled({ metricSource: MetricSource.taskAgent({ statusPort: 8080 }) }).make).toThrow(
      /`statusPort` \(8080\) of MetricSource.taskAgent\(\) must not be one of the app's ports \(8080\)/,
    );
    expect(autoscaled({ metricSource: MetricSource.taskAgent({ appPorts: [] }) }).make).toThrow(/`appPorts` of MetricSource.taskAgent\(\) must name at least one port/);
    expect(autoscaled({ metricSource: MetricSource.taskAgent({ appPorts: [0] }) }).make).toThrow(/`appPorts\[0\]` must be a whole number from 1 to 65535, got 0/);
    expect(autoscaled({
      metricSource: MetricSource.taskAgent(),
      policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.IN_FLIGHT_REQUESTS, targetPerTask: 5 }),
    }).make).toThrow(/`policy` scales on IN_FLIGHT_REQUESTS, which `metricSource` MetricSource.taskAgent\(\) does not read \(it reads ACTIVE_CONNECTIONS, CPU_UTILIZATION, MEMORY_UTILIZATION\); MetricSource.nginxProxy\(\) does/);
  });

  test('nothing is added to the task definition when a prop is wrong', () => {
    const { stack, make } = autoscaled({ metricSource: MetricSource.taskAgent({ statusPort: 8080 }) });
    expect(make).toThrow();
    expect(containers(stack).map(c => c.Name)).toEqual(['app']);
  });

  test('gRPC and HTTP/2 target groups are allowed; scaling them on connections draws a warning', () => {
    for (const [policy, warned] of [[CONNECTIONS, true], [CPU, false]] as const) {
      const { stack, service, make } = autoscaled({ metricSource: MetricSource.taskAgent(), policy });
      const autoscaler = make();
      const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc: service.cluster.vpc });
      alb.addListener('Https', { port: 443, protocol: elbv2.ApplicationProtocol.HTTP, open: false }).addTargets('Grpc', {
        port: 8080,
        protocol: elbv2.ApplicationProtocol.HTTP,
        protocolVersion: elbv2.ApplicationProtocolVersion.GRPC,
        targets: [autoscaler.loadBalancerTarget],
      });
      expect(() => Template.fromStack(stack)).not.toThrow();
      const warning = Match.stringLikeRegexp('speaks gRPC to the app: the load balancer multiplexes many requests on few connections');
      if (warned) Annotations.fromStack(stack).hasWarning('/Stack/Autoscaler', warning);
      else Annotations.fromStack(stack).hasNoWarning('/Stack/Autoscaler', warning);
    }
  });
});

describe('MetricSource.prometheus()', () => {
  test('no sidecar: the controller reaches the metrics port only, and reads the named series', () => {
    const { stack, make } = autoscaled({ metricSource: MetricSource.prometheus({ port: 9464 }), policy: IN_FLIGHT_GAUGE });
    make();
    expect(containers(stack).map(c => c.Name)).toEqual(['app']);
    const template = Template.fromStack(stack);
    const fromController = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))
      .filter(r => String(r.Properties.SourceSecurityGroupId?.['Fn::GetAtt']?.[0]).startsWith('AutoscalerControlLoopSecurityGroup'));
    expect(fromController.map(r => [r.Properties.FromPort, r.Properties.ToPort])).toEqual([[9464, 9464]]);
    expect(renderedControllerConfig(template)).toMatchObject({
      source: { type: 'prometheus', path: '/metrics', series: { name: 'http_requests_in_flight', labels: { route: '/api' } } },
      statusPort: 9464,
      policy: { type: 'targetTracking', metric: 'PROMETHEUS_GAUGE', targetPerTask: 20 },
    });
  });

  test('a counter as a rate, on a path of its own', () => {
    const policy = ScalingPolicy.steps({ metric: ScalingMetric.prometheusCounter('jobs_done_total'), steps: [{ threshold: 10, desiredTasks: 3 }] });
    const { stack, make } = autoscaled({ metricSource: MetricSource.prometheus({ port: 8080, path: '/internal/metrics' }), policy });
    make();
    expect(renderedControllerConfig(Template.fromStack(stack))).toMatchObject({
      source: { type: 'prometheus', path: '/internal/metrics', series: { name: 'jobs_done_total', labels: {} } },
      policy: { type: 'steps', metric: 'PROMETHEUS_COUNTER' },
    });
  });

  test('bad names, labels, paths and pairs: errors naming the prop, the value and what is allowed', () => {
    expect(() => ScalingMetric.prometheusGauge('http-requests')).toThrow(/`name` of ScalingMetric.prometheusGauge\(\) must be a Prometheus metric name .*got "http-requests"/);
    expect(() => ScalingMetric.prometheusCounter('ok_total', { __name__: 'x' })).toThrow(/`labels` of ScalingMetric.prometheusCounter\(\) must have Prometheus label names .*got "__name__"/);
    expect(() => MetricSource.prometheus(undefined as any)).toThrow(/`port` of MetricSource.prometheus\(\) is required/);
    expect(autoscaled({ metricSource: MetricSource.prometheus({ port: 9464, path: 'metrics' }), policy: IN_FLIGHT_GAUGE }).make)
      .toThrow(/`path` of MetricSource.prometheus\(\) must be an absolute path/);
    expect(autoscaled({ metricSource: MetricSource.prometheus({ port: 9464 }) }).make)
      .toThrow(/`policy` scales on ACTIVE_CONNECTIONS, which `metricSource` MetricSource.prometheus\(\) does not read \(it reads PROMETHEUS_GAUGE, PROMETHEUS_COUNTER\); MetricSource.nginxProxy\(\) or MetricSource.taskAgent\(\) does/);
    expect(autoscaled({ policy: IN_FLIGHT_GAUGE }).make)
      .toThrow(/`policy` scales on PROMETHEUS_GAUGE, which `metricSource` MetricSource.nginxProxy\(\) does not read .*MetricSource.prometheus\(\) does/);
  });
});

describe('MetricSource.nginxProxy() and the deprecated proxy props', () => {
  test('the deprecated props still work alone, and give the same template as the source', () => {
    const legacy = autoscaled({ proxyPort: 9012, statusPort: 9022 });
    legacy.make();
    const current = autoscaled({ metricSource: MetricSource.nginxProxy({ proxyPort: 9012, statusPort: 9022 }) });
    current.make();
    expect(Template.fromStack(legacy.stack).toJSON()).toEqual(Template.fromStack(current.stack).toJSON());
  });

  test('never beside metricSource', () => {
    expect(autoscaled({ metricSource: MetricSource.taskAgent(), proxyImage: ecs.ContainerImage.fromRegistry('nginx'), statusPort: 9 }).make).toThrow(
      /`statusPort` \(deprecated\) must not be set beside `metricSource`: pass it as MetricSource.nginxProxy\(\{ statusPort \}\)\n.*`proxyImage` \(deprecated\) must not be set beside `metricSource`: pass it as MetricSource.nginxProxy\(\{ image \}\)/s,
    );
  });
});

describe('review findings: what a non-root sidecar, tokens and plain JavaScript would otherwise break', () => {
  test('a sidecar port below 1024 is refused: a non-root process with no capabilities cannot listen there', () => {
    expect(autoscaled({ metricSource: MetricSource.nginxProxy({ proxyPort: 80 }) }).make)
      .toThrow(/`proxyPort` must be a whole number from 1024 to 65535, got 80: the sidecar runs as a non-root user/);
    expect(autoscaled({ proxyPort: 443 }).make).toThrow(/`proxyPort` must be a whole number from 1024 to 65535, got 443/);
    expect(autoscaled({ metricSource: MetricSource.taskAgent({ statusPort: 80 }) }).make)
      .toThrow(/`statusPort` must be a whole number from 1024 to 65535, got 80/);
  });

  test('a status port another container of the task maps is refused (the app\'s admin port, another sidecar)', () => {
    expect(autoscaled({ metricSource: MetricSource.taskAgent(), appPort: 8080 }, [8080, 8022]).make)
      .toThrow(/`statusPort` \(8022\) is already a port of the container `app`: both would listen in the task's one network namespace/);
    expect(autoscaled({ statusPort: 8080, proxyPort: 9000, appPort: 9090 }, [9090, 8080]).make)
      .toThrow(/`statusPort` \(8080\) is already a port of the container `app`/);
  });

  test('the agent\'s ports must be plain numbers: a token cannot be written into its script', () => {
    const { stack, make } = autoscaled({});
    const port = new CfnParameter(stack, 'Port', { type: 'Number' }).valueAsNumber;
    expect(() => autoscaled({ metricSource: MetricSource.taskAgent({ appPorts: [port] }) }).make()).toThrow(/`appPorts\[0\]` must be known at synthesis, got a token/);
    expect(make).toBeDefined();
    expect(autoscaled({ metricSource: MetricSource.taskAgent({ appPorts: 8080 as any }) }).make)
      .toThrow(/`appPorts` of MetricSource.taskAgent\(\) must be a list of port numbers, got 8080/);
    expect(autoscaled({ metricSource: MetricSource.taskAgent({ appPorts: ['8080' as any] }) }).make)
      .toThrow(/`appPorts\[0\]` must be a port number, got "8080"/);
  });

  test('with several mapped ports and appPorts named, the load balancer targets the first of them', () => {
    const { stack, service, make } = autoscaled({ metricSource: MetricSource.taskAgent({ appPorts: [9090] }) }, [8080, 9090]);
    const autoscaler = make();
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc: service.cluster.vpc });
    alb.addListener('Http', { port: 80 }).addTargets('Web', { port: 9090, protocol: elbv2.ApplicationProtocol.HTTP, targets: [autoscaler.loadBalancerTarget] });
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::Service', { LoadBalancers: [Match.objectLike({ ContainerName: 'app', ContainerPort: 9090 })] });
  });

  test('a metricSource that is not one, from plain JavaScript, names the prop', () => {
    expect(autoscaled({ metricSource: 'taskAgent' as any }).make).toThrow(/`metricSource` must be a MetricSource \(MetricSource.nginxProxy\(\), taskAgent\(\), prometheus\(\) or sqsQueue\(\)\), got "taskAgent"/);
  });

  test('a Prometheus worker with no port mapping synthesizes; its load balancer target is refused when asked for', () => {
    const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
    const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task');
    taskDefinition.addContainer('worker', { image: ecs.ContainerImage.fromRegistry('busybox') });
    const service = new ecs.FargateService(stack, 'Service', { cluster: new ecs.Cluster(stack, 'Cluster'), taskDefinition });
    const autoscaler = new FastAutoscaler(stack, 'Autoscaler', { service, metricSource: MetricSource.prometheus({ port: 9464 }), policy: IN_FLIGHT_GAUGE, maxTasks: 5 });
    expect(() => Template.fromStack(stack)).not.toThrow();
    expect(() => autoscaler.loadBalancerTarget).toThrow(/has no port mapping to target/);
  });

  test('a series too long for the controller\'s environment is refused', () => {
    const labels = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`label_${i}`, 'x'.repeat(30)]));
    const policy = ScalingPolicy.targetTracking({ metric: ScalingMetric.prometheusGauge('busy', labels), targetPerTask: 1 });
    expect(autoscaled({ metricSource: MetricSource.prometheus({ port: 9464 }), policy }).make).toThrow(/must be at most 1024 characters as JSON/);
  });
});
