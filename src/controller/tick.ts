import { ECSClient } from '@aws-sdk/client-ecs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { scaleCallWorstCaseSeconds } from './act/scale-call-limits';
import { ControllerConfig } from './controller-config';
import { LEARNED_FROM_NEWEST, learnedStartDelaySeconds, LoadHistory, loadProjectionOf } from './decide/load-trend';
import { recordRecommendation, windowView } from './decide/recommendation-history';
import { decide, Decision, isComplete, LoadProjection, PeerAction, recommendationRange } from './decide/scaling-decision';
import { ServeDelays, TaskLoad, TaskStart } from './decide/serve-delays';
import { QueueReading, QueueSource, readQueue } from './read/queue-reading';
import { SCRAPE_CONCURRENCY } from './read/scrape-slots';
import { ScrapeOptions, ScrapeResult, ScrapeTarget } from './read/scraper';
import { TaskCatalog } from './read/task-catalog';
import { Discovery, discoverTasks, ServiceGoneError } from './read/task-discovery';
import { RequestCounters, rateGaps, TaskMetric, taskMetric, TaskSample } from './read/task-metric';
import { readerFor } from './read/task-reading';
import { ControllerState, StateConflictError, StateStore } from './state-store';

/** What the state machine passes to each tick. */
export interface TickEvent {
  /** The execution's name: one run of the loop. */
  readonly runId: string;
  /** The execution's start, ISO 8601. */
  readonly runStartedAt: string;
}

/**
 * What a tick returns; the state machine branches on `action` and `continue`, hands
 * `desiredCount` to UpdateService and `subject`/`message` to SNS.
 */
export interface TickResult {
  readonly action: Decision['action'];
  readonly desiredCount: number;
  readonly previousDesiredCount: number;
  readonly reason: string;
  /** Whether the run ticks again (false: past its deadline, lease lost, or service gone). */
  readonly continue: boolean;
  /** Whether to publish `message` (every real action; a dry run's only when it changes). */
  readonly notify: boolean;
  readonly subject: string;
  readonly message: string;
  readonly figures: TickFigures;
}

export interface TickFigures {
  readonly total: number;
  readonly perTask: number;
  readonly recommendation: number;
  readonly running: number;
  readonly starting: number;
  /** Tasks being stopped that may still serve (their load is in the total when read). */
  readonly draining: number;
  readonly scraped: number;
  readonly failed: number;
  readonly scrapeMs: number;
  /** ECS calls the discovery made, by action. */
  readonly ecsCalls: Readonly<Record<string, number>>;
  /** Under the queue source, when read: its counters (in flight counts against scaling to zero, counted or not). */
  readonly queue?: { readonly visible: number; readonly inFlight: number; readonly delayed: number };
  /** Under the predictive policy, when the load rises: the total projected `lookAheadSeconds` ahead. */
  readonly projectedTotal?: number;
  readonly lookAheadSeconds?: number;
}

export interface TickDeps {
  readonly ecs: ECSClient;
  /** Reads the queue, under the queue source. */
  readonly sqs?: SQSClient;
  readonly store: StateStore;
  readonly scrape: (targets: readonly ScrapeTarget[], o: ScrapeOptions) => Promise<ScrapeResult[]>;
  readonly now: () => number;
  /** Per-task request counters, kept by the warm Lambda instance across ticks. */
  readonly counters: RequestCounters;
  /** The service's tasks as last listed and described, kept by the warm Lambda instance. */
  readonly catalog: TaskCatalog;
  /**
   * The recent complete ticks' totals, kept by the warm Lambda instance: the predictive
   * policy's trend. @default - no trend: the predictive policy acts as target tracking
   */
  readonly loadHistory?: LoadHistory;
  /**
   * The new tasks' measured times from created to carrying load, kept by the warm Lambda
   * instance: the predictive policy's look-ahead. @default - the catalog's created-to-RUNNING times
   */
  readonly serveDelays?: ServeDelays;
  /**
   * When (wall clock, epoch ms) the loop needs this service's tick done, so that one slow
   * service never holds up the others' next tick. @default - the tick's own budget alone
   */
  readonly cutoffAt?: number;
  /**
   * The loop's lease says which run drives (see LoopLease): the service's item then keeps no
   * lease of its own, and is written only when its state changes (an action, the scale-in window).
   * @default false: the item holds the lease
   */
  readonly leasedByLoop?: boolean;
}

/** Everything a tick saw, for the log line and the metrics. */
export interface TickReport {
  readonly result: TickResult;
  readonly perTask: readonly TaskMetric[];
  readonly failures: ReadonlyArray<{ readonly taskId: string; readonly reason: string; readonly draining?: true }>;
}

const ZERO_FIGURES: TickFigures = {
  total: 0, perTask: 0, recommendation: 0, running: 0, starting: 0, draining: 0, scraped: 0, failed: 0, scrapeMs: 0, ecsCalls: {},
};

/**
 * A cold instance reads this many tasks in what is left of a tick whatever the time: beyond,
 * it waits for the next tick (see runTick).
 */
export const COLD_READ_AT_ONCE = 500;

/** SNS subjects must be shorter than 100 characters. */
export const MAX_SUBJECT_LENGTH = 99;

/**
 * Each ECS call (its retries included) is abandoned after this long: a hung connection
 * must cost one tick's discovery, not the Lambda's whole timeout.
 */
export function ecsCallTimeoutMs(config: Pick<ControllerConfig, 'intervalSeconds'>): number {
  return Math.min(2500, Math.max(1000, config.intervalSeconds * 500));
}

/**
 * The AWS clients' own limits on each attempt. `throwOnRequestTimeout` makes the request
 * timeout throw (by default it only logs a warning); the per-call abort signal above
 * bounds the whole call where the runtime's SDK predates that option.
 */
export function awsClientTimeouts(config: Pick<ControllerConfig, 'intervalSeconds'>) {
  const call = ecsCallTimeoutMs(config);
  return { connectionTimeout: Math.min(1000, call), requestTimeout: call, throwOnRequestTimeout: true };
}

/**
 * The whole tick's limit for its AWS calls and its scrape, however the calls add up (a
 * slow ECS answering each of many pages just inside its own limit must not stretch a
 * tick to the Lambda's timeout). A little over the interval at short intervals, so that a
 * cold instance's first listing of thousands of tasks fits; well inside the Lambda's timeout.
 */
export function tickBudgetMs(config: ControllerConfig): number {
  return Math.max(3000, config.intervalSeconds * 1500);
}

/** The scrape's limits: well inside the interval, so that a slow task never delays the loop. */
export function scrapeOptions(config: ControllerConfig): ScrapeOptions {
  const deadlineMs = Math.min(2500, Math.max(500, config.intervalSeconds * 1000 * 0.5));
  return {
    port: config.statusPort, deadlineMs, requestTimeoutMs: Math.min(1000, deadlineMs), concurrency: SCRAPE_CONCURRENCY, reader: readerFor(config),
  };
}

export async function runTick(config: ControllerConfig, event: TickEvent, deps: TickDeps): Promise<TickReport> {
  const runStartedAt = Date.parse(event.runStartedAt);
  if (!event.runId || Number.isNaN(runStartedAt)) {
    throw new Error(`tick input must carry runId and an ISO runStartedAt, got ${JSON.stringify(event)}`);
  }
  // One deadline for everything this tick asks of AWS and of the tasks.
  const tickStarted = deps.now();
  const budgetMs = deps.cutoffAt === undefined ? tickBudgetMs(config)
    : Math.max(100, Math.min(tickBudgetMs(config), deps.cutoffAt - Date.now()));
  // The wall clock, as the abort signal's: deps.now() may be a test's clock.
  const listUntil = Date.now() + budgetMs * 0.6;
  const budget = AbortSignal.timeout(budgetMs);
  const stored = await deps.store.load(budget);
  const state = stored.state;
  const end = (reason: string, goOn: boolean, desired = 0): TickReport => ({
    result: hold(reason, goOn, desired), perTask: [], failures: [],
  });

  // The newest run drives the service; an older one ends itself.
  const lease = deps.leasedByLoop ? undefined : state.lease;
  // The run's lease, as the item records it (none when the loop's lease says which run drives).
  const leaseOfRun = deps.leasedByLoop ? state.lease : { runId: event.runId, startedAt: runStartedAt };
  if (lease && lease.runId !== event.runId && isNewer(lease, { runId: event.runId, startedAt: runStartedAt })) {
    return end(`run ${lease.runId} (newer) drives the service`, false);
  }
  const now = deps.now();
  const deadline = runStartedAt + config.runSeconds * 1000;
  if (now >= deadline) return end('the run reached its deadline', false);
  const goOn = now + config.intervalSeconds * 1000 < deadline;
  deps.counters.useFor(event.runId);

  // A queue is read once for the service, while the tasks are listed.
  const queueRead = config.source.type === 'sqsQueue'
    ? readQueueWith(deps, config.source, ecsCallTimeoutMs(config), budget)
    : undefined;
  /**
   * A tick that cannot decide (ECS did not answer, the listing goes on) still remembers a
   * queue it found holding messages: the scale-in window must see every non-zero reading,
   * or the service could go to zero moments after one.
   */
  const rememberBusyQueue = async () => {
    const q = queueRead ? await queueRead : undefined;
    if (!config.scaleInEnabled || !q?.ok || (q.total === 0 && q.inFlight === 0)) return;
    const { high } = recommendationRange({
      policy: config.policy, total: q.total, minTasks: Math.max(config.minTasks, 1), maxTasks: config.maxTasks,
    });
    const history = recordRecommendation(state.history, Math.floor(now / 1000), high, config.intervalSeconds, config.scaleInWindowSeconds);
    const next: ControllerState = { ...state, lease: leaseOfRun, history };
    if (sameState(next, state)) return;
    try {
      await deps.store.save(next, stored.version, budget);
    } catch (err) {
      // Another run wrote in between: it read the queue too.
      if (!(err instanceof StateConflictError)) throw err;
    }
  };
  const listedBefore = deps.catalog.listed;
  let discovery: Discovery;
  try {
    discovery = await discoverTasks(deps.ecs, config.cluster, config.service,
      // The listing may use most of the tick; what it cannot read now it reads at the next.
      { abortAfterMs: ecsCallTimeoutMs(config), signal: budget, catalog: deps.catalog, now, listUntil });
  } catch (err) {
    if (err instanceof ServiceGoneError) return end(err.detail, false);
    if (isTransientAwsError(err)) {
      await rememberBusyQueue();
      return end(`ECS did not answer: ${(err as Error).name}: ${(err as Error).message}`, goOn);
    }
    throw err;
  }
  const current = discovery.service.desiredCount;
  if (!discovery.listed) {
    await rememberBusyQueue();
    return end(`listing the service's tasks (${discovery.calls.ListTasks ?? 0} pages this tick): it goes on at the next tick`, goOn, current);
  }

  // A cold instance whose first listing took most of the tick, or could not describe every
  // task it listed (ECS throttles every caller of the account together: a loop's services all
  // listing at once on a new instance), reads the tasks from the next tick: reading what it
  // can now would leave many unread (a blind tick that looks like failing tasks), where one
  // held tick costs one interval. Only the first listing: afterwards, a tick reads what it has.
  const scrapeLeftMs = budgetMs - (deps.now() - tickStarted) - Math.min(500, budgetMs / 5);
  const listedTasks = discovery.running.length + discovery.draining.length;
  const undescribed = [...discovery.unreachable, ...discovery.drainingUnreachable]
    .filter(u => u.reason === 'not described yet' || u.reason.startsWith('DescribeTasks')).length;
  if (!queueRead && !listedBefore && (undescribed > 0 || (scrapeLeftMs < scrapeOptions(config).deadlineMs && listedTasks > COLD_READ_AT_ONCE))) {
    return end(`the first listing of ${listedTasks + undescribed} tasks took this tick${undescribed > 0 ? ` (${undescribed} not described yet)` : ''}: they are read from the next`,
      goOn, current);
  }
  const measured = queueRead
    ? measureQueue(config, await queueRead, discovery, current, deps.now())
    : await measureTasks(config, discovery, deps, event.runId, tickStarted, budgetMs);
  const { perTask, failures, counts, total, totalStdDev, complete, scrapeMs, serving } = measured;
  const drainingTasks = discovery.draining.length + discovery.drainingUnreachable.length;
  const minTasks = measured.minTasks;
  const projection = loadProjection(config, complete, total, measured.readAt, deps, serving, discovery.listedTaskIds);
  const { high } = recommendationRange({
    policy: config.policy, total, totalStdDev, minTasks, maxTasks: config.maxTasks, projection,
  });
  const nowSeconds = Math.floor(now / 1000);
  // The window serves scale-in alone: with it off, nothing is recorded, and the state is
  // written only when a run takes over or acts (DynamoDB bills every write).
  const history = config.scaleInEnabled
    ? recordRecommendation(state.history, nowSeconds, complete ? high : Math.max(high, current), config.intervalSeconds, config.scaleInWindowSeconds)
    : [];

  const decision = decide({
    policy: config.policy,
    minTasks,
    maxTasks: config.maxTasks,
    maxScaleOutStep: config.maxScaleOutStep,
    scaleInEnabled: config.scaleInEnabled,
    maxFailedScrapeRatio: config.maxFailedScrapeRatio,
    desiredCount: current,
    pendingCount: Math.max(discovery.starting, discovery.service.pendingCount),
    ...counts,
    drainingTasks,
    total,
    totalStdDev,
    window: windowView(history, nowSeconds, config.intervalSeconds, config.scaleInWindowSeconds),
    peerAction: recentPeerAction(state, event.runId, now, config.intervalSeconds),
    projection,
  });

  const acting = decision.action !== 'HOLD';
  // After a scale-in the window starts again: the next one needs a whole window of lower
  // load at the new size (the recommendations forgotten were all at or below it).
  const keptHistory = decision.action === 'SCALE_IN' && !config.dryRun ? [] : history;
  const repeatsDryRun = config.dryRun && state.lastAction?.action === decision.action && state.lastAction.to === decision.desiredCount;
  const next: ControllerState = {
    lease: leaseOfRun,
    history: keptHistory,
    lastAction: acting
      ? { runId: event.runId, action: decision.action, from: current, to: decision.desiredCount, at: now, reason: decision.reason }
      : state.lastAction,
  };
  // Most ticks change nothing worth remembering (same lease, same bucket maximum): they
  // skip the write, which is most of what the controller would cost in DynamoDB. An
  // acting tick always writes: the conditional write is what fences two runs that
  // decided at once, whatever their clocks say.
  try {
    if (acting || !sameState(next, state)) await deps.store.save(next, stored.version, budget);
  } catch (err) {
    // Another run wrote in between: this tick's view may be stale, so it does not act.
    if (err instanceof StateConflictError) return end('another run updated the state during this tick', goOn, current);
    throw err;
  }

  const figures: TickFigures = {
    total,
    perTask: measured.perTaskFigure,
    recommendation: decision.recommendation,
    running: discovery.running.length + discovery.unreachable.length,
    starting: discovery.starting,
    draining: drainingTasks,
    scraped: counts.scrapedTasks,
    failed: counts.failedScrapes,
    scrapeMs,
    ecsCalls: discovery.calls,
    ...(measured.queue ? { queue: measured.queue } : {}),
    ...(projection ? { projectedTotal: projection.total, lookAheadSeconds: projection.lookAheadSeconds } : {}),
  };
  const verb = config.dryRun ? 'would scale' : 'scales';
  const direction = decision.action === 'SCALE_OUT' ? 'out' : 'in';
  return {
    result: {
      action: decision.action,
      desiredCount: decision.desiredCount,
      previousDesiredCount: current,
      reason: decision.reason,
      continue: goOn,
      notify: acting && !repeatsDryRun,
      subject: acting ? subjectLine(`${config.service} ${verb} ${direction}: ${current} -> ${decision.desiredCount} tasks`) : '',
      message: acting
        ? `${config.dryRun ? '[dry run] ' : ''}${config.service} ${verb} ${direction} from ${current} to ${decision.desiredCount} tasks: ${decision.reason}.`
        : '',
      figures,
    },
    perTask,
    failures,
  };

  function hold(reason: string, cont: boolean, desired: number): TickResult {
    return { action: 'HOLD', desiredCount: desired, previousDesiredCount: desired, reason, continue: cont, notify: false, subject: '', message: '', figures: ZERO_FIGURES };
  }
}

/** What a tick measured, from the tasks or from a queue. */
interface Measurement {
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
  readonly queue?: TickFigures['queue'];
}

/** Reads every serving and draining task's load. */
async function measureTasks(
  config: ControllerConfig, discovery: Discovery, deps: TickDeps, runId: string, tickStarted: number, budgetMs: number,
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
function measureQueue(config: ControllerConfig, reading: QueueReading, discovery: Discovery, current: number, readAt: number): Measurement {
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

function readQueueWith(deps: TickDeps, source: QueueSource, abortAfterMs: number, signal: AbortSignal): Promise<QueueReading> {
  if (!deps.sqs) return Promise.resolve({ ok: false, reason: 'no SQS client' });
  return readQueue(deps.sqs, source, abortAfterMs, signal);
}

/**
 * Under the predictive policy: records a complete tick's total (only a complete one: a lower
 * bound from failed scrapes would look like a fall, then a rise) and projects the load to
 * when the tasks asked for now are ready, until the next tick's are: the learned start delay
 * (created to carrying load, measured by the serve delays; created to RUNNING until they
 * have measured a task) plus one interval. Undefined when the load is not rising beyond its noise.
 */
function loadProjection(
  config: ControllerConfig, complete: boolean, total: number, readAt: number, deps: TickDeps,
  serving: () => readonly TaskLoad[], listedTaskIds: readonly string[],
): LoadProjection | undefined {
  const policy = config.policy;
  if (policy.type !== 'predictive' || !deps.loadHistory) return undefined;
  if (deps.serveDelays) {
    // Built only when a task still waits to be measured (in steady state none does).
    let starts: Map<string, TaskStart> | undefined;
    deps.serveDelays.record(serving(), listedTaskIds, id => (starts ??= deps.catalog.startsByTaskId()).get(id),
      { intervalMs: config.intervalSeconds * 1000, boundMs: policy.startDelaySeconds * 1000 });
  }
  if (!complete) return undefined;
  deps.loadHistory.record(readAt, total);
  // Created to carrying load where measured (it includes the load balancer's health checks),
  // never less than created to RUNNING, which it follows.
  const served = deps.serveDelays?.newest() ?? [];
  const toRunning = learnedStartDelaySeconds(deps.catalog.startDelays(LEARNED_FROM_NEWEST), policy.startDelaySeconds);
  const lookAheadSeconds = (served.length > 0 ? Math.max(toRunning, learnedStartDelaySeconds(served, policy.startDelaySeconds)) : toRunning)
    + config.intervalSeconds;
  return loadProjectionOf(deps.loadHistory.recent(readAt), lookAheadSeconds);
}

function sameState(a: ControllerState, b: ControllerState): boolean {
  const canonical = (x: ControllerState) => JSON.stringify([x.lease ?? null, x.history, x.lastAction ?? null]);
  return canonical(a) === canonical(b);
}

/**
 * Another run's action stays binding while its UpdateService may still land: until the
 * state machine's Scale state has given up its last retry (SCALE_CALL), two intervals at least.
 */
export function peerActionBindingSeconds(intervalSeconds: number): number {
  return Math.max(2 * intervalSeconds, Math.ceil(scaleCallWorstCaseSeconds()) + 1);
}

export function recentPeerAction(state: ControllerState, runId: string, now: number, intervalSeconds: number): PeerAction | undefined {
  const last = state.lastAction;
  if (!last || last.runId === runId || last.action === 'HOLD') return undefined;
  const ageSeconds = (now - last.at) / 1000;
  // A clock behind the peer's (negative age) keeps the action binding, within reason.
  if (ageSeconds > peerActionBindingSeconds(intervalSeconds) || ageSeconds < -60) return undefined;
  return { runId: last.runId ?? 'an earlier version', action: last.action, to: last.to, ageSeconds };
}

/** A subject SNS accepts: shorter than 100 characters, printable ASCII only. */
export function subjectLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= MAX_SUBJECT_LENGTH ? ascii : `${ascii.slice(0, MAX_SUBJECT_LENGTH - 3)}...`;
}

function isNewer(a: { runId: string; startedAt: number }, b: { runId: string; startedAt: number }): boolean {
  return a.startedAt > b.startedAt || (a.startedAt === b.startedAt && a.runId > b.runId);
}

/** Errors of the network itself, which pass as the next tick's calls go out. */
const NETWORK_ERRORS = new Set(['AbortError', 'TimeoutError', 'RequestTimeout', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE']);

/**
 * Throttling, server-side faults and calls that hung or broke: the tick holds and the
 * next one tries again.
 */
export function isTransientAwsError(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $fault?: string; $retryable?: unknown };
  return e?.name === 'ThrottlingException' || e?.name === 'ServerException' || e?.$fault === 'server' || !!e?.$retryable
    || NETWORK_ERRORS.has(e?.name ?? '') || NETWORK_ERRORS.has(e?.code ?? '');
}
