import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { awsClientTimeouts, ecsCallTimeoutMs } from './call-limits';
import { DIMENSION_LOOP, LOOP_TICKS, METRIC_NAMESPACE } from './controller-metrics';
import { DEFAULT_METRICS_FLUSH_SECONDS, LOOP_CONFIG_ENV, parseLoopConfig, serviceKeyOf } from './loop-config';
import { LoopLease } from './loop-lease';
import { LEASE_UNAVAILABLE, LoopTickEvent, LoopTickResult, runLoopTick, ServiceTick } from './loop-tick';
import { SCRAPE_CONCURRENCY, ScrapeSlots } from './read/scrape-slots';
import { scrapeAll } from './read/scraper';
import { ClientsByRole } from './service-clients';
import { ServiceMemories } from './service-memory';
import { isDegraded, recordServiceMetrics, serviceMetricsFor } from './service-metrics';
import { ServiceRegistry } from './service-registry';
import { TickReport } from './tick-result';

// Built once per Lambda instance: the configuration is checked on the first tick, and the
// clients keep their connections across ticks.
const loop = parseLoopConfig(process.env[LOOP_CONFIG_ENV]);
const logger = new Logger({ serviceName: 'fast-autoscaler' });
const callMs = ecsCallTimeoutMs(loop);
const timeouts = awsClientTimeouts(loop);
const ddb = new DynamoDBClient({ maxAttempts: 3, requestHandler: timeouts });
let sts: STSClient | undefined;
/** Each service's clients: the controller's own in a loop of one, the service's role's in a shared loop. */
const clients = new ClientsByRole({ requestHandler: timeouts, sts: () => (sts ??= new STSClient({ maxAttempts: 2, requestHandler: timeouts })) });
const registry = new ServiceRegistry(loop, loop.registryPath ? new SSMClient({ maxAttempts: 2, requestHandler: timeouts }) : undefined, callMs);
const lease = new LoopLease(ddb, loop.table, `loop#${loop.loop}`, callMs);
const memories = new ServiceMemories(ddb);
/** A Lambda has 1,024 file descriptors: the loop's reads share as many sockets as one service's always had. */
const scrapeSlots = new ScrapeSlots(SCRAPE_CONCURRENCY);

const serviceMetrics = new Map<string, { readonly metrics: Metrics; flushedAt: number }>();
/** Each service's metrics are published this often: a record with many ticks' values costs what one tick's would. */
const flushMs = (loop.metricsFlushSeconds ?? DEFAULT_METRICS_FLUSH_SECONDS) * 1000;
const loopMetrics = loop.loopMetrics ? new Metrics({ namespace: METRIC_NAMESPACE }) : undefined;
loopMetrics?.clearDefaultDimensions();
loopMetrics?.setDefaultDimensions({ [DIMENSION_LOOP]: loop.loop });

let loopFlushedAt = 0;
/** What each service's last INFO line said, and when: quiet services are logged at INFO every 5 minutes. */
const lastLogged = new Map<string, { readonly at: number; readonly summary: string }>();

/** The tick's log line stays small at thousands of tasks: CloudWatch Logs bills every byte. */
const MAX_LOGGED_TASKS = 100;
/** A service whose ticks change nothing is logged at INFO this often; every tick is at DEBUG. */
const QUIET_LOG_MS = 300_000;

/**
 * One tick of the loop: every service discovered, read, decided, scaled and notified on its
 * own (see runLoopTick). Returns what the state machine branches on.
 */
export async function handler(event: LoopTickEvent): Promise<LoopTickResult> {
  const result = await runLoopTick(loop, event, {
    clientsFor: config => clients.for(config.roleArn),
    lease,
    registry,
    memories,
    scrape: scrapeAll,
    scrapeSlots,
    report,
  });
  // A tick held because the loop's lease could not be had logs no service line: say why here, or an
  // operator chasing "Stopped ticking" finds neither a tick line nor a Lambda error.
  if (result.reason.startsWith(LEASE_UNAVAILABLE)) logger.warn('tick held', { runId: event.runId, reason: result.reason });
  // A tick that ran: not one that ended (a newer run, the deadline) or held without the lease.
  if (loopMetrics && !/drives the loop|deadline/.test(result.reason) && !result.reason.startsWith(LEASE_UNAVAILABLE)) {
    loopMetrics.addMetric(LOOP_TICKS, MetricUnit.Count, 1);
    if (Date.now() - loopFlushedAt >= flushMs) {
      loopMetrics.publishStoredMetrics();
      loopFlushedAt = Date.now();
    }
  }
  return result;
}

/** One service's tick: its log line and its metrics, as soon as it ends. */
function report(tick: ServiceTick, event: LoopTickEvent): void {
  const r = tick.report?.result;
  const f = r?.figures;
  const line = {
    runId: event.runId,
    ecsService: tick.config?.service ?? tick.name,
    cluster: tick.config?.cluster,
    action: r?.action ?? 'HOLD',
    desiredCount: r?.desiredCount,
    previousDesiredCount: r?.previousDesiredCount,
    reason: tick.error ? `the tick failed: ${tick.error}` : r?.reason,
    continue: r?.continue,
    dryRun: tick.config?.dryRun,
    metric: tick.config?.policy.metric,
    ...f,
    ...(tick.scale ? { scale: tick.scale } : {}),
    ...(tick.notify ? { notify: tick.notify } : {}),
    ...(tick.error ? { error: tick.error } : {}),
    degraded: isDegraded(tick),
    ms: tick.ms,
    ...loggedTasks(tick.report?.perTask ?? [], tick.report?.failures ?? []),
  };
  // Every tick at DEBUG; at INFO only what changed, what acted or failed, and a line every 5 minutes.
  const key = tick.config ? serviceKeyOf(tick.config) : tick.name;
  const summary = `${line.action} ${line.reason?.replace(/\d+(\.\d+)?/g, 'N')}`;
  const now = Date.now();
  const last = lastLogged.get(key);
  const notable = line.action !== 'HOLD' || line.degraded || !last || last.summary !== summary || now - last.at >= QUIET_LOG_MS;
  if (notable) {
    logger.info('tick', line);
    lastLogged.set(key, { at: now, summary });
  } else {
    logger.debug('tick', line);
  }
  if (tick.config) {
    let published = serviceMetrics.get(key);
    if (!published) serviceMetrics.set(key, published = { metrics: serviceMetricsFor(tick.config), flushedAt: 0 });
    recordServiceMetrics(published.metrics, tick);
    if (now - published.flushedAt >= flushMs) {
      // A service that publishes nothing (its metrics unread) writes no record, and no warning.
      if (published.metrics.hasStoredMetrics()) published.metrics.publishStoredMetrics();
      published.flushedAt = now;
    }
  }
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
