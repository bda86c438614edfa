import { App, Duration, Size, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { DEFAULT_PROXY_IMAGE, FastAutoscaler, ScalingMetric, ScalingPolicy } from '../../src';
import { DEFAULT_PROXY_TIMEOUT_SECONDS, renderProxyNginxConfig } from '../../src/metric-sources/proxy-nginx-config';
import { PROXY_CONTAINER_NAME, PROXY_INIT_CONTAINER_NAME, PROXY_RUNTIME_DIR, proxyHealthCheckCommand } from '../../src/metric-sources/proxy-sidecar';
import { fargateService, typicalStack } from '../support/typical-stack';

function proxyContainer(template: Template, name = PROXY_CONTAINER_NAME): any {
  const [taskDefinition] = Object.values(template.findResources('AWS::ECS::TaskDefinition')) as any[];
  return taskDefinition.Properties.ContainerDefinitions.find((c: any) => c.Name === name);
}

/** The nginx configuration the task definition carries (to the container that writes it out). */
function proxyConfig(template: Template): string {
  return proxyContainer(template, PROXY_INIT_CONTAINER_NAME).Environment[0].Value;
}

describe('the configuration in the task definition', () => {
  test('is the renderer’s, with the construct’s defaults: the default image (nginx 1.30) passes 103 Early Hints on', () => {
    const { stack } = typicalStack();
    const template = Template.fromStack(stack);
    expect(proxyContainer(template).Image).toBe(DEFAULT_PROXY_IMAGE);
    expect(DEFAULT_PROXY_IMAGE).toMatch(/^public\.ecr\.aws\/nginx\/nginx:1\.(29|[3-9]\d)[.-]/);
    const rendered = renderProxyNginxConfig({ proxyPort: 8012, statusPort: 8022, appPort: 80, earlyHints: true, runtimeDir: PROXY_RUNTIME_DIR });
    expect(proxyConfig(template)).toBe(rendered);
    expect(proxyConfig(template)).toContain('    early_hints 1;\n');
  });

  test('another image gets no early_hints directive (nginx before 1.29 would refuse to start)', () => {
    const { stack } = typicalStack({ props: { proxyImage: ecs.ContainerImage.fromRegistry('nginx:1.22') } });
    const config = proxyConfig(Template.fromStack(stack));
    expect(config).toBe(renderProxyNginxConfig({ proxyPort: 8012, statusPort: 8022, appPort: 80, runtimeDir: PROXY_RUNTIME_DIR }));
    expect(config).not.toMatch(/early_hints/);
  });

  test('an upgrade needs both an Upgrade header and the upgrade token in Connection', () => {
    const config = renderProxyNginxConfig({ proxyPort: 8012, statusPort: 8022, appPort: 80 });
    expect(config).toContain('  map $http_connection $fast_autoscaler_upgrade_token {\n    "~*(^|,)\\s*upgrade\\s*(,|$)" yes;\n    default no;\n  }\n');
    expect(config).toContain('  map "$fast_autoscaler_upgrade_token:$http_upgrade" $fast_autoscaler_connection {\n    "~^yes:." upgrade;\n');
    expect(config).not.toMatch(/map \$http_upgrade /);
  });

  test('is the renderer’s with proxyTimeout and proxyMaxRequestBodySize', () => {
    const { stack } = typicalStack({ props: { proxyTimeout: Duration.minutes(2), proxyMaxRequestBodySize: Size.mebibytes(10) } });
    const config = proxyConfig(Template.fromStack(stack));
    const ports = { proxyPort: 8012, statusPort: 8022, appPort: 80, runtimeDir: PROXY_RUNTIME_DIR };
    const expected = renderProxyNginxConfig({ ...ports, timeoutSeconds: 120, maxRequestBodyBytes: 10 * 1024 * 1024, earlyHints: true });
    expect(config).toBe(expected);
    expect(config).toContain('  client_max_body_size 10485760;\n');
    expect(config).toContain('    proxy_read_timeout 120s;\n');
  });

  test('by default: no body limit, no timeout before the longest ALB idle timeout, headers to the ALB limits, streaming both ways', () => {
    const config = renderProxyNginxConfig({ proxyPort: 8012, statusPort: 8022, appPort: 80 });
    expect(DEFAULT_PROXY_TIMEOUT_SECONDS).toBeGreaterThan(4000);
    for (const directive of [
      'client_max_body_size 0;',
      `proxy_read_timeout ${DEFAULT_PROXY_TIMEOUT_SECONDS}s;`,
      `proxy_send_timeout ${DEFAULT_PROXY_TIMEOUT_SECONDS}s;`,
      `send_timeout ${DEFAULT_PROXY_TIMEOUT_SECONDS}s;`,
      `client_body_timeout ${DEFAULT_PROXY_TIMEOUT_SECONDS}s;`,
      `keepalive_timeout ${DEFAULT_PROXY_TIMEOUT_SECONDS}s;`,
      'underscores_in_headers on;',
      'ignore_invalid_headers off;',
      'large_client_header_buffers 8 32k;',
      'proxy_buffering off;',
      'proxy_request_buffering off;',
      'proxy_set_header Host $http_host;',
      'proxy_intercept_errors off;',
    ]) {
      expect(config).toContain(`${directive}\n`);
    }
    // X-Forwarded-* pass as the load balancer sent them: nginx must not rewrite them.
    expect(config).not.toMatch(/X-Forwarded/);
    // stub_status is served on the status port only.
    expect(config.match(/stub_status;/g)).toHaveLength(1);
  });
});

describe('validation', () => {
  test.each([
    [Duration.seconds(0), '`proxyTimeout` must be whole seconds from 1 to 86400, got 0 seconds'],
    [Duration.millis(1500), '`proxyTimeout` must be whole seconds from 1 to 86400, got 1.5 seconds'.replace('1.5 seconds', Duration.millis(1500).toHumanString())],
    [Duration.seconds(86401), '`proxyTimeout` must be whole seconds from 1 to 86400, got 1 day 1 second'],
    [Duration.seconds(Token.asNumber({ Ref: 'Timeout' })), '`proxyTimeout` must be known at synthesis, got a token'],
  ])('proxyTimeout %s is refused', (proxyTimeout, message) => {
    expect(() => typicalStack({ props: { proxyTimeout } })).toThrow(message);
  });

  test.each([
    [Size.bytes(0), '`proxyMaxRequestBodySize` must be whole bytes, at least 1, got 0 bytes'],
    [Size.bytes(0.5), '`proxyMaxRequestBodySize` must be whole bytes, at least 1, got 0.5 bytes'],
    [Size.bytes(Token.asNumber({ Ref: 'Limit' })), '`proxyMaxRequestBodySize` must be known at synthesis, got a token'],
  ])('proxyMaxRequestBodySize %s is refused', (proxyMaxRequestBodySize, message) => {
    expect(() => typicalStack({ props: { proxyMaxRequestBodySize } })).toThrow(message);
  });

  test('the limits themselves are accepted', () => {
    expect(() => typicalStack({ props: { proxyTimeout: Duration.seconds(1), proxyMaxRequestBodySize: Size.bytes(1) } })).not.toThrow();
    expect(() => typicalStack({ props: { proxyTimeout: Duration.days(1) } })).not.toThrow();
  });
});

describe('the sidecar container', () => {
  test('its log group keeps logs as long as logRetention says (a month by default)', () => {
    for (const [retention, days] of [[undefined, 30], [logs.RetentionDays.ONE_WEEK, 7]] as const) {
      const { stack } = typicalStack({ props: { logRetention: retention } });
      const template = Template.fromStack(stack);
      const group = proxyContainer(template).LogConfiguration.Options['awslogs-group'];
      const [logicalId] = Object.entries(template.findResources('AWS::Logs::LogGroup')).find(([id]) => group.Ref === id)!;
      template.hasResource('AWS::Logs::LogGroup', Match.objectLike({ Properties: { RetentionInDays: days } }));
      expect(template.toJSON().Resources[logicalId].Properties.RetentionInDays).toBe(days);
    }
  });

  test('its health check is the command that works with wget, curl or neither', () => {
    const { stack } = typicalStack();
    expect(proxyContainer(Template.fromStack(stack)).HealthCheck.Command).toEqual(['CMD-SHELL', proxyHealthCheckCommand(8022)]);
  });
});

describe('target groups the proxy cannot serve are a synth error', () => {
  /** A service with an autoscaler, for a load balancer to be attached to. */
  function autoscaledService() {
    const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
    const { service } = fargateService(stack);
    const autoscaler = new FastAutoscaler(stack, 'Autoscaler', {
      service,
      policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.IN_FLIGHT_REQUESTS, targetPerTask: 10 }),
      maxTasks: 10,
    });
    return { stack, service, autoscaler };
  }

  function stackWithTargetGroup(props: Partial<elbv2.AddApplicationTargetsProps>, target: 'proxy' | 'app' = 'proxy') {
    const { stack, service, autoscaler } = autoscaledService();
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc: service.cluster.vpc });
    const listener = alb.addListener('Http', { port: 80 });
    listener.addTargets('Web', {
      port: 8012,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [target === 'proxy' ? autoscaler.loadBalancerTarget : service],
      ...props,
    });
    return stack;
  }

  test.each([
    [{ protocol: elbv2.ApplicationProtocol.HTTPS }, 'protocol HTTPS'],
    [{ protocolVersion: elbv2.ApplicationProtocolVersion.HTTP2 }, 'protocol version HTTP2'],
    [{ protocol: elbv2.ApplicationProtocol.HTTPS, protocolVersion: elbv2.ApplicationProtocolVersion.GRPC }, 'protocol HTTPS, protocol version GRPC'],
    [{ healthCheck: { protocol: elbv2.Protocol.HTTPS } }, 'health check protocol HTTPS'],
  ])('%j', (props, problem) => {
    const stack = stackWithTargetGroup(props);
    expect(() => Template.fromStack(stack)).toThrow(
      new RegExp(`The target group Stack/Alb/Http/WebGroup/Resource sends the proxy \\(port 8012\\) ${problem}, but the proxy speaks plaintext HTTP/1.1`),
    );
  });

  test('IPv6 targets (the proxy listens on IPv4)', () => {
    const stack = stackWithTargetGroup({});
    stack.node.findAll().find((c): c is elbv2.CfnTargetGroup => c instanceof elbv2.CfnTargetGroup)!.ipAddressType = 'ipv6';
    expect(() => Template.fromStack(stack)).toThrow(/sends the proxy \(port 8012\) IP address type ipv6, but/);
  });

  function stackWithNetworkTargetGroup(props: Partial<elbv2.AddNetworkTargetsProps>, listenerProtocol = elbv2.Protocol.TCP) {
    const { stack, service, autoscaler } = autoscaledService();
    const nlb = new elbv2.NetworkLoadBalancer(stack, 'Nlb', { vpc: service.cluster.vpc });
    const listener = nlb.addListener('Tcp', {
      port: 443,
      protocol: listenerProtocol,
      certificates: listenerProtocol === elbv2.Protocol.TLS ? [elbv2.ListenerCertificate.fromArn('arn:aws:acm:eu-west-1:123456789012:certificate/x')] : undefined,
    });
    listener.addTargets('Web', { port: 8012, targets: [autoscaler.loadBalancerTarget], ...props });
    return stack;
  }

  const NLB_ADVICE = 'Use protocol TCP, no proxy protocol v2, an HTTP or TCP health check and IPv4 targets';

  test('an NLB target group with proxy protocol v2: nginx would answer every request 400', () => {
    const stack = stackWithNetworkTargetGroup({ proxyProtocolV2: true });
    expect(() => Template.fromStack(stack)).toThrow(
      /The target group Stack\/Nlb\/Tcp\/WebGroup\/Resource sends the proxy \(port 8012\) a PROXY protocol v2 header \(proxy_protocol_v2.enabled\), which nginx answers with 400, but the proxy speaks plaintext HTTP\/1.1 over TCP/,
    );
    expect(() => Template.fromStack(stack)).toThrow(NLB_ADVICE);
  });

  test.each([elbv2.Protocol.UDP, elbv2.Protocol.TCP_UDP])('an NLB target group with protocol %s (nginx listens on TCP only)', protocol => {
    const stack = stackWithNetworkTargetGroup({ protocol, healthCheck: { protocol: elbv2.Protocol.TCP } }, protocol);
    expect(() => Template.fromStack(stack)).toThrow(new RegExp(`sends the proxy \\(port 8012\\) protocol ${protocol}, but the proxy speaks`));
    expect(() => Template.fromStack(stack)).toThrow(NLB_ADVICE);
  });

  test('an NLB TLS target group is told to use TCP, not HTTP', () => {
    const stack = stackWithNetworkTargetGroup({ protocol: elbv2.Protocol.TLS }, elbv2.Protocol.TLS);
    expect(() => Template.fromStack(stack)).toThrow(/sends the proxy \(port 8012\) protocol TLS, but the proxy speaks/);
    expect(() => Template.fromStack(stack)).toThrow(NLB_ADVICE);
    expect(() => Template.fromStack(stack)).not.toThrow(/protocol version HTTP1/);
  });

  test('an NLB TCP target group without proxy protocol is fine, also with the attribute set to false', () => {
    expect(() => Template.fromStack(stackWithNetworkTargetGroup({}))).not.toThrow();
    expect(() => Template.fromStack(stackWithNetworkTargetGroup({ proxyProtocolV2: false }))).not.toThrow();
  });

  test('an ALB target group gets the HTTP advice', () => {
    expect(() => Template.fromStack(stackWithTargetGroup({ protocol: elbv2.ApplicationProtocol.HTTPS }))).toThrow(
      'Use protocol HTTP, protocol version HTTP1, an HTTP health check and IPv4 targets',
    );
  });

  test('a plain HTTP/1.1 target group is fine', () => {
    expect(() => Template.fromStack(stackWithTargetGroup({}))).not.toThrow();
  });

  test('an HTTPS target group on the app container is not the proxy’s concern (the bypass warning covers it)', () => {
    expect(() => Template.fromStack(stackWithTargetGroup({ protocol: elbv2.ApplicationProtocol.HTTPS }, 'app'))).not.toThrow();
  });

  test('a protocol only known at deployment is not judged', () => {
    const stack = stackWithTargetGroup({});
    const group = stack.node.findAll().find((c): c is elbv2.CfnTargetGroup => c instanceof elbv2.CfnTargetGroup)!;
    group.protocol = Token.asString({ Ref: 'Protocol' });
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});
