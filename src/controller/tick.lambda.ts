import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { CONFIG_ENV, parseControllerConfig } from './controller-config';
import { scrapeAll } from './scraper';
import { StateStore } from './state-store';
import { RequestCounters } from './task-metric';
import { awsClientTimeouts, ecsCallTimeoutMs, runTick, TickEvent, TickResult } from './tick';

// Built once per Lambda instance: the configuration is checked on the first tick, and the
// clients keep their connections across ticks.
const config = parseControllerConfig(process.env[CONFIG_ENV]);
const logger = new Logger({ serviceName: 'fast-autoscaler' });
const metrics = new Metrics({ namespace: 'FastAutoscaler', serviceName: 'fast-autoscaler' });
metrics.addDimension('EcsService', config.service);
const timeouts = awsClientTimeouts(config);
const ecs = new ECSClient({ maxAttempts: 3, requestHandler: timeouts });
const store = new StateStore(new DynamoDBClient({ maxAttempts: 3, requestHandler: timeouts }), config.table,
  `service#${config.cluster}#${config.service}`, ecsCallTimeoutMs(config));
/** Per-task request counters: the warm instance's memory, never the state item's. */
const counters = new RequestCounters();

/**
 * One tick of the control loop: discover the tasks, scrape them, decide, remember.
 * Returns what the state machine branches on.
 */
export async function handler(event: TickEvent): Promise<TickResult> {
  const report = await runTick(config, event, { ecs, store, scrape: scrapeAll, now: Date.now, counters });
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
    perTaskValues: Object.fromEntries(report.perTask.map(m => [m.taskId, m.value ?? null])),
    failures: report.failures,
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
