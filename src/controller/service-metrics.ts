import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { ControllerConfig } from './controller-config';
import { clusterNameOf, ControllerMetric as M, METRIC_NAMESPACE, serviceDimensions } from './controller-metrics';
import { askedTasks } from './decide/scaling-decision';
import type { ServiceTick } from './loop-tick';

/** The share of failed status reads that makes a tick degraded (the failed-scrapes alarm's threshold too). */
export const DEGRADED_FAILED_SHARE = 0.2;

/**
 * Whether a service's tick could not do its job: it failed or could not finish, its scale call
 * failed, it could not see the service (ECS did not answer, the listing goes on), a fifth of
 * its reads failed, or the load asks for more than maxTasks. One figure a tick: the health
 * alarm of a service in a shared loop reads it (missing data counting as degraded).
 */
export function isDegraded(tick: ServiceTick): boolean {
  if (tick.error || (tick.scale && !tick.scale.ok) || !tick.report || !tick.config) return true;
  const { result } = tick.report;
  const f = result.figures;
  if (Object.keys(f.ecsCalls).length === 0) return !/another run updated the state|reached its deadline|drives the service/.test(result.reason);
  const reads = f.scraped;
  if (reads > 0 && f.failed / reads >= DEGRADED_FAILED_SHARE) return true;
  return f.recommendation > tick.config.maxTasks;
}

/** One EMF publisher per service, whose dimensions name it (CloudWatch matches a metric's whole dimension set). */
export function serviceMetricsFor(config: ControllerConfig): Metrics {
  const metrics = new Metrics({ namespace: METRIC_NAMESPACE });
  // Exactly the dimensions that name the service, as defaults: `addDimension` ones are cleared
  // after each publish. Powertools' own `service` dimension goes: every reader would have to
  // repeat it, or CloudWatch returns nothing.
  metrics.clearDefaultDimensions();
  metrics.setDefaultDimensions(serviceDimensions(clusterNameOf(config.cluster), config.service));
  return metrics;
}

/**
 * Records one service tick's metrics, only those the service publishes (each custom metric is
 * a monthly fee per service); the caller publishes them (one EMF record holds up to 100 values
 * of each metric, so a record every few ticks costs a fraction of a record a tick in logs). `Ticks` and the service's figures only when the tick
 * measured the service (a tick that ended early, on a lost lease or an ECS error, has no ECS
 * calls in its figures): a loop that runs but cannot see the service is as stopped as one that
 * does not run. The load only when some task gave a value.
 */
export function recordServiceMetrics(metrics: Metrics, tick: ServiceTick): void {
  const config = tick.config;
  if (!config) return;
  const wanted = config.publishMetrics ? new Set(config.publishMetrics) : undefined;
  const add = (name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number) => {
    if (!wanted || wanted.has(name)) metrics.addMetric(name, unit, value);
  };
  add(M.TICK_DURATION, MetricUnit.Milliseconds, tick.ms);
  add(M.DEGRADED, MetricUnit.Count, isDegraded(tick) ? 1 : 0);
  const report = tick.report;
  if (report) {
    const r = report.result;
    const f = r.figures;
    if (Object.keys(f.ecsCalls).length > 0) {
      add(M.TICKS, MetricUnit.Count, 1);
      add(M.DESIRED_TASKS, MetricUnit.Count, config.dryRun || (tick.scale && !tick.scale.ok) ? r.previousDesiredCount : r.desiredCount);
      add(M.RUNNING_TASKS, MetricUnit.Count, f.running);
      add(M.PENDING_TASKS, MetricUnit.Count, f.starting);
      add(M.TASKS_SCRAPED, MetricUnit.Count, f.scraped);
      add(M.SCRAPES_FAILED, MetricUnit.Count, f.failed);
      // 0 on a hold, so that the sum counts actions and the graph has no gaps.
      add(M.SCALING_ACTIONS, MetricUnit.Count, r.action === 'HOLD' ? 0 : 1);
    }
    if (report.perTask.some(m => m.value !== undefined)) {
      const metric = config.policy.metric;
      const unit = metric === 'REQUESTS_PER_SECOND' || metric === 'PROMETHEUS_COUNTER' ? MetricUnit.CountPerSecond
        : metric === 'CPU_UTILIZATION' || metric === 'MEMORY_UTILIZATION' ? MetricUnit.Percent : MetricUnit.Count;
      add(M.LOAD, unit, f.total);
      add(M.LOAD_PER_TASK, unit, f.perTask);
      // Not capped at maxTasks, unlike the figure the decision used: how far the load is past
      // the ceiling is what the "held at maxTasks" alarm needs to see. The predictive policy's
      // projection counts: it is what the policy asks for. A queue holding a message holds one
      // task at least, as the decision does.
      const floor = f.queue && f.total > 0 ? 1 : 0;
      add(M.RECOMMENDATION, MetricUnit.Count, askedTasks(config.policy, f.total, Math.max(config.minTasks, floor), f.projectedTotal));
    }
  }
}
