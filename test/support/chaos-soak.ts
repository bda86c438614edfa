import * as fs from 'fs';
import { loadPlan } from './chaos-load-plan';
import { CHAOS_SERVICE, ChaosWorld } from './chaos-world';
import { FAULT_KINDS, faultSchedule, overlaps } from './fault-schedule';
import { SoakHistory } from './soak-history';
import {
  alarmsWouldFire, CheckResult, desiredWithinBounds, memoryFlat, noLongGaps, oneActionPerStateVersion, scaleInOnlyWhenSafe,
  stateItemBounded, surgesActedOn, Violation,
} from './soak-invariants';
import { sleep } from './wait-for';
import { bucketSeconds } from '../../src/controller/decide/recommendation-history';

export interface ChaosSoakOptions {
  readonly seed: number;
  readonly soakMs: number;
  /** Shrinks the schedule's minute (see LocalControlLoop): runs hand over every 60 s × timeScale. */
  readonly timeScale: number;
  /** One loop outage this long, for the StoppedTicking alarm (needs a soak of more than twice it). */
  readonly longOutageMs?: number;
  readonly log?: (line: string) => void;
}

export interface ChaosSoakReport {
  readonly seed: number;
  readonly faultsByKind: Record<string, number>;
  readonly overlaps: number;
  readonly ticks: number;
  readonly loopBeats: number;
  readonly actions: number;
  readonly runs: number;
  readonly checks: Record<string, number>;
  readonly violations: Violation[];
  readonly longestGapMs: number;
  readonly longestGapCause: string;
  readonly reactionP50Ms: number;
  readonly reactionP95Ms: number;
  readonly reactions: number;
  readonly exempted: Record<string, number>;
  readonly rssEarlyKb: number;
  readonly rssLateKb: number;
  readonly maxStateBytes: number;
  readonly history: SoakHistory;
}

/**
 * The state item's bound: the key, version and lease (under 200 bytes), the last action with
 * its reason (under 400), and the window's buckets (at most window/bucket + 1, each under 32
 * bytes), with room to spare: 2 KB for this service's 10 s window.
 */
export const STATE_ITEM_MAX_BYTES = 2048;
/**
 * A window's buckets: the history keeps those whose end is inside the window (see
 * recommendation-history.ts), at most window / bucket + 1, and one more while the newest is
 * being filled.
 */
function maxBuckets(): number {
  const size = bucketSeconds(CHAOS_SERVICE.intervalSeconds, CHAOS_SERVICE.scaleInWindowSeconds);
  return Math.ceil(CHAOS_SERVICE.scaleInWindowSeconds / size) + 2;
}

/** RSS may wander this much between medians (V8 sizes its heap as it likes); a leak per tick would pass it within minutes. */
export const RSS_TOLERANCE_KB = 24 * 1024;
/** A new instance's first seconds are its loading, not growth. */
export const RSS_WARMUP_MS = 10_000;

/**
 * Runs the chaos soak: the world, the seeded faults and load, then every invariant on the
 * recorded history.
 */
export async function runChaosSoak(o: ChaosSoakOptions): Promise<ChaosSoakReport> {
  const log = o.log ?? (() => undefined);
  const faults = faultSchedule({
    seed: o.seed,
    durationMs: o.soakMs,
    quietStartMs: 8_000,
    quietEndMs: 12_000,
    meanSpacingMs: o.soakMs > 600_000 ? 15_000 : 5_000,
    longOutageMs: o.longOutageMs,
  });
  // Up to a little over what maxTasks serves: the surge check must also hold at the cap.
  const plan = loadPlan(o.seed, o.soakMs, 5, CHAOS_SERVICE.maxTasks * 10 + 10);
  log(`seed ${o.seed}: ${faults.length} faults, ${plan.length} load phases over ${o.soakMs / 1000} s`);
  const world = await ChaosWorld.start(o.timeScale);
  try {
    world.begin();
    const started = Date.now();
    const timers: NodeJS.Timeout[] = [];
    const injections: Array<Promise<void>> = [];
    for (const step of plan) timers.push(setTimeout(() => world.cluster.load.setConnections(step.connections), step.atMs));
    for (const f of faults) {
      timers.push(setTimeout(() => {
        log(`${((Date.now() - started) / 1000).toFixed(1)} s: ${f.id} for ${f.durationMs} ms ${JSON.stringify(f.params)}`);
        injections.push(world.inject(f).catch(err => log(`injector ${f.id} failed: ${(err as Error).message}`)));
      }, f.startMs));
    }
    await sleep(o.soakMs);
    timers.forEach(t => clearTimeout(t));
    await Promise.all(injections);
    const history = world.history();
    // The whole history, to look into a failing seed.
    if (process.env.CHAOS_HISTORY) fs.writeFileSync(process.env.CHAOS_HISTORY, JSON.stringify(history));
    return report(o.seed, history, world.cluster.loop.runs.length);
  } finally {
    await world.stop();
  }
}

function report(seed: number, h: SoakHistory, runs: number): ChaosSoakReport {
  const surges = surgesActedOn(h);
  const gaps = noLongGaps(h);
  const memory = memoryFlat(h, RSS_TOLERANCE_KB, RSS_WARMUP_MS);
  const results: CheckResult[] = [
    scaleInOnlyWhenSafe(h), desiredWithinBounds(h), oneActionPerStateVersion(h), surges, gaps, alarmsWouldFire(h),
    stateItemBounded(h, STATE_ITEM_MAX_BYTES, maxBuckets()), memory,
  ];
  const faultsByKind: Record<string, number> = Object.fromEntries(Object.keys(FAULT_KINDS).map(k => [k, 0]));
  h.faults.forEach(f => (faultsByKind[f.kind] = (faultsByKind[f.kind] ?? 0) + 1));
  const reactions = [...surges.reactionsMs].sort((a, b) => a - b);
  const pct = (p: number) => (reactions.length ? reactions[Math.min(reactions.length - 1, Math.ceil((p / 100) * reactions.length) - 1)] : NaN);
  return {
    seed,
    faultsByKind,
    overlaps: overlaps(h.faults.map(f => ({ startMs: f.from, durationMs: Math.max(1, f.to - f.from) }))),
    ticks: h.ticks.length,
    loopBeats: h.tickEntries.length,
    actions: h.ticks.filter(t => t.action !== 'HOLD' && t.scaled !== undefined).length,
    runs,
    checks: Object.fromEntries(results.map(r => [r.invariant, r.checks])),
    violations: results.flatMap(r => r.violations).sort((a, b) => a.at - b.at),
    longestGapMs: gaps.longestGapMs,
    longestGapCause: gaps.longestGapCause,
    reactionP50Ms: pct(50),
    reactionP95Ms: pct(95),
    reactions: reactions.length,
    exempted: surges.exempted,
    rssEarlyKb: memory.earlyKb,
    rssLateKb: memory.lateKb,
    maxStateBytes: Math.max(0, ...h.stateSizes.map(s => s.bytes)),
    history: h,
  };
}

/** The report as printed: every figure, then the first violation (with how to replay the seed). */
export function formatReport(r: ChaosSoakReport, replay: string): string {
  const lines = [
    `chaos soak, seed ${r.seed}`,
    `faults injected by kind: ${Object.entries(r.faultsByKind).map(([k, n]) => `${k} ${n}`).join(', ')}`,
    `faults: ${r.history.faults.length}, overlapping pairs: ${r.overlaps}`,
    `ticks logged: ${r.ticks}, loop beats (Tick entries): ${r.loopBeats}, runs: ${r.runs}, actions: ${r.actions}`,
    `invariant checks: ${Object.entries(r.checks).map(([k, n]) => `${k} ${n}`).join('; ')} (total ${Object.values(r.checks).reduce((a, b) => a + b, 0)})`,
    `violations: ${r.violations.length}`,
    `longest gap between ticks: ${r.longestGapMs} ms (${r.longestGapCause})`,
    `reaction under faults (first tick that sees a surge to UpdateService): p50 ${r.reactionP50Ms} ms, p95 ${r.reactionP95Ms} ms over ${r.reactions} surges;`
      + ` exempted (a fault the action needs): ${JSON.stringify(r.exempted)}`,
    `state item: at most ${r.maxStateBytes} bytes; controller RSS median ${Math.round(r.rssEarlyKb / 1024)} MB early, ${Math.round(r.rssLateKb / 1024)} MB late`,
  ];
  if (r.violations.length > 0) {
    const v = r.violations[0];
    lines.push(`first violation: [${v.invariant}] at ${new Date(v.at).toISOString()}: ${v.detail}`);
    lines.push(`replay: ${replay}`);
  }
  return lines.join('\n');
}
