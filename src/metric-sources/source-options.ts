import { Duration, Size } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';

/*
 * What a user may pass to each metric source, and the defaults they document.
 */

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
