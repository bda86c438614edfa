import { Draw, mulberry32 } from './seeded-noise';

/**
 * A seeded fault schedule for the chaos soak: which fault, when, for how long. The same seed
 * gives the same schedule on every machine, so a failing soak is replayed by its seed
 * (what the world does with the schedule still depends on timing: the replay is of the
 * faults, not of every byte).
 *
 * Each kind names the documented behaviour it imitates; the injectors are in chaos-world.ts.
 */
export const FAULT_KINDS = {
  /** ECS throttles with ThrottlingException (400) ("Request throttling for the Amazon ECS API"). */
  'ecs-throttle': 'ECS ThrottlingException on reads, sometimes on UpdateService too',
  /** A server-side fault: ECS's model declares ServerException (500). */
  'ecs-5xx': 'ECS ServerException (HTTP 500)',
  /** Answers that come after the SDK call's limit (the controller's call-limits.ts). */
  'ecs-slow': 'ECS reads answered past the call limit',
  /** UpdateService refused: throttled or a server fault, every attempt. */
  'ecs-update-fails': 'UpdateService answers ThrottlingException / ServerException',
  /** UpdateService that reaches ECS after the caller gave up (it lands late, and the retry lands too). */
  'ecs-update-late': 'UpdateService lands seconds late',
  /** A task stopped by ECS (a failed health check, a deployment) during a tick: it drains, a replacement starts. */
  'task-drains-mid-tick': 'a task is told to stop between DescribeTasks and the scrape',
  /** The service starts a task right after a listing: ListTasks did not see it, the next does. */
  'task-appears-after-list': 'a task appears between ListTasks and DescribeTasks',
  /** Another writer bumps the item between the controller's read and its conditional write. */
  'ddb-peer-write': 'DynamoDB ConditionalCheckFailedException (a peer bumps the item)',
  /** DynamoDB calls that never answer: the SDK's request timeout and the call limit end them. */
  'ddb-timeout': 'DynamoDB calls hang past the call limit',
  /** ProvisionedThroughputExceededException / ThrottlingException on writes (DynamoDB's "Throttling" docs). */
  'ddb-throttled-write': 'DynamoDB throttles PutItem',
  /** A task's status endpoint accepts and never answers. */
  'status-hang': 'a status endpoint hangs',
  /** A task's status endpoint answers a page that is not stub_status. */
  'status-garbage': 'a status endpoint answers garbage',
  /** A task's status endpoint resets the connection. */
  'status-reset': 'a status endpoint resets',
  /** A task's nginx is stopped during a scrape; ECS then stops the task (its essential container exited). */
  'task-killed-mid-scrape': 'a task\'s nginx killed mid-scrape',
  /** The function's process exits mid-invocation: Runtime.ExitError, then a cold start. */
  'controller-crash': 'the controller crashes mid-tick (cold start after)',
  /** EventBridge Scheduler fails to deliver one start. */
  'start-lost': 'a scheduled start is lost',
  /** EventBridge Scheduler delivers at least once: one start delivered twice. */
  'start-doubled': 'a scheduled start is delivered twice',
  /** A run started besides the schedule's (a successor, a manual start): two runs tick together. */
  'runs-overlap': 'an extra run overlaps the scheduled ones',
  /** The function's wall clock steps by a few seconds, then back. */
  'clock-step': 'the controller\'s clock steps ± a few seconds',
  /** SNS Publish fails: Throttled (429) or InternalError (500), from the SNS API reference. */
  'sns-fails': 'SNS Publish fails',
  /** No start is delivered and the runs under way end: the loop itself stops. */
  'loop-outage': 'the loop stops (no starts, runs ended)',
} as const;

export type FaultKind = keyof typeof FAULT_KINDS;

export interface Fault {
  readonly id: string;
  readonly kind: FaultKind;
  /** Milliseconds from the soak's start. */
  readonly startMs: number;
  readonly durationMs: number;
  /** Kind-specific: which operations, which error, how much (see chaos-world.ts). */
  readonly params: Readonly<Record<string, string | number | boolean>>;
}

export interface FaultScheduleOptions {
  readonly seed: number;
  /** The soak's length. */
  readonly durationMs: number;
  /** Faults begin after this much quiet (the loop settles first). */
  readonly quietStartMs: number;
  /** And end this long before the soak does (the invariants need the loop's answer to the last ones). */
  readonly quietEndMs: number;
  /** About one fault every this often, beyond one of each kind. */
  readonly meanSpacingMs: number;
  /** A loop outage long enough for the StoppedTicking alarm (over two whole minutes), when the soak has room for it. */
  readonly longOutageMs?: number;
}

/** Every kind at least once; more at random; some placed inside another on purpose, so that faults overlap. */
export function faultSchedule(o: FaultScheduleOptions): Fault[] {
  const draw = mulberry32(o.seed);
  const span = o.durationMs - o.quietStartMs - o.quietEndMs;
  if (span <= 0) throw new Error('the soak is too short for any fault');
  const kinds = Object.keys(FAULT_KINDS) as FaultKind[];
  const picked: FaultKind[] = [...kinds];
  const extra = Math.max(0, Math.floor(span / o.meanSpacingMs) - kinds.length);
  for (let i = 0; i < extra; i++) picked.push(kinds[Math.floor(draw() * kinds.length)]);
  const faults: Fault[] = [];
  picked.forEach((kind, i) => {
    const durationMs = durationOf(kind, draw);
    const latest = Math.max(0, span - durationMs);
    // A third of the faults start inside one already placed: overlaps on purpose, not by luck.
    const host = faults.length > 0 && draw() < 1 / 3 ? faults[Math.floor(draw() * faults.length)] : undefined;
    const offset = host
      ? Math.min(latest, host.startMs - o.quietStartMs + Math.floor(draw() * host.durationMs))
      : Math.floor(draw() * latest);
    faults.push({ id: `f${i}-${kind}`, kind, startMs: o.quietStartMs + offset, durationMs, params: paramsOf(kind, draw) });
  });
  if (o.longOutageMs && span > o.longOutageMs * 2) {
    const startMs = o.quietStartMs + Math.floor(draw() * (span - o.longOutageMs));
    faults.push({ id: `f${faults.length}-long-outage`, kind: 'loop-outage', startMs, durationMs: o.longOutageMs, params: { long: true } });
  }
  return withoutOverlappingOutages(faults.sort((a, b) => a.startMs - b.startMs));
}

/**
 * Two outages at once are one outage: a later one that starts within an earlier one (or the
 * minute after it, when its end, the next delivered start, may still be due) is dropped. The
 * long outage wins over any short one it meets.
 */
function withoutOverlappingOutages(faults: Fault[]): Fault[] {
  const outages = faults.filter(f => f.kind === 'loop-outage');
  const meets = (a: Fault, b: Fault) => a.startMs < b.startMs + b.durationMs + 60_000 && b.startMs < a.startMs + a.durationMs + 60_000;
  const kept = new Set<Fault>(outages.filter(f => f.params.long));
  for (const f of outages) if (![...kept].some(k => meets(k, f))) kept.add(f);
  return faults.filter(f => f.kind !== 'loop-outage' || kept.has(f));
}

function durationOf(kind: FaultKind, draw: Draw): number {
  const between = (lo: number, hi: number) => Math.round(lo + draw() * (hi - lo));
  switch (kind) {
    // Instants: the injector acts once (a crash, a start, a task event); the window is when it may.
    case 'controller-crash':
    case 'start-lost':
    case 'start-doubled':
    case 'runs-overlap':
    case 'task-drains-mid-tick':
    case 'task-appears-after-list':
    case 'task-killed-mid-scrape':
      return between(1_000, 3_000);
    case 'loop-outage': return between(4_000, 9_000);
    case 'clock-step': return between(3_000, 10_000);
    default: return between(2_000, 12_000);
  }
}

function paramsOf(kind: FaultKind, draw: Draw): Fault['params'] {
  switch (kind) {
    case 'ecs-throttle':
    case 'ecs-5xx':
      // Half the time UpdateService is refused too: then the action itself is blocked.
      return { withUpdateService: draw() < 0.5 };
    case 'ecs-slow': return { ms: Math.round(2_000 + draw() * 3_000) };
    case 'ecs-update-fails': return { error: draw() < 0.5 ? 'ThrottlingException' : 'ServerException' };
    case 'ecs-update-late': return { ms: Math.round(1_000 + draw() * 5_000) };
    case 'ddb-throttled-write': return { error: draw() < 0.5 ? 'ProvisionedThroughputExceededException' : 'ThrottlingException' };
    case 'clock-step': {
      const ms = Math.round(1_000 + draw() * 3_000);
      return { offsetMs: draw() < 0.5 ? -ms : ms };
    }
    case 'sns-fails': return { error: draw() < 0.5 ? 'Throttled' : 'InternalError' };
    default: return {};
  }
}

/** Pairs of faults whose windows meet. */
export function overlaps(faults: readonly { readonly startMs: number; readonly durationMs: number }[]): number {
  let n = 0;
  for (let i = 0; i < faults.length; i++) {
    for (let j = i + 1; j < faults.length; j++) {
      const a = faults[i];
      const b = faults[j];
      if (a.startMs < b.startMs + b.durationMs && b.startMs < a.startMs + a.durationMs) n++;
    }
  }
  return n;
}
