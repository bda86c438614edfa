import * as sqs from 'aws-cdk-lib/aws-sqs';
import { nginxProxySource } from './nginx-proxy-source';
import { prometheusSource } from './prometheus-source';
import { PreparedSource, SourceContext, SourcePreparer } from './source-binding';
import { NginxProxySourceOptions, PrometheusSourceOptions, SqsQueueSourceOptions, TaskAgentSourceOptions } from './source-options';
import { sqsQueueSource } from './sqs-queue-source';
import { taskAgentSource } from './task-agent-source';

/**
 * Where the controller reads each task's load.
 *
 * The nginx proxy is the original design: it sits in front of the app and counts what passes.
 * The task agent and Prometheus read the load beside the data path: the load balancer
 * targets the app directly, whatever its protocol.
 */
export class MetricSource {
  /**
   * An nginx reverse proxy in front of the app whose stub_status gives connections, requests
   * in flight and requests per second: HTTP/1.1 target groups only, every request passes it.
   */
  public static nginxProxy(options: NginxProxySourceOptions = {}): MetricSource {
    return new MetricSource('nginxProxy', nginxProxySource(options ?? {}));
  }

  /**
   * A small sidecar outside the data path that reads, on each scrape, the task's established
   * inbound TCP connections on the app's ports (`ACTIVE_CONNECTIONS`, any protocol over TCP)
   * or its CPU and memory use from the task metadata endpoint (`CPU_UTILIZATION`,
   * `MEMORY_UTILIZATION`). The load balancer targets the app container directly.
   */
  public static taskAgent(options: TaskAgentSourceOptions = {}): MetricSource {
    return new MetricSource('taskAgent', taskAgentSource(options ?? {}));
  }

  /**
   * The app's own Prometheus text endpoint, with no sidecar at all: scale on a gauge or a
   * counter's rate (`ScalingMetric.prometheusGauge`, `ScalingMetric.prometheusCounter`).
   */
  public static prometheus(options: PrometheusSourceOptions): MetricSource {
    return new MetricSource('prometheus', prometheusSource(options));
  }

  /**
   * A queue worker's backlog, read once a tick for the service (one `GetQueueAttributes`),
   * not from its tasks: nothing is added to the task, and the service may have no load
   * balancer and scale from zero (`minTasks: 0`). Scale on `ScalingMetric.QUEUE_MESSAGES`.
   * @param queue the queue the service's tasks receive from, in this stack's account and Region
   */
  public static sqsQueue(queue: sqs.IQueue, options: SqsQueueSourceOptions = {}): MetricSource {
    return new MetricSource('sqsQueue', sqsQueueSource(queue, options ?? {}));
  }

  /**
   * The source's kind: `nginxProxy`, `taskAgent`, `prometheus` or `sqsQueue`.
   */
  public readonly kind: string;

  private constructor(kind: string, private readonly prepare: SourcePreparer) {
    this.kind = kind;
  }

  /**
   * Checks the source against the service and the policy's metric and prepares it; nothing
   * is added to the task definition until `attach` is called.
   * @internal
   */
  public _prepare(context: SourceContext): PreparedSource {
    return this.prepare(context);
  }
}
