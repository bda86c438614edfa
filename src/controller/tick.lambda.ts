import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { CONFIG_ENV, parseControllerConfig } from './controller-config';
import { scrapeAll } from './scraper';
import { StateStore } from './state-store';
import { TaskCatalog } from './task-catalog';
import { RequestCounters } from './task-metric';
import { awsClientTimeouts, ecsCallTimeoutMs, runTick, TickEvent, TickReport, TickResult } from './tick';

// Built once per Lambda instance: the configuration is checked on the first tick, and the
// clients keep their connections across ticks.
const config = parseControllerConfig(process.env[CONFIG_ENV]);
const logger = new Logger({ serviceName: 'fast-autoscaler' });
const metrics = new Metrics({ namespace: 'FastAutoscaler', serviceName: 'fast-autoscaler' });
metrics.addDimension('EcsService', config.service);
const timeouts = awsClientTimeouts(config);
// One retry inside a tick: the next tick, a few seconds later, is the real retry, and a
// throttled call's backoff must not outlast the call's own time limit.
const ecs = new ECSClient({ maxAttempts: 2, requestHandler: timeouts });
const store = new StateStore(new DynamoDBClient({ maxAttempts: 3, requestHandler: timeouts }), config.table,
  `service#${config.cluster}#${config.service}`, ecsCallTimeoutMs(config));
/** Per-task request counters: the warm instance's memory, never the state item's. */
const counters = new RequestCounters();
/** The service's tasks as last listed and described: most ticks need one ECS call. */
const catalog = new TaskCatalog();

/** The tick's log line stays small at thousands of tasks: CloudWatch Logs bills every byte. */
const MAX_LOGGED_TASKS = 100;

/**
 * One tick of the control loop: discover the tasks, scrape them, decide, remember.
 * Returns what the state machine branches on.
 */
export async function handler(event: TickEvent): Promise<TickResult> {
  const report = await runTick(config, event, { ecs, store, scrape: scrapeAll, now: Date.now, counters, catalog });
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
  if (f.scraped > 0) {
    metrics.addMetric('Load', MetricUnit.Count, f.total);
    metrics.addMetric('LoadPerTask', MetricUnit.Count, f.perTask);
    metrics.addMetric('TasksScraped', MetricUnit.Count, f.scraped);
    metrics.addMetric('ScrapesFailed', MetricUnit.Count, f.failed);
    metrics.addMetric('ScrapeDuration', MetricUnit.Milliseconds, f.scrapeMs);
    metrics.addMetric('DesiredCount', MetricUnit.Count, r.desiredCount);
  }
  if (r.action !== 'HOLD') metrics.addMetric(r.action === 'SCALE_OUT' ? 'ScaleOut' : 'ScaleIn', MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
  return r;
}

/**
 * The per-task values and failures for the log line: all of them for a small service;
 * for a large one the highest values and the first failures, with what was left out.
 */
function loggedTasks(perTask: TickReport['perTask'], failures: TickReport['failures']) {
  const values = perTask.length <= MAX_LOGGED_TASKS
    ? perTask
    : [...perTask].sort((a, b) => (b.value ?? -1) - (a.value ?? -1)).slice(0, MAX_LOGGED_TASKS);
  const failuresByReason: Record<string, number> = {};
  for (const f of failures) {
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
