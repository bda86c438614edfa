import { CfnResource, Duration, Stack, Token } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IConstruct } from 'constructs';
import { renderProxyNginxConfig } from './proxy-nginx-config';
import { sidecarLogDriver } from './sidecar-logging';
import { STATUS_PATH } from '../controller/read/stub-status';

/** The proxy container's name in the task definition. */
export const PROXY_CONTAINER_NAME = 'fast-autoscaler-proxy';

/** The container that writes the proxy's configuration before it starts. */
export const PROXY_INIT_CONTAINER_NAME = 'fast-autoscaler-proxy-init';

/** The environment variable through which the task definition hands nginx its configuration. */
export const CONFIG_VARIABLE = 'FAST_AUTOSCALER_NGINX_CONF';

/** The task volume that holds the proxy's configuration, pid file and temporary files. */
export const PROXY_VOLUME = 'fast-autoscaler-proxy';
/** Where both containers mount it. */
export const PROXY_VOLUME_PATH = '/fast-autoscaler';
/** nginx's configuration on the volume. */
export const PROXY_CONFIG_PATH = `${PROXY_VOLUME_PATH}/nginx.conf`;
/** nginx's pid file and temporary paths on the volume. */
export const PROXY_RUNTIME_DIR = `${PROXY_VOLUME_PATH}/run`;
/** The official nginx image's `nginx` user: the proxy never runs as root. */
export const PROXY_USER = '101:101';

export interface ProxySidecarOptions {
  readonly taskDefinition: ecs.TaskDefinition;
  readonly appContainer: ecs.ContainerDefinition;
  readonly appPort: number;
  readonly proxyPort: number;
  readonly statusPort: number;
  readonly image: ecs.ContainerImage;
  /** How long the proxy's logs are kept. */
  readonly logRetention: logs.RetentionDays;
  /** Encrypts the sidecar's log group. @default - CloudWatch Logs' own encryption */
  readonly encryptionKey?: kms.IKey;
  /** The proxy's timeout on a quiet request, in seconds. @default the renderer's */
  readonly timeoutSeconds?: number;
  /** The largest request body, in bytes. @default no limit */
  readonly maxRequestBodyBytes?: number;
  /** Pass the app's 103 Early Hints on: only for an image known to run nginx 1.30 or later. @default false */
  readonly earlyHints?: boolean;
}

/**
 * Adds the nginx reverse proxy to the task definition. The stock image is configured
 * from the task definition itself (the configuration travels in an environment variable
 * and is written out before nginx starts), so deploying needs no Docker build.
 */
export function addProxySidecar(scope: Construct, o: ProxySidecarOptions): ecs.ContainerDefinition {
  const config = renderProxyNginxConfig({
    proxyPort: o.proxyPort,
    statusPort: o.statusPort,
    appPort: o.appPort,
    timeoutSeconds: o.timeoutSeconds,
    maxRequestBodyBytes: o.maxRequestBodyBytes,
    earlyHints: o.earlyHints,
    runtimeDir: PROXY_RUNTIME_DIR,
  });
  // Fargate's task volumes are owned by root, mode 0755 (AWS documents it for bind mounts),
  // so a container of the non-root user cannot write to one. A first container writes the
  // configuration and opens a directory for nginx's pid and temporary files, then exits:
  // root only for that, with every capability dropped (the owner of a directory needs none
  // to write into it or change its mode) and a read-only root filesystem.
  o.taskDefinition.addVolume({ name: PROXY_VOLUME });
  const mount: ecs.MountPoint = { sourceVolume: PROXY_VOLUME, containerPath: PROXY_VOLUME_PATH, readOnly: false };
  const noCapabilities = (id: string) => {
    const p = new ecs.LinuxParameters(scope, id);
    p.dropCapabilities(ecs.Capability.ALL);
    return p;
  };
  const logging = sidecarLogDriver(scope, 'ProxyLogs', PROXY_CONTAINER_NAME, o.logRetention, o.encryptionKey);
  const proxy = o.taskDefinition.addContainer(PROXY_CONTAINER_NAME, {
    image: o.image,
    essential: true,
    user: PROXY_USER,
    readonlyRootFilesystem: true,
    linuxParameters: noCapabilities('ProxyLinuxParameters'),
    // `-e stderr`: nginx opens its error log before reading the configuration.
    entryPoint: ['nginx'],
    command: ['-e', 'stderr', '-c', PROXY_CONFIG_PATH, '-g', 'daemon off;'],
    portMappings: [
      { containerPort: o.proxyPort, protocol: ecs.Protocol.TCP, name: 'fast-autoscaler-proxy' },
      { containerPort: o.statusPort, protocol: ecs.Protocol.TCP, name: 'fast-autoscaler-status' },
    ],
    memoryReservationMiB: 32,
    logging,
    healthCheck: {
      command: ['CMD-SHELL', proxyHealthCheckCommand(o.statusPort)],
      interval: Duration.seconds(10),
      timeout: Duration.seconds(3),
      retries: 3,
      startPeriod: Duration.seconds(10),
    },
  });
  proxy.addMountPoints(mount);
  const init = o.taskDefinition.addContainer(PROXY_INIT_CONTAINER_NAME, {
    image: o.image,
    essential: false,
    user: '0',
    readonlyRootFilesystem: true,
    linuxParameters: noCapabilities('ProxyInitLinuxParameters'),
    entryPoint: ['/bin/sh', '-c'],
    command: [`printenv ${CONFIG_VARIABLE} > ${PROXY_CONFIG_PATH} && mkdir -p ${PROXY_RUNTIME_DIR} && chmod 1777 ${PROXY_RUNTIME_DIR}`],
    environment: { [CONFIG_VARIABLE]: config },
    memoryReservationMiB: 16,
    // The proxy's own log group (made when the proxy's logging was bound).
    logging: new ecs.AwsLogDriver({ streamPrefix: PROXY_INIT_CONTAINER_NAME, logGroup: logging.logGroup }),
  });
  init.addMountPoints(mount);
  // The proxy only forwards once the app has started; the app stays essential as it was.
  proxy.addContainerDependencies(
    { container: init, condition: ecs.ContainerDependencyCondition.SUCCESS },
    { container: o.appContainer, condition: ecs.ContainerDependencyCondition.START },
  );
  return proxy;
}

/**
 * The sidecar's health check, for `/bin/sh -c`. It asks the status page with whichever
 * HTTP client the image has: Alpine images have (busybox) wget, the Debian-based ones curl
 * and no wget. An image with neither falls back to seeing the status port listen in
 * /proc/net/tcp, which needs only grep: a missing client must never get healthy tasks
 * replaced over and over.
 */
export function proxyHealthCheckCommand(statusPort: number): string {
  const url = `http://127.0.0.1:${statusPort}${STATUS_PATH}`;
  // A listening socket in /proc/net/tcp: "<local address>:<PORT> 00000000:0000 0A" (0A = LISTEN).
  const listening = `:${statusPort.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A`;
  return [
    `if command -v wget >/dev/null 2>&1; then exec wget -q -T 2 -O /dev/null ${url}; fi`,
    `if command -v curl >/dev/null 2>&1; then exec curl -fsS -m 2 -o /dev/null ${url}; fi`,
    `grep -q '${listening}' /proc/net/tcp`,
  ].join('; ');
}

/**
 * Why the load balancer cannot reach the app through this proxy, if it cannot: nginx
 * listens for plaintext HTTP/1.1 over TCP on IPv4 and expects no PROXY protocol header,
 * so a target group of the service's that sends the proxy TLS, HTTP/2, gRPC or UDP, a
 * PROXY protocol v2 header (nginx answers every request 400), health-checks it over HTTPS,
 * or addresses it over IPv6 would never get an answer. Target groups this app does not
 * define (imported), and properties that are tokens, are not judged.
 */
export function proxyTargetGroupErrors(service: ecs.BaseService, proxyPort: number): string[] {
  const stack = Stack.of(service);
  const cfnService = service.node.defaultChild as ecs.CfnService;
  // Resolved in the service's stack, a target group's ARN and the service's reference to
  // it give the same value, also when the target group lives in another stack.
  const attached = (stack.resolve(cfnService.loadBalancers) as ecs.CfnService.LoadBalancerProperty[] | undefined ?? [])
    .filter(lb => lb.containerName === PROXY_CONTAINER_NAME && (lb.containerPort === undefined || lb.containerPort === proxyPort))
    .map(lb => JSON.stringify(lb.targetGroupArn));
  if (attached.length === 0) return [];

  const errors: string[] = [];
  for (const tg of service.node.root.node.findAll().filter(isTargetGroup)) {
    if (!attached.includes(JSON.stringify(stack.resolve(tg.ref)))) continue;
    // The L2 fills some of these lazily; what still resolves to a token is not judged.
    const value = (v: unknown) => {
      const resolved: unknown = Stack.of(tg).resolve(v);
      return typeof resolved === 'string' && !Token.isUnresolved(resolved) ? resolved : undefined;
    };
    const [protocol, version, healthCheck, ipType] = [tg.protocol, tg.protocolVersion, tg.healthCheckProtocol, tg.ipAddressType].map(value);
    const proxyProtocol = targetGroupAttribute(tg, 'proxy_protocol_v2.enabled') === 'true';
    const problems = [
      protocol && ['HTTPS', 'TLS', 'UDP', 'TCP_UDP'].includes(protocol) ? `protocol ${protocol}` : undefined,
      version && ['HTTP2', 'GRPC'].includes(version) ? `protocol version ${version}` : undefined,
      healthCheck && ['HTTPS', 'TLS'].includes(healthCheck) ? `health check protocol ${healthCheck}` : undefined,
      ipType === 'ipv6' ? 'IP address type ipv6' : undefined,
      proxyProtocol ? 'a PROXY protocol v2 header (proxy_protocol_v2.enabled), which nginx answers with 400' : undefined,
    ].filter((p): p is string => p !== undefined);
    if (problems.length === 0) continue;
    // A Network Load Balancer's target group is fixed with other settings than an Application Load Balancer's.
    const network = proxyProtocol || (protocol !== undefined && ['TCP', 'TLS', 'UDP', 'TCP_UDP'].includes(protocol));
    const advice = network
      ? 'Use protocol TCP, no proxy protocol v2, an HTTP or TCP health check and IPv4 targets (the NLB listener may still '
        + 'terminate TLS for clients).'
      : 'Use protocol HTTP, protocol version HTTP1, an HTTP health check and IPv4 targets (the listener may still take '
        + 'HTTPS and HTTP/2 from clients); a gRPC service cannot be scaled through this proxy.';
    errors.push(`The target group ${tg.node.path} sends the proxy (port ${proxyPort}) ${problems.join(', ')}, but the proxy speaks `
      + `plaintext HTTP/1.1 over TCP on IPv4 only, without PROXY protocol: its targets would never answer. ${advice}`);
  }
  return errors;
}

/** A target group attribute's value, if it is set and known at synthesis. */
function targetGroupAttribute(tg: elbv2.CfnTargetGroup, key: string): string | undefined {
  const attributes: unknown = Stack.of(tg).resolve(tg.targetGroupAttributes);
  if (!Array.isArray(attributes)) return undefined;
  const found = attributes.find((a: unknown) => typeof a === 'object' && a !== null && (a as { key?: unknown }).key === key) as
    { value?: unknown } | undefined;
  return typeof found?.value === 'string' && !Token.isUnresolved(found.value) ? found.value : undefined;
}

function isTargetGroup(c: IConstruct): c is elbv2.CfnTargetGroup {
  return CfnResource.isCfnResource(c) && c.cfnResourceType === elbv2.CfnTargetGroup.CFN_RESOURCE_TYPE_NAME;
}
