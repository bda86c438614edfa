import { CallOutcome, notifyTimeoutMs, publishNotification, updateDesiredCount } from './act/service-actions';
import { isTransientAwsError } from './call-limits';
import { ControllerConfig } from './controller-config';
import { LoopConfig, serviceKeyOf } from './loop-config';
import { LoopLease } from './loop-lease';
import { ScrapeSlots, scrapeShare } from './read/scrape-slots';
import { ScrapeOptions, ScrapeResult, ScrapeTarget } from './read/scraper';
import { ServiceClients } from './service-clients';
import { ServiceMemories } from './service-memory';
import { RegisteredService, ServiceRegistry } from './service-registry';
import { runTick } from './tick';
import { TickEvent, TickReport } from './tick-result';

/** What the state machine passes to each tick. */
export type LoopTickEvent = TickEvent;

/** What the state machine branches on: go on or end, and when to tick next. */
export interface LoopTickResult {
  /** Whether the run ticks again (false: past its deadline, or a newer run drives the loop). */
  readonly continue: boolean;
  /** When the next tick is due (ISO 8601): one interval after this one began, however long it took. */
  readonly nextTickAt: string;
  readonly reason: string;
  /** Services ticked, services that scaled (or, in a dry run, would have), services that failed. */
  readonly services: number;
  readonly acted: number;
  readonly failed: number;
}

/** One service's part of a loop tick. */
export interface ServiceTick {
  readonly name: string;
  readonly config?: ControllerConfig;
  /** What the tick saw and decided, when it ran to the end. */
  readonly report?: TickReport;
  /** The UpdateService call, when the tick decided to scale (not in a dry run). */
  readonly scale?: CallOutcome;
  /** The notification, when the decision is announced and the service has a topic. */
  readonly notify?: CallOutcome;
  /** Why the service's tick could not run or finish: its own failure, no other's. */
  readonly error?: string;
  readonly ms: number;
}

export interface LoopDeps {
  /** The clients a service is reached with: its own role's in a shared loop. */
  readonly clientsFor: (config: ControllerConfig) => ServiceClients;
  readonly lease: LoopLease;
  readonly registry: ServiceRegistry;
  readonly memories: ServiceMemories;
  readonly scrape: (targets: readonly ScrapeTarget[], o: ScrapeOptions) => Promise<ScrapeResult[]>;
  /** The status reads under way at once across the loop's services. @default - each service's own limit alone */
  readonly scrapeSlots?: ScrapeSlots;
  /** Receives each service's tick as soon as it ends (late ones too): its log line and its metrics. */
  readonly report: (tick: ServiceTick, event: LoopTickEvent) => void;
}

/**
 * The share of the interval the services' ticks may take: a service still ticking then is
 * left to finish on its own and the loop goes on, so that its next tick for every other
 * service comes on time.
 */
export function loopCutoffMs(intervalSeconds: number): number {
  return Math.max(700, intervalSeconds * 1000 - 300);
}

/** The promise's outcome, or an AbortError as soon as `signal` aborts (the promise's own outcome is then dropped). */
function byCutoff<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) promise.catch(() => undefined);
  return signal.aborted
    ? Promise.reject(Object.assign(new Error('the tick\'s cutoff passed'), { name: 'AbortError' }))
    : new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        promise.catch(() => undefined);
        reject(Object.assign(new Error('the tick\'s cutoff passed'), { name: 'AbortError' }));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
}

/** The reason of a tick held because the loop's lease could not be read or written. */
export const LEASE_UNAVAILABLE = 'the loop\'s lease could not be read or written';

/**
 * The loop's clock, for what a tick names and remembers (the next tick's time, the scale-in
 * window, a peer's action, the run's deadline): Step Functions' own, the clock its Wait reads
 * and every run and instance shares, as the tick's state entry (`tickEnteredAt`) plus the time
 * since on this instance's monotonic clock. The function's wall clock may stand seconds apart
 * from it and step: a recommendation remembered 3 s early, or a window judged 3 s late, would
 * unlock a scale-in 3 s too soon. (It runs behind Step Functions' by the invocation's latency,
 * milliseconds: two ticks' times differ from the truth by the difference of two such latencies.)
 * Without the entry time (an older definition), the wall clock.
 */
export function loopClock(tickEnteredAt: string | undefined): () => number {
  const entered = Date.parse(tickEnteredAt ?? '');
  if (Number.isNaN(entered)) return Date.now;
  const since = performance.now();
  return () => entered + (performance.now() - since);
}

/**
 * One tick of the loop: claim the loop's lease, then tick every service at once, each on its
 * own (discover, read, decide, remember, scale, notify). One service's failure, slowness or
 * size never delays, blocks or changes another's tick: each runs in its own promise with its
 * own memory, the loop waits for none past the cutoff, and a service's error is its own.
 */
export async function runLoopTick(loop: LoopConfig, event: LoopTickEvent, deps: LoopDeps): Promise<LoopTickResult> {
  // The wall clock throughout: the cutoff is an abort signal's and a timer's.
  const started = Date.now();
  const runStartedAt = Date.parse(event?.runStartedAt);
  if (!event?.runId || Number.isNaN(runStartedAt)) {
    throw new Error(`tick input must carry runId and an ISO runStartedAt, got ${JSON.stringify(event)}`);
  }
  // On a whole second: Step Functions' Wait reads a timestamp to the second (it drops the
  // milliseconds), so a run's ticks fall on whole seconds one interval apart. On Step Functions'
  // clock (when the tick's state was entered), which the Wait reads: a function whose clock
  // steps ahead by seconds would otherwise delay every next tick by as much.
  const clock = loopClock(event?.tickEnteredAt);
  const began = clock();
  const nextTickAt = new Date(Math.floor((began + loop.intervalSeconds * 1000) / 1000) * 1000).toISOString();
  const end = (reason: string, goOn: boolean, services = 0, acted = 0, failed = 0): LoopTickResult =>
    ({ continue: goOn, nextTickAt, reason, services, acted, failed });
  const deadline = runStartedAt + loop.runSeconds * 1000;
  if (began >= deadline) return end('the run reached its deadline', false);
  const goOn = began + loop.intervalSeconds * 1000 < deadline;
  const cutoffAt = started + loopCutoffMs(loop.intervalSeconds);
  const cutoff = AbortSignal.timeout(cutoffAt - started);

  // The newest run drives the loop; an older one ends itself. A lease DynamoDB could not read or
  // write for now (throttled, failing, slow past the cutoff) holds this tick and keeps the beat:
  // failing it would add the state machine's whole wait after a failure to the time it took,
  // a gap of over two intervals (found by the chaos soak: 2,006 ms at 1 s, a throttled write).
  let claim: Awaited<ReturnType<LoopLease['claim']>>;
  try {
    // By the cutoff, whatever the SDK's retries do (its backoff between attempts outlasts an abort).
    claim = await byCutoff(deps.lease.claim({ runId: event.runId, startedAt: runStartedAt }, cutoff), cutoff);
  } catch (err) {
    if (!isTransientAwsError(err)) throw err;
    return end(`${LEASE_UNAVAILABLE}: ${(err as Error).name}: ${(err as Error).message}`, goOn);
  }
  if (!claim.held) return end(`run ${claim.by} (newer) drives the loop`, false);
  const { services, stale } = await deps.registry.services(cutoff);

  const share = scrapeShare(services.length);
  const keys = new Set<string>();
  const pipelines: Array<Promise<ServiceTick>> = [];
  // A service listed twice is left out, every copy: which entry is the real one is not for the loop to guess.
  const entriesOf = new Map<string, number>();
  for (const s of services) if (!('error' in s)) entriesOf.set(serviceKeyOf(s.config), (entriesOf.get(serviceKeyOf(s.config)) ?? 0) + 1);
  for (const s of services) {
    if ('error' in s) {
      pipelines.push(Promise.resolve(reported(deps, event, { name: s.name, error: `its entry cannot be used: ${s.error}`, ms: 0 })));
      continue;
    }
    const key = serviceKeyOf(s.config);
    if ((entriesOf.get(key) ?? 0) > 1) {
      pipelines.push(Promise.resolve(reported(deps, event, {
        name: s.name, config: s.config, error: `the service is listed ${entriesOf.get(key)} times in the loop (${s.name} is one): every entry is left out`, ms: 0,
      })));
      continue;
    }
    keys.add(key);
    pipelines.push(tickService(s, event, deps, cutoffAt, share, clock));
  }
  deps.memories.keepOnly(keys);

  // Whatever has not finished by the cutoff finishes on its own, and reports then.
  const late = new Promise<'late'>(resolve => setTimeout(() => resolve('late'), Math.max(0, cutoffAt - Date.now())).unref?.());
  const settled = await Promise.all(pipelines.map(p => Promise.race([p, late])));
  const done = settled.filter((t): t is ServiceTick => t !== 'late');
  const acted = done.filter(t => t.report && t.report.result.action !== 'HOLD').length;
  const failed = done.filter(t => t.error || (t.scale && !t.scale.ok)).length + (settled.length - done.length);
  const reason = `${services.length} services, ${acted} acted, ${failed} failed or late${stale ? `; the service list is from an earlier read (${stale})` : ''}`;
  return end(reason, goOn, services.length, acted, failed);
}

/** One service's whole tick: its own memory, its own errors, its own scale call and notification. */
async function tickService(
  s: { name: string; config: ControllerConfig }, event: LoopTickEvent, deps: LoopDeps, cutoffAt: number, share: number,
  clock: () => number,
): Promise<ServiceTick> {
  const { config } = s;
  const memory = deps.memories.of(config);
  const clients = deps.clientsFor(config);
  const started = Date.now();
  if (memory.busySince !== undefined) {
    return reported(deps, event, { name: s.name, config, error: `its previous tick, begun ${started - memory.busySince} ms ago, is still under way`, ms: 0 });
  }
  memory.busySince = started;
  try {
    const report = await runTick(config, event, {
      ecs: clients.ecs,
      sqs: config.source.type === 'sqsQueue' ? clients.sqs() : undefined,
      store: memory.store,
      // One pool of sockets for the whole loop.
      scrape: (targets, o) => deps.scrape(targets, { ...o, concurrency: Math.min(o.concurrency, share), slots: deps.scrapeSlots }),
      now: clock,
      counters: memory.counters,
      catalog: memory.catalog,
      loadHistory: memory.loadHistory,
      serveDelays: memory.serveDelays,
      cutoffAt,
      leasedByLoop: true,
    });
    const r = report.result;
    // The scale call first: a notification never delays capacity.
    const scale = r.action !== 'HOLD' && !config.dryRun
      // Within the cutoff (one attempt at least): a retry still under way when the next tick
      // decides, perhaps on another instance, could set an older count over a newer one.
      ? await updateDesiredCount(clients.ecs, config.cluster, config.service, r.desiredCount, Math.max(cutoffAt, Date.now() + 500))
      : undefined;
    const notify = r.notify && config.topicArn && (!scale || scale.ok)
      // Within the cutoff: a hanging SNS must never make this service miss its next tick.
      ? await publishNotification(clients.sns(), config.topicArn, r.subject, r.message,
        Math.max(200, Math.min(notifyTimeoutMs(config.intervalSeconds), cutoffAt - Date.now())))
      : undefined;
    return reported(deps, event, { name: s.name, config, report, scale, notify, ms: Date.now() - started });
  } catch (err) {
    const e = err as Error;
    return reported(deps, event, { name: s.name, config, error: `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`, ms: Date.now() - started });
  } finally {
    memory.busySince = undefined;
  }
}

function reported(deps: LoopDeps, event: LoopTickEvent, tick: ServiceTick): ServiceTick {
  try {
    deps.report(tick, event);
  } catch {
    // A log line that cannot be written must not fail the service's tick.
  }
  return tick;
}

export type { RegisteredService };
