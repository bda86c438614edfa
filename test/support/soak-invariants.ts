import { evaluateAlarm } from './alarm-evaluator';
import { InjectedFault, SoakHistory, SoakTick } from './soak-history';

/**
 * The chaos soak's invariants, each a pure function of the recorded history (soak-history.ts)
 * returning how many checks it made and what broke. Each is tested on small histories that
 * break it (test/soak-invariants.test.ts): a checker that cannot fail proves nothing.
 */
export interface Violation {
  readonly invariant: string;
  readonly at: number;
  readonly detail: string;
}

export interface CheckResult {
  readonly invariant: string;
  readonly checks: number;
  readonly violations: Violation[];
}

/**
 * Never a scale-in while any task is unread, draining or pending, nor within the scale-in
 * window of a higher recommendation. The window is measured so that it can only be shorter
 * than the controller's: from the recommending tick's start (no later than when it recorded)
 * to the scale-in tick's line (no earlier than when it decided). No slack beyond that.
 */
export function scaleInOnlyWhenSafe(h: SoakHistory): CheckResult {
  const invariant = 'scale-in only when safe';
  const violations: Violation[] = [];
  let checks = 0;
  for (const t of h.ticks.filter(x => x.action === 'SCALE_IN')) {
    checks++;
    if (t.failed > 0 || t.draining > 0 || t.starting > 0) {
      violations.push({ invariant, at: t.at, detail: `run ${t.runId} scaled in to ${t.desiredCount} with ${t.failed} unread, ${t.draining} draining, ${t.starting} pending` });
      continue;
    }
    const higher = h.ticks.find(r => r.recommendation !== undefined && r.recommendation > t.desiredCount
      && r.startedAt <= t.at && t.at - r.startedAt < h.config.scaleInWindowMs && r !== t);
    if (higher) {
      violations.push({
        invariant,
        at: t.at,
        detail: `run ${t.runId} scaled in to ${t.desiredCount} ${t.at - higher.startedAt} ms after run ${higher.runId} recommended ${higher.recommendation} (window ${h.config.scaleInWindowMs} ms)`,
      });
    }
  }
  return { invariant, checks, violations };
}

/** Never a desired count outside [minTasks, maxTasks]: every UpdateService call, every acting tick. */
export function desiredWithinBounds(h: SoakHistory): CheckResult {
  const invariant = 'desired count within [minTasks, maxTasks]';
  const { minTasks, maxTasks } = h.config;
  const violations: Violation[] = [];
  const counts = [
    ...h.updateServiceCalls.map(c => ({ at: c.at, n: c.desiredCount, what: 'UpdateService' })),
    ...h.ticks.filter(t => t.action !== 'HOLD').map(t => ({ at: t.at, n: t.desiredCount, what: `run ${t.runId}'s ${t.action}` })),
  ];
  for (const c of counts) {
    if (c.n < minTasks || c.n > maxTasks) violations.push({ invariant, at: c.at, detail: `${c.what} to ${c.n}, outside [${minTasks}, ${maxTasks}]` });
  }
  return { invariant, checks: counts.length, violations };
}

/**
 * Never two runs acting on the same tick: every acting tick won a conditional write of the
 * state item (its own: one write backs one action) before it called ECS, and no two
 * successful writes expected the same version (each action saw the one before it).
 */
export function oneActionPerStateVersion(h: SoakHistory): CheckResult {
  const invariant = 'one action per state version';
  const violations: Violation[] = [];
  let checks = 0;
  const ok = h.stateWrites.filter(w => w.ok);
  const byVersion = new Map<number, number>();
  for (const w of ok) {
    checks++;
    byVersion.set(w.expectedVersion, (byVersion.get(w.expectedVersion) ?? 0) + 1);
    if (byVersion.get(w.expectedVersion) === 2) {
      violations.push({ invariant, at: w.at, detail: `two writes succeeded over version ${w.expectedVersion}` });
    }
  }
  // The writes that recorded a new action (later writes carry the same last action along).
  const actionWrites = ok.filter((w, i) => w.lastAction && (i === 0 || ok[i - 1].lastAction?.at !== w.lastAction.at));
  const used = new Set<typeof ok[number]>();
  for (const t of h.ticks.filter(x => x.action !== 'HOLD' && x.scaled !== undefined)) {
    checks++;
    const backing = actionWrites.find(w => !used.has(w) && w.at <= t.at && w.lastAction?.runId === t.runId
      && w.lastAction.action === t.action && w.lastAction.to === t.desiredCount);
    if (!backing) {
      violations.push({ invariant, at: t.at, detail: `run ${t.runId} acted (${t.action} to ${t.desiredCount}) without a state write of its own` });
      continue;
    }
    used.add(backing);
  }
  return { invariant, checks, violations };
}

/** Whether a tick's read asks for more tasks than the desired count it saw (up to maxTasks). */
export function seesSurge(t: SoakTick, maxTasks: number): boolean {
  return t.recommendation !== undefined && !t.error && Math.min(t.recommendation, maxTasks) > t.previousDesiredCount;
}

/** The faults active at some moment of [from, to] that satisfy `which`. */
function activeDuring(faults: readonly InjectedFault[], from: number, to: number, which: (f: InjectedFault) => boolean): InjectedFault[] {
  return faults.filter(f => which(f) && f.from <= to && f.to >= from);
}

export interface ReactionResult extends CheckResult {
  /** From the first tick that saw a surge to its UpdateService call, for each surge acted on. */
  readonly reactionsMs: number[];
  /** Surges left unchecked because a fault the action needs was active (by fault kind). */
  readonly exempted: Record<string, number>;
}

/**
 * A surge that needs more tasks is acted on within 2 ticks of the first tick that sees it
 * (with enough tasks read: the tick's own read asks for more): an UpdateService call asking for
 * more than that tick saw, made from that tick's start until the line of the second tick after
 * it. Exempt only while a fault the action needs is active (InjectedFault.blocksAction:
 * UpdateService failing or late, the state write failing, the controller crashed, the loop
 * stopped); a surge at the very end (fewer than 2 later ticks) is not judged.
 */
export function surgesActedOn(h: SoakHistory): ReactionResult {
  const invariant = 'a surge is acted on within 2 ticks';
  const violations: Violation[] = [];
  const reactionsMs: number[] = [];
  const exempted: Record<string, number> = {};
  let checks = 0;
  const ticks = h.ticks.filter(t => !t.error || t.recommendation !== undefined);
  let coveredUntil = -1;
  for (let i = 0; i < ticks.length; i++) {
    const t = ticks[i];
    if (!seesSurge(t, h.config.maxTasks) || i <= coveredUntil) continue;
    const deadlineTick = ticks[i + 2];
    if (!deadlineTick) break;
    const deadline = deadlineTick.at;
    const call = h.updateServiceCalls.find(c => c.at >= t.startedAt && c.at <= deadline && c.desiredCount > t.previousDesiredCount);
    // The ticks up to the acting one belong to this surge; the next tick that sees one starts another.
    const blockers = activeDuring(h.faults, t.startedAt, deadline, f => f.blocksAction);
    if (call) {
      checks++;
      reactionsMs.push(call.at - t.startedAt);
      coveredUntil = lastTickBefore(ticks, call.at);
      continue;
    }
    if (blockers.length > 0) {
      blockers.forEach(f => (exempted[f.kind] = (exempted[f.kind] ?? 0) + 1));
      coveredUntil = i + 2;
      continue;
    }
    checks++;
    violations.push({
      invariant,
      at: t.at,
      detail: `run ${t.runId}'s tick saw ${t.recommendation} tasks needed with ${t.previousDesiredCount} desired; no UpdateService above it by ${deadline} (2 ticks later)`,
    });
    coveredUntil = i + 2;
  }
  return { invariant, checks, violations, reactionsMs, exempted };
}

function lastTickBefore(ticks: readonly SoakTick[], at: number): number {
  let last = -1;
  ticks.forEach((t, i) => {
    if (t.at <= at + 1) last = i;
  });
  // The tick whose line follows the call is the acting one.
  return Math.min(ticks.length - 1, last + 1);
}

export interface GapResult extends CheckResult {
  readonly longestGapMs: number;
  readonly longestGapCause: string;
}

/**
 * No gap between the loop's beats (executions entering Tick) over 2 intervals, except while a
 * fault stops the loop itself (InjectedFault.stopsLoop); after such a fault ends (as its kind
 * defines: a crash when the new instance is ready, an outage when the next start is
 * delivered) the beat resumes within 2 intervals.
 */
export function noLongGaps(h: SoakHistory): GapResult {
  const invariant = 'no gap over 2 intervals';
  const limit = 2 * h.config.intervalMs;
  const beats = [...h.tickEntries].sort((a, b) => a - b);
  const violations: Violation[] = [];
  let longestGapMs = 0;
  let longestGapCause = 'none';
  for (let i = 1; i < beats.length; i++) {
    const [a, b] = [beats[i - 1], beats[i]];
    const gap = b - a;
    const stoppers = activeDuring(h.faults, a, b, f => f.stopsLoop);
    const cause = stoppers.length > 0 ? stoppers.map(f => `${f.kind} (${f.id})`).join(', ') : 'no loop-stopping fault';
    if (gap > longestGapMs) {
      longestGapMs = gap;
      longestGapCause = cause;
    }
    if (gap <= limit) continue;
    if (stoppers.length === 0) {
      violations.push({ invariant, at: a, detail: `${gap} ms between ticks with ${activeAt(h.faults, a, b)}` });
      continue;
    }
    const ended = Math.max(...stoppers.map(f => f.to));
    if (b - Math.max(a, ended) > limit) {
      violations.push({ invariant, at: a, detail: `ticks resumed ${b - ended} ms after ${cause} ended (limit ${limit} ms)` });
    }
  }
  return { invariant, checks: Math.max(0, beats.length - 1), violations, longestGapMs, longestGapCause };
}

function activeAt(faults: readonly InjectedFault[], from: number, to: number): string {
  const active = activeDuring(faults, from, to, () => true);
  return active.length > 0 ? `faults ${active.map(f => f.id).join(', ')} active` : 'no fault active';
}

/**
 * The StoppedTicking alarm, as synthesized and evaluated on the Ticks metric the controller
 * emitted, is in ALARM by the end of every stretch without ticks long enough for it (its
 * evaluation periods, all missing: breaching), and OK at every whole minute whose evaluation
 * periods all held a tick (no false alarm).
 */
export function alarmsWouldFire(h: SoakHistory): CheckResult {
  const invariant = 'StoppedTicking fires for every long stop, and only then';
  const alarm = h.stoppedTickingAlarm;
  const periodMs = alarm.period * 1000;
  const points = [...h.ticksMetric].sort((a, b) => a.timestamp - b.timestamp);
  const violations: Violation[] = [];
  let checks = 0;
  if (points.length === 0) return { invariant, checks: 1, violations: [{ invariant, at: h.startedAt, detail: 'no Ticks data point at all' }] };
  // Each whole period from the first tick's to the soak's end.
  const first = Math.ceil(points[0].timestamp / periodMs) * periodMs;
  for (let end = first + alarm.evaluationPeriods * periodMs; end <= h.endedAt; end += periodMs) {
    const windowStart = end - alarm.evaluationPeriods * periodMs;
    const periods = Array.from({ length: alarm.evaluationPeriods }, (_, i) => windowStart + i * periodMs);
    const ticked = periods.map(p => points.some(d => d.timestamp >= p && d.timestamp < p + periodMs));
    const state = evaluateAlarm(alarm, points, end);
    if (ticked.every(x => !x)) {
      checks++;
      if (state !== 'ALARM') violations.push({ invariant, at: end, detail: `no tick from ${windowStart} to ${end}, yet the alarm was ${state}` });
    } else if (ticked.every(x => x)) {
      checks++;
      if (state !== 'OK') violations.push({ invariant, at: end, detail: `ticks in every period up to ${end}, yet the alarm was ${state}` });
    }
  }
  return { invariant, checks, violations };
}

/**
 * The state item stays bounded: never over `maxBytes` (what its parts can hold: key, version
 * and lease, the last action with its reason, a window of buckets), and never more buckets
 * than a window holds (`maxBuckets`): the one part that could grow with time. (Its size is not
 * compared early against late: it starts empty and fills its window in the first seconds, and
 * the last action's reason varies in length with its numbers.)
 */
export function stateItemBounded(h: SoakHistory, maxBytes: number, maxBuckets: number): CheckResult {
  const invariant = 'state item bounded';
  const violations: Violation[] = [];
  for (const s of h.stateSizes) {
    if (s.bytes > maxBytes) violations.push({ invariant, at: s.at, detail: `${s.bytes} bytes, over ${maxBytes}` });
    if (s.buckets > maxBuckets) violations.push({ invariant, at: s.at, detail: `${s.buckets} history buckets, over a window's ${maxBuckets}` });
  }
  return { invariant, checks: 2 * h.stateSizes.length, violations };
}

/**
 * The controller's memory does not grow: the median resident size of the soak's last third is
 * within `toleranceKb` of its first third's. Samples taken in the first `warmupMs` of each
 * instance are left out (a cold start loads the bundle and grows to its working size: that is
 * not growth), as are instances too short-lived to have a warm sample.
 */
export function memoryFlat(
  h: SoakHistory, toleranceKb: number, warmupMs: number,
): CheckResult & { readonly earlyKb: number; readonly lateKb: number } {
  const invariant = 'controller memory does not grow';
  const firstSeen = new Map<number, number>();
  h.rss.forEach(s => firstSeen.set(s.pid, Math.min(firstSeen.get(s.pid) ?? s.at, s.at)));
  const warm = h.rss.filter(s => s.at - (firstSeen.get(s.pid) ?? s.at) >= warmupMs);
  const third = Math.floor(warm.length / 3);
  if (third === 0) return { invariant, checks: 0, violations: [], earlyKb: NaN, lateKb: NaN };
  const earlyKb = median(warm.slice(0, third).map(s => s.kb));
  const lateKb = median(warm.slice(-third).map(s => s.kb));
  const violations: Violation[] = lateKb > earlyKb + toleranceKb
    ? [{ invariant, at: h.endedAt, detail: `median RSS grew from ${earlyKb} kB to ${lateKb} kB (tolerance ${toleranceKb} kB)` }]
    : [];
  return { invariant, checks: 1, violations, earlyKb, lateKb };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
