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
 *   bought a needless task in about half of the replays. At 99.5 % a noisy plateau still
 *   passes for a weak trend in some tick of most half-hour replays, which is why a weak trend
 *   asks for little (below). The price: six readings (15 s
 *   at 3 s ticks) before a ramp can count at all.
 * - Noise that persists from tick to tick (connections that last many ticks: AR(1) with φ 0.9
 *   a tick) drifts in runs that Mann–Kendall, which assumes independent readings, takes for
 *   ramps: every one of 30 such half-hour plateaus bought tasks target tracking did not. The
 *   variance is widened by Hamed & Rao's factor for the lag-1 autocorrelation of the readings'
 *   trend-free residuals (Yue & Wang), read from the three-minute window less its newest
 *   reading (more readings than a minute's; and without the newest, a higher newest reading
 *   still only raises the bound), the residuals clipped first so that one wild reading does
 *   not hide it. The price: a curved ramp's residuals are autocorrelated too,
 *   so it is seen later (bench/RESULTS.md's daily trace).
 * - Where the load will be: the line through the last minute (through the median of its
 *   readings carried along the slope to the newest one's time) carried one look-ahead forward.
 * - Which slope, and how much room: a trend sure at 99.99 % too (a ramp well above its noise)
 *   is followed at Sen's slope itself, its best estimate, and gets room for the noise on top
 *   (an upper prediction bound: a ramp's noise peaks above its line are what leave a service
 *   short). A trend only just significant at 99.5 % is followed at the lower end of its
 *   interval and gets no room: it is what a noisy plateau gives now and then, near the
 *   threshold its lower end is near zero, and so it asks for little beyond what target
 *   tracking's window already holds. With Sen's slope and the room for weak trends too,
 *   30-seed plateaus at 650, 750, 800, 900 and 1,000 connections scaled out more often than
 *   target tracking in 14 to 19 seeds of 30 (test/controller/scaling-decision.test.ts runs
 *   four levels); this way in none.
 * - The room: the 95th percentile of the residuals of the last three minutes about their own
 *   Sen line, capped at three robust noise scales (1.4826 × the median absolute deviation).
 *   The percentile reaches the true top of bounded noise and no further (2 × the robust scale
 *   would reach +30 % above ±20 % uniform noise); the cap keeps a burst (three readings in
 *   three minutes, one at a 10 s interval) from setting it, which would add the burst's height
 *   to the next ramp's projection. A curved ramp leaves larger residuals about a straight line,
 *   so it gets more room, which its curvature needs.
 * - Persisting noise (AR(1), ρ a tick) is partly still there when the tasks are ready: the bound
 *   carries ρ^h of the newest reading's excess over the line h ticks ahead, and the noise's
 *   room by then shrinks by √(1 − ρ^2h) (as the AR(1) forecast's error does).
 * - A step (a load that jumped and stays) is seldom significant at all: its residuals about any
 *   line are autocorrelated, and the widened variance absorbs them; a test checks that it never
 *   projects above its new level.
 * - Monotonic in the load: the noise's room and ρ are read from every reading but the newest;
 *   both significance tests, the slope, the line, and the newest reading's share only grow with
 *   the newest reading. So a higher reading never asks for fewer tasks.
 * - The window is a minute, or seven intervals when longer (a tick every 10 s or more), so
 *   that the six readings a trend needs fit in it at any interval.
 * - Mann–Kendall's variance is the one without ties: ties only make the true variance smaller,
 *   so this errs toward "no trend".
 */

/** One tick's total load: what all the service's tasks carried, read completely. */
export interface LoadPoint {
  /** Epoch ms. */
  readonly at: number;
  readonly total: number;
}

export interface LoadTrend {
  /**
   * The lower end of Sen's slope's one-sided 99.5 % confidence interval, per second; -Infinity
   * with too few readings. In a projection: the slope it follows (Sen's slope for a trend
   * sure at 99.99 %, this lower end otherwise).
   */
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

/** The shortest window that decides whether the load rises. */
export const TREND_WINDOW_MS = 60_000;

/** The longer window that gives the noise's room and autocorrelation: three short ones. */
export const LONG_TREND_WINDOW_MS = 3 * TREND_WINDOW_MS;

/** Standard normal quantile for a one-sided 99.99 % bound: a trend this sure is followed at Sen's slope itself. */
const Z_STRONG = 3.719016485455709;

/** The share of the noise's residuals the projection stays above. */
export const NOISE_REACH_QUANTILE = 0.95;

/** Robust noise scales beyond which a residual is a wild reading: it caps the reach and is clipped for ρ. */
export const CLIP_SCALES = 3;

/** The median absolute deviation's factor that makes it a normal distribution's standard deviation. */
const MAD_TO_SD = 1.4826;

/** The mean absolute deviation's factor that makes it a normal distribution's standard deviation: √(π/2). */
const MEAN_AD_TO_SD = Math.sqrt(Math.PI / 2);

/**
 * The window that decides whether the load rises, at readings `gapMs` apart: a minute, or
 * longer when a minute holds fewer than MIN_TREND_POINTS + 1 readings (a tick every 10 s or
 * more), so that a slower interval still sees a trend.
 */
export function trendWindowMs(gapMs: number): number {
  return Math.max(TREND_WINDOW_MS, (MIN_TREND_POINTS + 1) * (Number.isFinite(gapMs) && gapMs > 0 ? gapMs : 0));
}

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

/**
 * The lag-1 autocorrelation of the readings once their Sen slope is taken out (Yue & Wang's
 * trend-free residuals), when positive and significant at 95 % (|r| > 1.96/√n, as Hamed &
 * Rao 1998 keep only significant lags); 0 otherwise. The residuals are first clipped to three
 * robust noise scales about their median: one wild reading would otherwise dominate the sums
 * and read as no autocorrelation at all, and persistent noise would then pass for a ramp.
 * Residuals that are rounding noise (a clean ramp of fractional slope) are no autocorrelation.
 */
export function residualAutocorrelation(points: readonly LoadPoint[]): number {
  const n = points.length;
  if (n < MIN_TREND_POINTS) return 0;
  const raw = trendFreeResiduals(points);
  const magnitude = Math.max(1, ...points.map(p => Math.abs(p.total)));
  const centre = median([...raw].sort((a, b) => a - b));
  if (!(Math.max(...raw.map(x => Math.abs(x - centre))) > 1e-9 * magnitude)) return 0;
  // (Noise-free readings off a line, such as a ramp that bends, may still have a zero robust
  // scale: then nothing is clipped.)
  const limit = CLIP_SCALES * robustScale(raw, centre);
  const r = limit > 0 ? raw.map(x => Math.min(centre + limit, Math.max(centre - limit, x))) : raw;
  const mean = r.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    den += (r[i] - mean) ** 2;
    if (i > 0) num += (r[i] - mean) * (r[i - 1] - mean);
  }
  const rho = den > 0 ? num / den : 0;
  return rho > 1.96 / Math.sqrt(n) ? Math.min(rho, 0.99) : 0;
}

/**
 * Hamed & Rao's (1998) factor n/n* by which autocorrelation inflates Mann–Kendall's variance,
 * for an AR(1) correlation `rho` at every lag k (rho^k).
 */
export function varianceInflation(n: number, rho: number): number {
  if (!(rho > 0) || n < 3) return 1;
  let sum = 0;
  for (let k = 1; k < n; k++) sum += (n - k) * (n - k - 1) * (n - k - 2) * rho ** k;
  return 1 + (2 * sum) / (n * (n - 1) * (n - 2));
}

/**
 * Sen's slope and its lower confidence bound over the readings (in time order).
 * @param rho the readings' noise autocorrelation (residualAutocorrelation): a load whose noise
 *   persists from tick to tick (connections that last many ticks) drifts in runs that look
 *   like trends; its variance is widened accordingly. @default 0 (independent noise)
 */
export function loadTrend(points: readonly LoadPoint[], rho = 0, z = Z): LoadTrend {
  return trendOf(pairwiseSlopes(points), points.length, rho, z);
}

/** loadTrend from the readings' pairwise slopes, sorted (one sort serves both of a tick's tests). */
function trendOf(slopes: readonly number[], n: number, rho: number, z: number): LoadTrend {
  const pairs = slopes.length;
  const c = z * Math.sqrt(((n * (n - 1) * (2 * n + 5)) / 18) * varianceInflation(n, rho));
  // The M1-th smallest slope (1-based), M1 = (N − C) / 2: the lower limit of the interval,
  // which does not exist (no trend can be significant) while N ≤ C.
  const lower = pairs > c ? slopes[Math.max(0, Math.ceil((pairs - c) / 2) - 1)] : -Infinity;
  return { slopePerSecond: lower, medianSlopePerSecond: median(slopes), rising: lower > 0, points: n };
}

/** The readings less their own Sen line (through the first reading's time), in time order. */
function trendFreeResiduals(points: readonly LoadPoint[]): number[] {
  const slope = median(pairwiseSlopes(points));
  return points.map(p => p.total - slope * ((p.at - points[0].at) / 1000));
}

/**
 * 1.4826 × the median absolute deviation about `centre`: a standard deviation for normal
 * noise. When more than half the values tie (whole readings on a quiet plateau) that is 0, and
 * √(π/2) × the mean absolute deviation stands in for it.
 */
function robustScale(values: readonly number[], centre: number): number {
  const deviations = values.map(v => Math.abs(v - centre));
  const mad = median([...deviations].sort((a, b) => a - b));
  return mad > 0 ? MAD_TO_SD * mad : MEAN_AD_TO_SD * (deviations.reduce((a, b) => a + b, 0) / Math.max(1, deviations.length));
}

/**
 * How far the readings' noise reaches above their own Sen line: the 95th percentile of the
 * residuals (about their median), at most three robust noise scales. Empirical, not a multiple
 * of a scale: it reaches the true top of bounded noise (±20 % uniform: +19 %, where 2 × the
 * MAD-based scale would reach +30 %). Capped, because three readings of a burst in three
 * minutes (one at a 10 s interval) would otherwise set it, and the next trend would add the
 * burst's height to its projection.
 */
export function noiseReach(points: readonly LoadPoint[]): number {
  if (points.length < 3) return 0;
  const residuals = trendFreeResiduals(points).sort((a, b) => a - b);
  const centre = median(residuals);
  const percentile = residuals[Math.min(residuals.length - 1, Math.floor(NOISE_REACH_QUANTILE * residuals.length))] - centre;
  return Math.max(0, Math.min(percentile, CLIP_SCALES * robustScale(residuals, centre)));
}

/**
 * How high the load may be `lookAheadSeconds` after the newest reading, when the recent trend
 * rises (an upper prediction bound, see the top of this file); otherwise undefined (the policy
 * then asks for what the load needs now, as target tracking does). `points` may reach further
 * back (LONG_TREND_WINDOW_MS): they give the noise's room (noiseReach) and autocorrelation.
 */
export function projectLoad(points: readonly LoadPoint[], lookAheadSeconds: number): { projected: number; trend: LoadTrend } | undefined {
  const n = points.length;
  if (n === 0) return undefined;
  const newest = points[n - 1];
  const ahead = Number.isFinite(lookAheadSeconds) && lookAheadSeconds > 0 ? lookAheadSeconds : 0;
  const gap = median(points.slice(1).map((p, i) => p.at - points[i].at).sort((a, b) => a - b));
  const recent = points.filter(p => p.at > newest.at - trendWindowMs(gap));
  // The noise is read from every reading but the newest, so that a higher newest reading can
  // only raise the bound (the policy stays monotonic in the load).
  const earlier = points.slice(0, -1);
  const rho = residualAutocorrelation(earlier);
  const slopes = pairwiseSlopes(recent);
  const trend = trendOf(slopes, recent.length, rho, Z);
  if (!trend.rising) return undefined;
  const strong = trendOf(slopes, recent.length, rho, Z_STRONG).rising;
  const slope = strong ? trend.medianSlopePerSecond : trend.slopePerSecond;
  // The line's level now. Not floored by the newest readings: they already hold the noise
  // peaks that the room adds.
  const line = median(recent.map(p => p.total + slope * ((newest.at - p.at) / 1000)).sort((a, b) => a - b));
  // What of the newest reading's excess over the line persists until the tasks are ready.
  const persists = rho > 0 && gap > 0 ? rho ** (ahead / (gap / 1000)) : 0;
  // Only a sure trend adds the noise's room: a weak one, which a noisy plateau gives now and
  // then, must not ask beyond what target tracking keeps in its window anyway.
  const reach = strong ? noiseReach(earlier) * Math.sqrt(1 - persists ** 2) : 0;
  const projected = (1 - persists) * line + persists * newest.total + slope * ahead + reach;
  return { projected, trend: { ...trend, slopePerSecond: slope } };
}

/** projectLoad as the decision takes it (scaling-decision's LoadProjection): undefined when the load is not rising. */
export function loadProjectionOf(
  points: readonly LoadPoint[], lookAheadSeconds: number,
): { total: number; lookAheadSeconds: number; slopePerSecond: number } | undefined {
  const p = projectLoad(points, lookAheadSeconds);
  return p && { total: p.projected, lookAheadSeconds, slopePerSecond: p.trend.slopePerSecond };
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
   *   rises; three minutes give the noise's room and autocorrelation)
   * @param maxPoints the most readings kept: bounds the memory and the O(n²) pairs (180
   *   readings, three minutes at a 1 s interval: 16,110 pairs, a few milliseconds). At
   *   intervals of 9 s or more the window stretches as trendWindowMs does.
   */
  constructor(public readonly windowMs = LONG_TREND_WINDOW_MS, public readonly maxPoints = 180) {}

  /**
   * Adds a complete tick's total. A reading older than the newest (a clock that stepped back, or
   * a peer run's tick that finished late) is dropped: the readings stay in time order.
   */
  public record(at: number, total: number): void {
    const newest = this.points[this.points.length - 1];
    if (!Number.isFinite(total) || total < 0) return;
    if (newest && at <= newest.at) return;
    this.points.push({ at, total });
    const oldest = at - this.span(newest ? at - newest.at : 0);
    this.points = this.points.filter(p => p.at > oldest).slice(-this.maxPoints);
  }

  /** The readings of the window, oldest first; none when the newest is not from `now` (a tick without a complete reading). */
  public recent(now: number): readonly LoadPoint[] {
    const newest = this.points[this.points.length - 1];
    if (!newest || newest.at !== now) return [];
    const previous = this.points[this.points.length - 2];
    return this.points.filter(p => p.at > now - this.span(previous ? now - previous.at : 0));
  }

  /** The window at readings `gapMs` apart: windowMs, stretched as the trend's window is for a slow interval. */
  private span(gapMs: number): number {
    return (this.windowMs * trendWindowMs(gapMs)) / TREND_WINDOW_MS;
  }

  public get size(): number {
    return this.points.length;
  }
}

/** How many of the newest tasks' delays the look-ahead is the median of. */
export const LEARNED_FROM_NEWEST = 5;

/**
 * How long a scale-out now waits for its tasks: the median of the newest five tasks' measured
 * delays (created to carrying load, or created to RUNNING; one slow start does not move it),
 * never longer than the configured delay (a bound: a task stuck for minutes must not make the
 * policy look minutes ahead), and the configured delay until the controller has seen a task start.
 */
export function learnedStartDelaySeconds(startDelaysMs: readonly number[], configuredSeconds: number): number {
  const newest = startDelaysMs.filter(d => Number.isFinite(d) && d >= 0).slice(0, LEARNED_FROM_NEWEST).sort((a, b) => a - b);
  if (newest.length === 0) return configuredSeconds;
  return Math.min(configuredSeconds, median(newest) / 1000);
}
