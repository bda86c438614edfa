/**
 * The load's trend over the last minutes of ticks, and where it will be when the tasks a
 * scale-out asks for now are ready: what the predictive policy asks for.
 *
 * Why this estimator. The trend must see a slow ramp through the noise of a busy service, and
 * must not see one in a noisy plateau, in a single burst, or in a step (a load that jumped and
 * stays): each of those would buy tasks the load never needs, and keep them for the whole
 * scale-in window.
 * - The slope is Sen's: built from the slopes between every pair of readings (Theil–Sen),
 *   which ignores up to 29 % of wild readings, where least squares follows one outlier.
 * - The trend counts only when it is significant: the lower end of the slope's one-sided
 *   99.5 % confidence interval over the last minute (the Mann–Kendall rank statistic inverted,
 *   Gilbert 1987, §16.5) must be above zero. 99.5 %, not 95 %: a tick tests a new, overlapping
 *   window every few seconds, and at 95 % a 30-minute plateau of ±20 % independent noise
 *   bought a needless task in about half of the replays (bench/policy-quality.ts's trace and
 *   the unit test's 30 seeds); at 99.5 % in none. The price: six readings (15 s at 3 s ticks)
 *   before a ramp can count at all.
 * - The projection follows that lower end, not the median. For a ramp the two are close once
 *   the window holds a few ticks. For a step they are not: about half of the pairs straddle the
 *   jump and are steep, the others are flat, and the median may land among the steep ones (a
 *   step in mid-window looks like a ramp at this resolution); the lower end always lands among
 *   the flat ones, so a step asks for what its new level needs and no more, as target tracking
 *   does. The lower end over the last three minutes is used too when it is higher: a ramp that
 *   has lasted that long is known more precisely (the bound tightens with the readings), and a
 *   long window is no less robust to a step. Only the last minute decides whether the load rises.
 * - Where the load will be: every reading of the last minute carried forward along that slope to
 *   the time the new tasks are ready, and the highest of those (noise included: the peaks of a
 *   ramp are what leaves a service short). Each is a reading plus a non-negative multiple of
 *   the slope, and every order statistic of the slopes grows with the newest reading, so the
 *   projection never falls when the newest reading rises (the policy is monotonic in the load).
 * - Mann–Kendall's variance is the one without ties: ties only make the true variance smaller,
 *   so this errs toward "no trend", and keeps the bound a function of the readings' order alone.
 */

/** One tick's total load: what all the service's tasks carried, read completely. */
export interface LoadPoint {
  /** Epoch ms. */
  readonly at: number;
  readonly total: number;
}

export interface LoadTrend {
  /** The lower end of Sen's slope's one-sided 99.5 % confidence interval, per second; -Infinity with too few readings. */
  readonly slopePerSecond: number;
  /** Sen's slope itself, the median of the pairwise slopes, per second (for the log). */
  readonly medianSlopePerSecond: number;
  /** Whether the load is rising beyond its noise: the lower end is above zero. */
  readonly rising: boolean;
  readonly points: number;
}

/** Standard normal quantile for a one-sided 99.5 % bound. */
const Z = 2.5758293035489004;

/** The fewest readings for which an all-rising series is significant at 99.5 % (Mann–Kendall: six rising readings by chance, p = 1/720; five, 1/120). */
export const MIN_TREND_POINTS = 6;

/** The window that decides whether the load rises. */
export const TREND_WINDOW_MS = 60_000;

/** Every pairwise slope of the readings (per second), ascending. */
function pairwiseSlopes(points: readonly LoadPoint[]): number[] {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const dt = (points[j].at - points[i].at) / 1000;
      if (dt > 0) slopes.push((points[j].total - points[i].total) / dt);
    }
  }
  return slopes.sort((a, b) => a - b);
}

function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return 0;
  return n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/** Sen's slope and its lower confidence bound over the readings (in time order). */
export function loadTrend(points: readonly LoadPoint[]): LoadTrend {
  const n = points.length;
  const slopes = pairwiseSlopes(points);
  const pairs = slopes.length;
  const c = Z * Math.sqrt((n * (n - 1) * (2 * n + 5)) / 18);
  // The M1-th smallest slope (1-based), M1 = (N − C) / 2: the lower limit of the interval,
  // which does not exist (no trend can be significant) while N ≤ C.
  const lower = pairs > c ? slopes[Math.max(0, Math.ceil((pairs - c) / 2) - 1)] : -Infinity;
  return { slopePerSecond: lower, medianSlopePerSecond: median(slopes), rising: lower > 0, points: n };
}

/**
 * The load `lookAheadSeconds` after the newest reading, when the last minute's trend rises;
 * otherwise undefined (the policy then asks for what the load needs now, as target tracking does).
 * `points` may reach further back: the longer window's bound is used when it is higher.
 */
export function projectLoad(points: readonly LoadPoint[], lookAheadSeconds: number): { projected: number; trend: LoadTrend } | undefined {
  if (points.length === 0) return undefined;
  const newest = points[points.length - 1].at;
  const recent = points.filter(p => p.at > newest - TREND_WINDOW_MS);
  const short = loadTrend(recent);
  if (!short.rising) return undefined;
  const long = recent.length < points.length ? loadTrend(points) : short;
  const trend = long.slopePerSecond > short.slopePerSecond ? { ...short, slopePerSecond: long.slopePerSecond } : short;
  const target = newest / 1000 + lookAheadSeconds;
  let projected = 0;
  for (const p of recent) projected = Math.max(projected, p.total + trend.slopePerSecond * (target - p.at / 1000));
  return { projected, trend };
}

/**
 * The recent totals, kept by the warm Lambda instance (as RequestCounters are), not in the
 * state item: the trend needs every tick's total, and writing one into the item each tick
 * would turn a mostly-read item into one written every 3 s (the item is written only when
 * something worth remembering changes), and make every tick's write race the lease's
 * conditional write. What losing it costs is small and safe: a new instance sees no trend
 * for its first six ticks and asks for what plain target tracking asks for. Overlapping runs
 * on one instance add their readings to the same history: each is a reading of the same
 * service's load.
 */
export class LoadHistory {
  private points: LoadPoint[] = [];

  /**
   * @param windowMs how far back the trend looks (the last minute decides whether the load
   *   rises; three minutes sharpen the slope of a ramp that lasts)
   * @param maxPoints the most readings kept: bounds the memory and the O(n²) pairs (60
   *   readings, 1,770 pairs, well under a millisecond)
   */
  constructor(public readonly windowMs = 180_000, public readonly maxPoints = 60) {}

  /**
   * Adds a complete tick's total. A reading older than the newest (a clock that stepped back, or
   * a peer run's tick that finished late) is dropped: the readings stay in time order.
   */
  public record(at: number, total: number): void {
    const newest = this.points[this.points.length - 1];
    if (!Number.isFinite(total) || total < 0) return;
    if (newest && at <= newest.at) return;
    this.points.push({ at, total });
    const oldest = at - this.windowMs;
    this.points = this.points.filter(p => p.at > oldest).slice(-this.maxPoints);
  }

  /** The readings of the window, oldest first; none when the newest is not from `now` (a tick without a complete reading). */
  public recent(now: number): readonly LoadPoint[] {
    const newest = this.points[this.points.length - 1];
    if (!newest || newest.at !== now) return [];
    return this.points.filter(p => p.at > now - this.windowMs);
  }

  public get size(): number {
    return this.points.length;
  }
}

/**
 * How long a scale-out now waits for its tasks: the median of the newest five tasks' times from
 * created to RUNNING (one slow image pull does not move it), never longer than the configured
 * delay (a bound: a task stuck for minutes must not make the policy look minutes ahead), and
 * the configured delay until the controller has seen a task start.
 */
export function learnedStartDelaySeconds(startDelaysMs: readonly number[], configuredSeconds: number): number {
  const newest = startDelaysMs.filter(d => Number.isFinite(d) && d >= 0).slice(0, 5).sort((a, b) => a - b);
  if (newest.length === 0) return configuredSeconds;
  return Math.min(configuredSeconds, median(newest) / 1000);
}
