import type { SQSClient } from '@aws-sdk/client-sqs';
import type { ControllerConfig } from '../controller-config';
import { QueueReading, QueueSource, readQueue } from './queue-reading';
import { SCRAPE_CONCURRENCY } from './scrape-slots';
import type { ScrapeOptions, ScrapeResult, ScrapeTarget } from './scraper';
import type { TaskCatalog } from './task-catalog';
import type { Discovery } from './task-discovery';
import { RequestCounters, rateGaps, TaskMetric, taskMetric, TaskSample } from './task-metric';
import { readerFor } from './task-reading';
import { isComplete } from '../decide/scaling-decision';
import type { TaskLoad } from '../decide/serve-delays';

/**
 * A tick's measurement of the load: every serving and draining task read (or the queue's
 * counters), the failures, and whether the view is complete enough for a scale-in.
 */

/** What reading the tasks needs from the tick: the scrape, the clock and what the warm instance keeps. */
export interface MeasureDeps {
  readonly scrape: (targets: readonly ScrapeTarget[], o: ScrapeOptions) => Promise<ScrapeResult[]>;
  readonly now: () => number;
  /** Reads the queue, under the queue source. */
  readonly sqs?: SQSClient;
  readonly counters: RequestCounters;
  readonly catalog: TaskCatalog;
}

/** A queue's counters, when read (in flight counts against scaling to zero, counted or not). */
export interface QueueCounts {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

/** The scrape's limits: well inside the interval, so that a slow task never delays the loop. */
export function scrapeOptions(config: ControllerConfig): ScrapeOptions {
  const deadlineMs = Math.min(2500, Math.max(500, config.intervalSeconds * 1000 * 0.5));
  return {
    port: config.statusPort, deadlineMs, requestTimeoutMs: Math.min(1000, deadlineMs), concurrency: SCRAPE_CONCURRENCY, reader: readerFor(config),
  };
}

/** What a tick measured, from the tasks or from a queue. */
export interface Measurement {
  readonly perTask: readonly TaskMetric[];
  readonly failures: ReadonlyArray<{ readonly taskId: string; readonly reason: string; readonly draining?: true }>;
  readonly counts: { readonly scrapedTasks: number; readonly failedScrapes: number; readonly unknownValues: number };
  readonly total: number;
  readonly totalStdDev: number;
  /** Whether every task (or the queue) was read: the only kind of tick scale-in may follow. */
  readonly complete: boolean;
  /** When the reads started (epoch ms). */
  readonly readAt: number;
  readonly scrapeMs: number;
  /** The fewest tasks the tick may ask for: minTasks, or one while a queue holds a message. */
  readonly minTasks: number;
  /** The load per task, for the figures. */
  readonly perTaskFigure: number;
  /** The serving tasks' readings, dated on arrival (the predictive policy's serve delays). */
  readonly serving: () => readonly TaskLoad[];
  /** The queue's counters, under the queue source. */
  readonly queue?: QueueCounts;
}

/** Reads every serving and draining task's load. */
export async function measureTasks(
  config: ControllerConfig, discovery: Discovery, deps: MeasureDeps, runId: string, tickStarted: number, budgetMs: number,
): Promise<Measurement> {
  const scrapeStarted = deps.now();
  // The scrape ends in time for the state write, within the tick's budget.
  const scrapeLimits = scrapeOptions(config);
  const left = budgetMs - (scrapeStarted - tickStarted) - Math.min(500, budgetMs / 5);
  const scraped = await deps.scrape([...discovery.running, ...discovery.draining], {
    ...scrapeLimits,
    deadlineMs: Math.max(100, Math.min(scrapeLimits.deadlineMs, left)),
    requestTimeoutMs: Math.max(100, Math.min(scrapeLimits.requestTimeoutMs, left)),
  });
  const scrapeMs = deps.now() - scrapeStarted;

  // Serving tasks decide the failed share; stopping ones only add the load they still carry.
  const drainingIds = new Set(discovery.draining.map(t => t.taskId));
  const samples: TaskSample[] = [];
  const failures: Array<{ taskId: string; reason: string; draining?: true }> = [
    ...discovery.unreachable,
    ...discovery.drainingUnreachable.map(f => ({ ...f, draining: true as const })),
  ];
  let failedScrapes = discovery.unreachable.length;
  for (const r of scraped) {
    if (r.ok) {
      const { ok: _ok, ms: _ms, taskId, at, ...reading } = r;
      samples.push({ ...reading, taskId, at });
    } else if (drainingIds.has(r.taskId)) {
      failures.push({ taskId: r.taskId, reason: r.reason, draining: true });
    } else {
      failures.push({ taskId: r.taskId, reason: r.reason });
      failedScrapes++;
    }
  }
  // A task that stopped answering may have stopped: the next tick describes it again. (Not
  // one the deadline left unread: nothing is known of it.)
  deps.catalog.markSuspects(scraped.filter(r => !r.ok && r.ms > 0).map(r => r.taskId));
  const gaps = rateGaps(config.intervalSeconds);
  const perTask = samples.map(sample =>
    taskMetric(config.policy.metric, sample, deps.counters.get(sample.taskId), gaps, drainingIds.has(sample.taskId), runId));
  deps.counters.record(samples, discovery.listedTaskIds, gaps);
  const known = perTask.filter(m => m.value !== undefined);
  const total = known.reduce((sum, m) => sum + (m.value ?? 0), 0);
  const counts = {
    scrapedTasks: discovery.running.length + discovery.unreachable.length,
    failedScrapes,
    unknownValues: perTask.filter(m => m.value === undefined && !drainingIds.has(m.taskId)).length,
  };
  // A tick that did not see every task records the current count, not its lower bound:
  // a scale-in must never follow from what the controller failed to read. A complete tick
  // records the most its noisy total may ask for.
  const drainingUnknown = failures.filter(f => f.draining).length
    + perTask.filter(m => m.value === undefined && drainingIds.has(m.taskId)).length;
  return {
    perTask,
    failures,
    counts,
    total,
    totalStdDev: Math.sqrt(known.reduce((sum, m) => sum + m.variance, 0)),
    complete: isComplete(counts) && drainingUnknown === 0,
    readAt: scrapeStarted,
    scrapeMs,
    minTasks: config.minTasks,
    perTaskFigure: known.length > 0 ? total / known.length : 0,
    // perTask[i] is samples[i]'s value: built only if the policy needs them.
    serving: () => samples.flatMap((x, i) => (drainingIds.has(x.taskId) ? [] : [{ taskId: x.taskId, value: perTask[i].value, at: x.at }])),
  };
}

/**
 * A queue's counters, read once for the service. One read stands for the service's "tasks
 * read": an unread queue is a failed read (the tick holds, records its current count for the
 * scale-in window, and counts in the failed reads). While the queue holds a message, visible
 * or in flight, the tick asks for one task at least: from zero, the first message is a
 * scale-out; to zero, never while a worker still has a message (counted or not).
 */
export function measureQueue(config: ControllerConfig, reading: QueueReading, discovery: Discovery, current: number, readAt: number): Measurement {
  const counts = { scrapedTasks: 1, failedScrapes: reading.ok ? 0 : 1, unknownValues: 0 };
  // In flight holds a task that runs (a worker still has the message); at zero it is another consumer's.
  const busy = reading.ok ? reading.total > 0 || (reading.inFlight > 0 && current > 0) : current > 0;
  const total = reading.ok ? reading.total : 0;
  const serving = discovery.running.length + discovery.unreachable.length;
  return {
    perTask: reading.ok ? [{ taskId: 'queue', value: total, variance: 0 }] : [],
    failures: reading.ok ? [] : [{ taskId: 'queue', reason: reading.reason }],
    counts,
    total,
    totalStdDev: 0,
    complete: reading.ok,
    readAt,
    scrapeMs: 0,
    minTasks: Math.max(config.minTasks, busy ? 1 : 0),
    perTaskFigure: total / Math.max(1, serving),
    serving: () => [],
    ...(reading.ok ? { queue: { visible: reading.visible, inFlight: reading.inFlight, delayed: reading.delayed } } : {}),
  };
}

export function readQueueWith(deps: Pick<MeasureDeps, 'sqs'>, source: QueueSource, abortAfterMs: number, signal: AbortSignal): Promise<QueueReading> {
  if (!deps.sqs) return Promise.resolve({ ok: false, reason: 'no SQS client' });
  return readQueue(deps.sqs, source, abortAfterMs, signal);
}
