import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CONFIG_ENV, parseControllerConfig } from './controller-config';
import { clusterNameOf, ControllerMetric as M, METRIC_NAMESPACE, serviceDimensions } from './controller-metrics';
import { LoadHistory } from './load-trend';
import { askedTasks } from './scaling-decision';
import { scrapeAll } from './scraper';
import { ServeDelays } from './serve-delays';
import { StateStore } from './state-store';
import { TaskCatalog } from './task-catalog';
import { RequestCounters } from './task-metric';
import { awsClientTimeouts, ecsCallTimeoutMs, runTick, TickEvent, TickReport, TickResult } from './tick';

// Built once per Lambda instance: the configuration is checked on the first tick, and the
// clients keep their connections across ticks.
const config = parseControllerConfig(process.env[CONFIG_ENV]);
const logger = new Logger({ serviceName: 'fast-autoscaler' });
const metrics = new Metrics({ namespace: METRIC_NAMESPACE });
// Exactly the dimensions that name the service, as defaults: `addDimension` ones are cleared
// after each publish. Powertools' own `service` dimension goes: every reader would have to
// repeat it, or CloudWatch returns nothing.
metrics.clearDefaultDimensions();
metrics.setDefaultDimensions(serviceDimensions(clusterNameOf(config.cluster), config.service));
const timeouts = awsClientTimeouts(config);
// One retry inside a tick: the next tick, a few seconds later, is the real retry, and a
// throttled call's backoff must not outlast the call's own time limit.
const ecs = new ECSClient({ maxAttempts: 2, requestHandler: timeouts });
// Under the queue source only: one GetQueueAttributes a tick, retried at the next tick.
const sqs = config.source.type === 'sqsQueue' ? new SQSClient({ maxAttempts: 2, requestHandler: timeouts }) : undefined;
const store = new StateStore(new DynamoDBClient({ maxAttempts: 3, requestHandler: timeouts }), config.table,
  `service#${config.cluster}#${config.service}`, ecsCallTimeoutMs(config));
/** Per-task request counters: the warm instance's memory, never the state item's. */
const counters = new RequestCounters();
/** The service's tasks as last listed and described: most ticks need one ECS call. */
const catalog = new TaskCatalog();
/** The recent ticks' totals, for the predictive policy's trend: the warm instance's memory too. */
const loadHistory = new LoadHistory();
/** The new tasks' times from created to carrying load: the predictive policy's look-ahead. */
const serveDelays = new ServeDelays();

/** The tick's log line stays small at thousands of tasks: CloudWatch Logs bills every byte. */
const MAX_LOGGED_TASKS = 100;

/**
 * One tick of the control loop: discover the tasks, scrape them, decide, remember.
 * Returns what the state machine branches on.
 */
export async function handler(event: TickEvent): Promise<TickResult> {
  const started = Date.now();
  const report = await runTick(config, event, { ecs, sqs, store, scrape: scrapeAll, now: Date.now, counters, catalog, loadHistory, serveDelays });
  const r = report.result;
  const f = r.figures;
  logger.info('tick', {
    runId: event.runId,
    action: r.action,
    desiredCount: r.desiredCount,
    previousDesiredCount: r.previousDesiredCount,
    reason: r.reason,
    continue: r.continue,
    dryRun: config.dryRun,
    metric: config.policy.metric,
    ...f,
    ...loggedTasks(report.perTask, report.failures),
  });
  publishMetrics(r, report.perTask.some(m => m.value !== undefined), Date.now() - started);
  return r;
}

/**
 * One EMF record per tick. `Ticks` and the service's figures only when the tick measured the
 * service (a tick that ended early, on a lost lease or an ECS error, has no ECS calls in its
 * figures): a loop that runs but cannot see the service is as stopped as one that does not
 * run, and the "stopped ticking" alarm should say so. The load only when some task gave a value.
 */
function publishMetrics(r: TickResult, anyValue: boolean, tickMs: number) {
  const f = r.figures;
  metrics.addMetric(M.TICK_DURATION, MetricUnit.Milliseconds, tickMs);
  if (Object.keys(f.ecsCalls).length > 0) {
    metrics.addMetric(M.TICKS, MetricUnit.Count, 1);
    metrics.addMetric(M.DESIRED_TASKS, MetricUnit.Count, config.dryRun ? r.previousDesiredCount : r.desiredCount);
    metrics.addMetric(M.RUNNING_TASKS, MetricUnit.Count, f.running);
    metrics.addMetric(M.PENDING_TASKS, MetricUnit.Count, f.starting);
    metrics.addMetric(M.TASKS_SCRAPED, MetricUnit.Count, f.scraped);
    metrics.addMetric(M.SCRAPES_FAILED, MetricUnit.Count, f.failed);
    // 0 on a hold, so that the sum counts actions and the graph has no gaps.
    metrics.addMetric(M.SCALING_ACTIONS, MetricUnit.Count, r.action === 'HOLD' ? 0 : 1);
  }
  if (anyValue) {
    const metric = config.policy.metric;
    const unit = metric === 'REQUESTS_PER_SECOND' || metric === 'PROMETHEUS_COUNTER' ? MetricUnit.CountPerSecond
      : metric === 'CPU_UTILIZATION' || metric === 'MEMORY_UTILIZATION' ? MetricUnit.Percent : MetricUnit.Count;
    metrics.addMetric(M.LOAD, unit, f.total);
    metrics.addMetric(M.LOAD_PER_TASK, unit, f.perTask);
    // Not capped at maxTasks, unlike the figure the decision used: how far the load is past
    // the ceiling is what the "held at maxTasks" alarm needs to see. The predictive policy's
    // projection counts: it is what the policy asks for.
    // A queue holding a message holds one task at least, as the decision does.
    const floor = f.queue && f.total > 0 ? 1 : 0;
    metrics.addMetric(M.RECOMMENDATION, MetricUnit.Count, askedTasks(config.policy, f.total, Math.max(config.minTasks, floor), f.projectedTotal));
  }
  metrics.publishStoredMetrics();
}

/**
 * The per-task values and failures for the log line: all of them for a small service;
 * for a large one the highest values and the first failures, with what was left out.
 */
function loggedTasks(perTask: TickReport['perTask'], failures: TickReport['failures']) {
  const values = perTask.length <= MAX_LOGGED_TASKS
    ? perTask
    : [...perTask].sort((a, b) => (b.value ?? -1) - (a.value ?? -1)).slice(0, MAX_LOGGED_TASKS);
  // Counted by kind only when the failures are too many to log one by one.
  const failuresByReason: Record<string, number> = {};
  for (const f of failures.length > MAX_LOGGED_TASKS ? failures : []) {
    const kind = f.reason.replace(/\d+/g, 'N');
    failuresByReason[kind] = (failuresByReason[kind] ?? 0) + 1;
  }
  return {
    perTaskValues: Object.fromEntries(values.map(m => [m.taskId, m.value ?? null])),
    ...(values.length < perTask.length ? { perTaskValuesOmitted: perTask.length - values.length } : {}),
    failures: failures.slice(0, MAX_LOGGED_TASKS),
    ...(failures.length > MAX_LOGGED_TASKS ? { failuresOmitted: failures.length - MAX_LOGGED_TASKS, failuresByReason } : {}),
  };
}
