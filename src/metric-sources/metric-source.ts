import { Annotations, Duration, Size, Stack, Token } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PreparedSource, SourceContext } from './source-binding';
import { addTaskAgentSidecar, DEFAULT_AGENT_IMAGE } from './task-agent-sidecar';
import { MetricName, SOURCE_METRICS, SourceType, sourcesOf } from '../controller/controller-config';
import { checkBodySize, checkDistinctPorts, checkDuration, checkPlainPort, checkPort, checkSidecarPort } from '../prop-checks';
import { DEFAULT_PROXY_TIMEOUT_SECONDS } from './proxy-nginx-config';
import { addProxySidecar, PROXY_CONTAINER_NAME } from './proxy-sidecar';

/**
 * The nginx image the proxy runs unless told otherwise: stock, public, no Docker build;
 * the stable line from 1.30 on passes the app's 103 Early Hints through.
 */
export const DEFAULT_PROXY_IMAGE = 'public.ecr.aws/nginx/nginx:1.30-alpine';

/** The status port of the proxy and of the agent unless told otherwise. */
export const DEFAULT_STATUS_PORT = 8022;

/**
 * Options of the nginx proxy source.
 */
export interface NginxProxySourceOptions {
  /**
   * The port the proxy listens on: attach the load balancer here (see `loadBalancerTarget`).
   * Allowed: 1024 to 65535 (the proxy runs as a non-root user, which cannot listen lower),
   * different from the app's port and `statusPort` and from every other container's ports.
   * @default 8012
   */
  readonly proxyPort?: number;

  /**
   * The port on which the proxy's nginx stub_status answers, reachable only from the
   * controller's security group. Allowed: 1024 to 65535 (non-root), different from the app's port,
   * `proxyPort` and every other container's ports.
   * @default 8022
   */
  readonly statusPort?: number;

  /**
   * The proxy's image: any nginx with the stub_status module that runs as a non-root user
   * (uid 101, the official image's `nginx`) and has a POSIX shell for its first container,
   * which writes the configuration. With the default image the app's 103 Early Hints reach
   * the client; with another, nginx 1.29.8 or later drops them, while nginx before 1.29 takes
   * a 103 for the final response and stalls the connection until the app closes it.
   * @default - `public.ecr.aws/nginx/nginx:1.30-alpine`
   */
  readonly image?: ecs.ContainerImage;

  /**
   * How long the proxy waits on a quiet request: for the app's next byte, for the client's
   * next byte of a request body, and to pass a byte on. Whole seconds from 1 to 86,400. Keep
   * it above the load balancer's idle timeout.
   * @default Duration.seconds(4200) - longer than the longest ALB idle timeout (4,000 s)
   */
  readonly timeout?: Duration;

  /**
   * The largest request body the proxy passes to the app; a larger one gets the proxy's
   * own 413 response. At least 1 byte, whole bytes.
   * @default - no limit: bodies of any size stream through to the app
   */
  readonly maxRequestBodySize?: Size;
}

/**
 * Options of the task agent source.
 */
export interface TaskAgentSourceOptions {
  /**
   * The port on which the agent answers, reachable only from the controller's security
   * group. Allowed: 1024 to 65535 (the agent runs as a non-root user), none of the app's or
   * another container's ports.
   * @default 8022
   */
  readonly statusPort?: number;

  /**
   * The app's listening ports whose established inbound TCP connections count, for
   * `ScalingMetric.ACTIVE_CONNECTIONS`.
   * @default - the autoscaler's `appPort`, else the app container's only port mapping
   */
  readonly appPorts?: number[];

  /**
   * The agent's image: any image with a BusyBox (or POSIX) `sh`, `nc` with `-ll -e`, `awk`,
   * `cat`, `timeout` and `wget`, whose user 65534 exists or may run.
   * @default - `public.ecr.aws/docker/library/busybox:1.37`
   */
  readonly image?: ecs.ContainerImage;
}

/**
 * Options of the Prometheus source.
 */
export interface PrometheusSourceOptions {
  /**
   * The port on which the app serves its metrics, reachable only from the controller's
   * security group (the app's own port is allowed). Allowed: 1 to 65535.
   */
  readonly port: number;

  /**
   * The path of the Prometheus (or OpenMetrics) text exposition.
   * @default '/metrics'
   */
  readonly path?: string;
}

/**
 * Options of the SQS queue source.
 */
export interface SqsQueueSourceOptions {
  /**
   * Count the messages received but not yet deleted (in flight): a worker is still busy with
   * them. Whether counted or not, the service never scales to zero while any is in flight.
   * @default true
   */
  readonly countInFlight?: boolean;

  /**
   * Count the messages sent with a delay that has not passed yet.
   * @default false
   */
  readonly countDelayed?: boolean;
}

/**
 * Where the controller reads each task's load.
 *
 * The nginx proxy is the original design: it sits in front of the app and counts what passes.
 * The task agent and Prometheus read the load beside the data path: the load balancer
 * targets the app directly, whatever its protocol.
 */
export abstract class MetricSource {
  /**
   * An nginx reverse proxy in front of the app whose stub_status gives connections, requests
   * in flight and requests per second: HTTP/1.1 target groups only, every request passes it.
   */
  public static nginxProxy(options: NginxProxySourceOptions = {}): MetricSource {
    return new NginxProxySource(options ?? {});
  }

  /**
   * A small sidecar outside the data path that reads, on each scrape, the task's established
   * inbound TCP connections on the app's ports (`ACTIVE_CONNECTIONS`, any protocol over TCP)
   * or its CPU and memory use from the task metadata endpoint (`CPU_UTILIZATION`,
   * `MEMORY_UTILIZATION`). The load balancer targets the app container directly.
   */
  public static taskAgent(options: TaskAgentSourceOptions = {}): MetricSource {
    return new TaskAgentSource(options ?? {});
  }

  /**
   * The app's own Prometheus text endpoint, with no sidecar at all: scale on a gauge or a
   * counter's rate (`ScalingMetric.prometheusGauge`, `ScalingMetric.prometheusCounter`).
   */
  public static prometheus(options: PrometheusSourceOptions): MetricSource {
    return new PrometheusSource(options);
  }

  /**
   * A queue worker's backlog, read once a tick for the service (one `GetQueueAttributes`),
   * not from its tasks: nothing is added to the task, and the service may have no load
   * balancer and scale from zero (`minTasks: 0`). Scale on `ScalingMetric.QUEUE_MESSAGES`.
   * @param queue the queue the service's tasks receive from, in this stack's account and Region
   */
  public static sqsQueue(queue: sqs.IQueue, options: SqsQueueSourceOptions = {}): MetricSource {
    return new SqsQueueSource(queue, options ?? {});
  }

  /**
   * The source's kind: `nginxProxy`, `taskAgent`, `prometheus` or `sqsQueue`.
   */
  public abstract readonly kind: string;

  /**
   * Checks the source against the service and the policy's metric and prepares it; nothing
   * is added to the task definition until `attach` is called.
   * @internal
   */
  public abstract _prepare(context: SourceContext): PreparedSource;
}

/** The Prometheus series travels in the Lambda's environment, which holds 4 KB in all. */
const MAX_SERIES_CHARS = 1024;

/**
 * A sidecar's port that another container of the task (the app's other ports, another
 * sidecar) already maps: both would listen in the task's one network namespace.
 */
function portsTakenErrors(c: SourceContext, ours: Record<string, number>, appPort: number | undefined): string[] {
  const taken = new Map<number, string>();
  for (const container of c.taskDefinition.node.children) {
    if (!(container instanceof ecs.ContainerDefinition)) continue;
    for (const m of container.portMappings) {
      if (!Token.isUnresolved(m.containerPort) && !taken.has(m.containerPort)) taken.set(m.containerPort, container.containerName);
    }
  }
  return Object.entries(ours)
    .filter(([, port]) => !Token.isUnresolved(port) && port !== appPort && taken.has(port))
    .map(([prop, port]) => `\`${prop}\` (${port}) is already a port of the container \`${taken.get(port)}\`: both would listen in the task's one network namespace; choose another`);
}

const SOURCE_LABELS: Record<SourceType, string> = {
  nginxProxy: 'MetricSource.nginxProxy()',
  taskAgent: 'MetricSource.taskAgent()',
  prometheus: 'MetricSource.prometheus()',
  sqsQueue: 'MetricSource.sqsQueue()',
};

/** The error when a source does not read the policy's metric, naming the sources that do. */
function metricErrors(kind: SourceType, metric: MetricName): string[] {
  if (SOURCE_METRICS[kind].includes(metric)) return [];
  const readers = sourcesOf(metric).map(s => SOURCE_LABELS[s]).join(' or ');
  return [`\`policy\` scales on ${metric}, which \`metricSource\` ${SOURCE_LABELS[kind]} does not read (it reads ${SOURCE_METRICS[kind].join(', ')}); ${readers} does`];
}

/** The app container's port: the autoscaler's `appPort`, else its first port mapping. */
function firstAppPort(c: SourceContext): number | undefined {
  return c.appPort ?? c.appContainer.portMappings[0]?.containerPort;
}

function noAppPort(c: SourceContext): string {
  return `\`appPort\` is required: the container \`${c.appContainer.containerName}\` has no port mapping`;
}

class NginxProxySource extends MetricSource {
  public readonly kind = 'nginxProxy';
  constructor(private readonly o: NginxProxySourceOptions) {
    super();
  }

  public _prepare(c: SourceContext): PreparedSource {
    const appPort = firstAppPort(c);
    const proxyPort = this.o.proxyPort ?? 8012;
    const statusPort = this.o.statusPort ?? DEFAULT_STATUS_PORT;
    const timeout = this.o.timeout ?? Duration.seconds(DEFAULT_PROXY_TIMEOUT_SECONDS);
    const errors = [
      ...metricErrors('nginxProxy', c.metric),
      ...(appPort === undefined ? [noAppPort(c)] : checkPort('appPort', appPort)),
      ...checkSidecarPort('proxyPort', proxyPort),
      ...checkSidecarPort('statusPort', statusPort),
      ...checkDistinctPorts({ ...(appPort !== undefined ? { appPort } : {}), proxyPort, statusPort }),
      ...portsTakenErrors(c, { proxyPort, statusPort }, appPort),
      ...checkDuration('proxyTimeout', timeout, 1, 86400),
      ...checkBodySize('proxyMaxRequestBodySize', this.o.maxRequestBodySize),
    ];
    return {
      errors,
      readsTasks: true,
      appPort,
      attach: () => {
        const sidecar = addProxySidecar(c.scope, {
          taskDefinition: c.taskDefinition,
          appContainer: c.appContainer,
          appPort: appPort!,
          proxyPort,
          statusPort,
          image: this.o.image ?? ecs.ContainerImage.fromRegistry(DEFAULT_PROXY_IMAGE),
          logRetention: c.logRetention,
          encryptionKey: c.encryptionKey,
          timeoutSeconds: timeout.toSeconds(),
          maxRequestBodyBytes: this.o.maxRequestBodySize?.toBytes(),
          // Only the default image is known to understand the early_hints directive.
          earlyHints: this.o.image === undefined,
        });
        return { config: { type: 'nginxProxy' }, statusPort, targetContainerName: PROXY_CONTAINER_NAME, targetPort: proxyPort, sidecar };
      },
    };
  }
}

class TaskAgentSource extends MetricSource {
  public readonly kind = 'taskAgent';
  constructor(private readonly o: TaskAgentSourceOptions) {
    super();
  }

  public _prepare(c: SourceContext): PreparedSource {
    const statusPort = this.o.statusPort ?? DEFAULT_STATUS_PORT;
    const mapped = c.appContainer.portMappings.map(m => m.containerPort);
    const errors = [...metricErrors('taskAgent', c.metric), ...checkSidecarPort('statusPort', statusPort)];
    const given = this.o.appPorts;
    if (given !== undefined && !Array.isArray(given)) {
      errors.push(`\`appPorts\` of MetricSource.taskAgent() must be a list of port numbers, got ${JSON.stringify(given)}`);
    }
    let appPorts = Array.isArray(given) ? given : (c.appPort !== undefined ? [c.appPort] : mapped.length === 1 ? mapped : undefined);
    if (appPorts === undefined) {
      errors.push(mapped.length === 0
        ? noAppPort(c)
        : `\`appPort\` is required: the container \`${c.appContainer.containerName}\` maps several ports (${mapped.join(', ')}); name the one the load balancer targets, and the ports whose connections count with MetricSource.taskAgent({ appPorts })`);
      appPorts = [];
    } else if (appPorts.length === 0) {
      errors.push('`appPorts` of MetricSource.taskAgent() must name at least one port, got an empty list');
    }
    // The agent's script holds the ports as /proc/net/tcp writes them: they must be plain numbers.
    appPorts.forEach((p, i) => errors.push(...checkPlainPort(given !== undefined ? `appPorts[${i}]` : 'appPort', p)));
    if (appPorts.includes(statusPort)) {
      errors.push(`\`statusPort\` (${statusPort}) of MetricSource.taskAgent() must not be one of the app's ports (${appPorts.join(', ')}): the agent would listen where the app does`);
    }
    // The load balancer's port: `appPort`, else the first of `appPorts`, else the only mapping.
    const appPort = c.appPort ?? (Array.isArray(given) ? given[0] : appPorts[0]);
    errors.push(...portsTakenErrors(c, { statusPort }, appPort));
    return {
      errors,
      readsTasks: true,
      appPort,
      attach: () => {
        const sidecar = addTaskAgentSidecar(c.scope, {
          taskDefinition: c.taskDefinition,
          statusPort,
          appPorts: appPorts!,
          reads: c.metric === 'ACTIVE_CONNECTIONS' ? 'connections' : 'stats',
          image: this.o.image ?? ecs.ContainerImage.fromRegistry(DEFAULT_AGENT_IMAGE),
          logRetention: c.logRetention,
          encryptionKey: c.encryptionKey,
        });
        return { config: { type: 'taskAgent' }, statusPort, targetContainerName: c.appContainer.containerName, targetPort: appPort!, sidecar };
      },
    };
  }
}

class PrometheusSource extends MetricSource {
  public readonly kind = 'prometheus';
  constructor(private readonly o: PrometheusSourceOptions) {
    super();
    if (o === undefined || o === null || o.port === undefined || o.port === null) {
      throw new Error('`port` of MetricSource.prometheus() is required: the port on which the app serves its metrics');
    }
  }

  public _prepare(c: SourceContext): PreparedSource {
    const path = this.o.path ?? '/metrics';
    const appPort = firstAppPort(c);
    const errors = [
      ...metricErrors('prometheus', c.metric),
      ...checkPort('port', this.o.port),
      // A worker with no port mapping needs no load balancer target: `loadBalancerTarget` says so if asked.
      ...(c.series && JSON.stringify(c.series).length > MAX_SERIES_CHARS
        ? [`the Prometheus series of \`policy\` (name and labels) must be at most ${MAX_SERIES_CHARS} characters as JSON, got ${JSON.stringify(c.series).length}: it travels in the controller's environment (4 KB in all)`]
        : []),
      ...(/^\/[\x21-\x7e]*$/.test(path) ? [] : [`\`path\` of MetricSource.prometheus() must be an absolute path of printable ASCII without spaces, got ${JSON.stringify(path)}`]),
    ];
    return {
      errors,
      readsTasks: true,
      appPort,
      attach: () => ({
        config: { type: 'prometheus', path, series: c.series! },
        statusPort: this.o.port,
        targetContainerName: c.appContainer.containerName,
        targetPort: appPort,
      }),
    };
  }
}

class SqsQueueSource extends MetricSource {
  public readonly kind = 'sqsQueue';
  constructor(private readonly queue: sqs.IQueue, private readonly o: SqsQueueSourceOptions) {
    super();
    if (queue === undefined || queue === null || typeof queue !== 'object' || typeof (queue as { queueUrl?: unknown }).queueUrl !== 'string') {
      throw new Error(`\`queue\` of MetricSource.sqsQueue() must be an sqs.IQueue (a Queue, or Queue.fromQueueArn/fromQueueAttributes), got ${JSON.stringify(queue)}`);
    }
    for (const option of ['countInFlight', 'countDelayed'] as const) {
      const value: unknown = o[option];
      if (value !== undefined && typeof value !== 'boolean') {
        throw new Error(`\`${option}\` of MetricSource.sqsQueue() must be true or false, got ${JSON.stringify(value)}`);
      }
    }
  }

  public _prepare(c: SourceContext): PreparedSource {
    const errors = [...metricErrors('sqsQueue', c.metric), ...sameEnvironmentErrors(c.scope, this.queue)];
    return {
      errors,
      readsTasks: false,
      attach: () => ({
        config: {
          type: 'sqsQueue',
          queueUrl: this.queue.queueUrl,
          countInFlight: this.o.countInFlight ?? true,
          countDelayed: this.o.countDelayed ?? false,
        },
        statusPort: 0,
        // A worker usually has no load balancer; one with a port mapping may still be targeted.
        targetContainerName: c.appContainer.containerName,
        targetPort: c.appPort ?? c.appContainer.portMappings[0]?.containerPort,
        // GetQueueAttributes only: no KMS permission, whatever the queue's encryption (SQS
        // documents kms:Decrypt for ReceiveMessage and kms:GenerateDataKey for SendMessage; the
        // counters are not encrypted data).
        grantController: controller => this.queue.grant(controller, 'sqs:GetQueueAttributes'),
      }),
    };
  }
}

/**
 * A queue in another account or Region cannot be read by the controller's role and client
 * (one Region, one account): a synth error. Tokens (an environment-agnostic stack) are not judged.
 */
function sameEnvironmentErrors(scope: Construct, queue: sqs.IQueue): string[] {
  const here = Stack.of(scope);
  const errors: string[] = [];
  for (const [what, there, mine] of [['account', queue.env.account, here.account], ['Region', queue.env.region, here.region]] as const) {
    if (!Token.isUnresolved(there) && !Token.isUnresolved(mine) && there !== mine) {
      errors.push(`\`queue\` of MetricSource.sqsQueue() must be in the autoscaler's ${what} (${mine}), got ${queue.node.path} in ${there}: the controller reads it with its own role and Region`);
    } else if (!Token.isUnresolved(there) && Token.isUnresolved(mine)) {
      // An environment-agnostic stack cannot be compared: say what must hold.
      Annotations.of(scope).addWarningV2('cdk-fast-autoscaler:queueEnvironmentUnchecked',
        `The queue ${queue.node.path} is in ${what} ${there}; this stack's ${what} is known only at deployment. Deploy the autoscaler to the same ${what}: the controller cannot read a queue elsewhere.`);
    }
  }
  return errors;
}
