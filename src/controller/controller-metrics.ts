/**
 * The controller's CloudWatch metrics: their namespace, names, units and dimensions. The
 * handler emits them (as EMF lines) and the construct's `metricX()` methods, alarms and
 * dashboard read them; both sides share this file, so that a name can never drift. No AWS
 * imports here: the Lambda bundle includes it.
 */

/** The namespace of every metric the controller emits. */
export const METRIC_NAMESPACE = 'FastAutoscaler';

/**
 * The dimensions that name one service: ECS's own pair (as in the `AWS/ECS` namespace),
 * because a service name is unique only within its cluster. Exactly these two, no more:
 * CloudWatch matches a metric's whole dimension set, so a reader must ask for both.
 */
export const DIMENSION_CLUSTER = 'ClusterName';
export const DIMENSION_SERVICE = 'ServiceName';

/** The controller's metrics, by what they measure. */
export const ControllerMetric = {
  /**
   * One per tick that measured the service (asked ECS for its tasks and went on to read
   * them). A tick that throws, or ends early (a lost lease, ECS not answering), emits none.
   */
  TICKS: 'Ticks',
  /** How long the handler took for one tick, in milliseconds. */
  TICK_DURATION: 'TickDuration',
  /** The scaling metric summed over the tasks that gave a value. */
  LOAD: 'Load',
  /** `Load` divided by the tasks that gave a value. */
  LOAD_PER_TASK: 'LoadPerTask',
  /** The tasks the load asks for: at least minTasks, not capped at maxTasks. */
  RECOMMENDATION: 'Recommendation',
  /** The service's desired count after the tick (a dry run's is the unchanged one). */
  DESIRED_TASKS: 'DesiredTasks',
  /** Tasks that serve (desired and last status RUNNING). */
  RUNNING_TASKS: 'RunningTasks',
  /** Tasks on their way (PROVISIONING, PENDING, ACTIVATING). */
  PENDING_TASKS: 'PendingTasks',
  /** 1 when the tick scaled (or, in a dry run, would have), else 0. */
  SCALING_ACTIONS: 'ScalingActions',
  /** Serving tasks whose status page the tick tried to read. */
  TASKS_SCRAPED: 'TasksScraped',
  /** Of those, the ones that gave no usable page. */
  SCRAPES_FAILED: 'ScrapesFailed',
  /**
   * 1 when the service's tick could not do its job (it failed, its scale call failed, it could
   * not see the service, a fifth of its reads failed, the load asks for more than maxTasks),
   * else 0: the health alarm of a service in a shared loop.
   */
  DEGRADED: 'Degraded',
} as const;

/**
 * The loop's own metric: one per loop tick that ran (claimed the lease and ticked its
 * services, whatever became of each), under the `Loop` dimension alone.
 */
export const LOOP_TICKS = 'Ticks';
export const DIMENSION_LOOP = 'Loop';

export type ControllerMetricName = typeof ControllerMetric[keyof typeof ControllerMetric];

/**
 * The cluster's name from the cluster the controller is configured with: an ARN
 * (`arn:aws:ecs:<region>:<account>:cluster/<name>`, what the construct passes) or a bare name.
 */
export function clusterNameOf(cluster: string): string {
  const match = /^arn:[^:]+:ecs:[^:]*:[^:]*:cluster\/(.+)$/.exec(cluster);
  return match ? match[1] : cluster;
}

/** The dimension values of one service's metrics. */
export function serviceDimensions(clusterName: string, serviceName: string): Record<string, string> {
  return { [DIMENSION_CLUSTER]: clusterName, [DIMENSION_SERVICE]: serviceName };
}
