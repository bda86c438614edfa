import { ECSClient } from '@aws-sdk/client-ecs';
import { scaleCallWorstCaseSeconds } from './act/scale-call-limits';
import { ecsCallTimeoutMs, isTransientAwsError, tickBudgetMs } from './call-limits';
import { ControllerConfig } from './controller-config';
import { LEARNED_FROM_NEWEST, learnedStartDelaySeconds, LoadHistory, loadProjectionOf } from './decide/load-trend';
import { recordRecommendation, windowView } from './decide/recommendation-history';
import { decide, LoadProjection, PeerAction, recommendationRange } from './decide/scaling-decision';
import { ServeDelays, TaskLoad, TaskStart } from './decide/serve-delays';
import { measureQueue, MeasureDeps, measureTasks, readQueueWith, scrapeOptions } from './read/measurement';
import { Discovery, discoverTasks, ServiceGoneError } from './read/task-discovery';
import { ControllerState, StateConflictError, StateStore } from './state-store';
import { subjectLine, TickEvent, TickFigures, TickReport, TickResult, ZERO_FIGURES } from './tick-result';

/**
 * One service's tick: read its tasks (or its queue), decide, and write what the next tick
 * must know; the loop then acts on the result (see loop-tick.ts).
 */

/** What a tick uses; the counters and the catalog are kept by the warm Lambda instance across ticks. */
export interface TickDeps extends MeasureDeps {
  readonly ecs: ECSClient;
  readonly store: StateStore;
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

/**
 * A cold instance reads this many tasks in what is left of a tick whatever the time: beyond,
 * it waits for the next tick (see runTick).
 */
export const COLD_READ_AT_ONCE = 500;

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

function isNewer(a: { runId: string; startedAt: number }, b: { runId: string; startedAt: number }): boolean {
  return a.startedAt > b.startedAt || (a.startedAt === b.startedAt && a.runId > b.runId);
}

