/**
 * The recommendations of the recent past, in time buckets, for the scale-in window: the
 * service may shrink only to the highest recommendation of the whole window. Buckets
 * keep the stored item small whatever the interval (about 30 entries), and let most
 * ticks leave it unchanged, so that they need no write.
 */

/** [bucket start, epoch seconds; highest recommendation in the bucket]. */
export type Bucket = readonly [number, number];

/** At most about 30 buckets a window: small enough that the item changes only every few ticks. */
export function bucketSeconds(intervalSeconds: number, windowSeconds: number): number {
  return Math.max(intervalSeconds, Math.ceil(windowSeconds / 30));
}

/**
 * The history's own clock: never earlier than its newest bucket. A wall clock that steps
 * back (NTP, or another Lambda instance whose clock is behind) must not make the newest
 * buckets look like the future and drop them: that would forget a spike and unlock a
 * scale-in seconds later. Time that went backwards simply counts into the newest bucket.
 */
export function historyNow(history: readonly Bucket[], nowSeconds: number): number {
  const newest = history[history.length - 1];
  return newest ? Math.max(nowSeconds, newest[0]) : nowSeconds;
}

/** Adds a recommendation at `nowSeconds` and forgets what fell out of the window. */
export function recordRecommendation(
  history: readonly Bucket[], nowSeconds: number, recommendation: number, intervalSeconds: number, windowSeconds: number,
): Bucket[] {
  const size = bucketSeconds(intervalSeconds, windowSeconds);
  const now = historyNow(history, nowSeconds);
  const start = Math.floor(now / size) * size;
  const kept = history.filter(([t]) => t + size > now - windowSeconds);
  const last = kept[kept.length - 1];
  if (last && last[0] === start) {
    kept[kept.length - 1] = [start, Math.max(last[1], recommendation)];
  } else {
    kept.push([start, recommendation]);
  }
  return kept;
}

export interface WindowView {
  /** True when the history reaches back a whole window. */
  readonly complete: boolean;
  /** The highest recommendation in the window. */
  readonly max: number;
}

/**
 * The window as the history shows it. A window with a hole (the controller was down, or
 * its ticks failed) is incomplete: what the load was in the hole is unknown.
 */
export function windowView(
  history: readonly Bucket[], nowSeconds: number, intervalSeconds: number, windowSeconds: number,
): WindowView {
  if (history.length === 0) return { complete: false, max: Infinity };
  const size = bucketSeconds(intervalSeconds, windowSeconds);
  const now = historyNow(history, nowSeconds);
  const maxGap = 3 * size;
  const noHoles = history.every(([t], i) => i === 0 || t - history[i - 1][0] <= maxGap)
    && now - history[history.length - 1][0] <= maxGap;
  return {
    complete: noHoles && history[0][0] <= now - windowSeconds,
    max: Math.max(...history.map(([, r]) => r)),
  };
}
