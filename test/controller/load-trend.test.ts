import * as fc from 'fast-check';
import { learnedStartDelaySeconds, LoadHistory, LoadPoint, loadTrend, MIN_TREND_POINTS, projectLoad } from '../../src/controller/load-trend';

const T0 = Date.parse('2026-11-29T08:00:00Z');
/** Readings every 3 s, the newest last. */
const series = (totals: readonly number[]): LoadPoint[] => totals.map((total, i) => ({ at: T0 + i * 3000, total }));

/** Any window of up to 40 readings, 0 to 10,000 each. */
const totalsArb = fc.array(fc.double({ min: 0, max: 10_000, noNaN: true }), { minLength: 0, maxLength: 40 });

describe('loadTrend', () => {
  test('a clean ramp rises at its slope', () => {
    const t = loadTrend(series(Array.from({ length: 20 }, (_, i) => 100 + 15 * i)));
    expect(t.rising).toBe(true);
    expect(t.slopePerSecond).toBeCloseTo(5);
    expect(t.medianSlopePerSecond).toBeCloseTo(5);
  });

  test('fewer than six readings are never a trend: five rising ones may be chance (Mann–Kendall p = 1/120)', () => {
    expect(MIN_TREND_POINTS).toBe(6);
    expect(loadTrend(series([10, 20, 30, 40, 50])).rising).toBe(false);
    expect(loadTrend(series([10, 20, 30, 40, 50])).slopePerSecond).toBe(-Infinity);
    expect(loadTrend(series([10, 20, 30, 40, 50, 60])).rising).toBe(true);
    expect(loadTrend(series([10, 20, 30, 40, 60, 50])).rising).toBe(false);
  });

  test('a noisy ramp: the slope followed is the lower end of its interval, below the median', () => {
    // 1.5/s plus ±40 of noise (a fixed pattern), 20 readings: the slope is clear, and uncertain.
    const noise = [31, -12, 40, -38, 5, 22, -27, 13, -40, 36, -5, 18, -33, 27, -20, 9, 38, -16, 0, -29];
    const t = loadTrend(series(noise.map((e, i) => 600 + 4.5 * i + e)));
    expect(t.rising).toBe(true);
    expect(t.slopePerSecond).toBeGreaterThan(0);
    expect(t.slopePerSecond).toBeLessThan(t.medianSlopePerSecond);
  });

  test('a step to a new level is not a ramp: the projection is the new level', () => {
    // 80, then 1,200 for the newest ten readings: half the pairs straddle the jump and are steep.
    const points = series([...Array(10).fill(80), ...Array(10).fill(1200)]);
    expect(loadTrend(points).medianSlopePerSecond).toBeGreaterThan(0);
    expect(projectLoad(points, 48)).toBeUndefined();
  });

  test('property: a step (flat, then flat at another level) never projects above its new level', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 }),
      fc.double({ min: 0, max: 5000, noNaN: true }), fc.double({ min: 0, max: 5000, noNaN: true }),
      fc.double({ min: 1, max: 600, noNaN: true }),
      (before, after, from, to, ahead) => {
        const p = projectLoad(series([...Array(before).fill(from), ...Array(after).fill(to)]), ahead);
        expect(p).toBeUndefined();
      },
    ));
  });

  test('property: noise symmetric in time (a palindrome) is never a rising trend', () => {
    fc.assert(fc.property(
      fc.double({ min: 0, max: 5000, noNaN: true }),
      fc.array(fc.double({ min: -500, max: 500, noNaN: true }), { minLength: 1, maxLength: 20 }),
      fc.boolean(),
      (level, half, odd) => {
        const noise = [...half, ...(odd ? half.slice(0, -1) : half).reverse()];
        const trend = loadTrend(series(noise.map(e => Math.max(0, level + e))));
        expect(trend.rising).toBe(false);
      },
    ));
  });

  test('property: a higher newest reading never lowers the projection, nor turns a rise off', () => {
    const raiseArb = fc.double({ min: 0, max: 5000, noNaN: true });
    fc.assert(fc.property(totalsArb, raiseArb, fc.double({ min: 0, max: 300, noNaN: true }), (totals, raise, ahead) => {
      fc.pre(totals.length > 0);
      const raised = [...totals.slice(0, -1), totals[totals.length - 1] + raise];
      const before = projectLoad(series(totals), ahead)?.projected ?? -Infinity;
      const after = projectLoad(series(raised), ahead)?.projected ?? -Infinity;
      expect(after).toBeGreaterThanOrEqual(before);
    }));
  });

  test('property: the same shape at a higher level projects exactly that much higher', () => {
    // Whole readings (connections; rates to a thousandth): a shift of a denormal is lost in rounding.
    const wholeArb = fc.array(fc.integer({ min: 0, max: 10_000_000 }).map(x => x / 1000), { maxLength: 40 });
    fc.assert(fc.property(wholeArb, fc.integer({ min: 0, max: 5000 }), (totals, shift) => {
      const a = projectLoad(series(totals), 48);
      const b = projectLoad(series(totals.map(x => x + shift)), 48);
      expect(b === undefined).toBe(a === undefined);
      if (a && b) expect(b.projected).toBeCloseTo(a.projected + shift, 6);
    }));
  });

  test('property: a rising projection is at least the newest reading, and follows a non-negative slope', () => {
    fc.assert(fc.property(totalsArb, fc.double({ min: 0, max: 300, noNaN: true }), (totals, ahead) => {
      const p = projectLoad(series(totals), ahead);
      if (!p) return;
      expect(p.trend.slopePerSecond).toBeGreaterThan(0);
      expect(p.projected).toBeGreaterThanOrEqual(totals[totals.length - 1]);
    }));
  });

  test('projects a clean ramp to where it will be', () => {
    const p = projectLoad(series(Array.from({ length: 10 }, (_, i) => 100 + 15 * i)), 48);
    // Newest 235 at 5/s, 48 s ahead.
    expect(p?.projected).toBeCloseTo(235 + 5 * 48);
  });

  test('only the last minute decides whether the load rises; a longer ramp sharpens the slope', () => {
    // Three minutes of 1.5/s under ±40 of noise (a fixed pattern): 60 readings.
    const noise = [31, -12, 40, -38, 5, 22, -27, 13, -40, 36, -5, 18, -33, 27, -20, 9, 38, -16, 0, -29];
    const ramp = series(Array.from({ length: 60 }, (_, i) => 600 + 4.5 * i + noise[i % 20]));
    const lastMinute = ramp.slice(-20);
    const short = projectLoad(lastMinute, 48);
    const long = projectLoad(ramp, 48);
    expect(short && long).toBeTruthy();
    expect(long!.trend.slopePerSecond).toBeGreaterThan(short!.trend.slopePerSecond);
    expect(long!.trend.slopePerSecond).toBeLessThanOrEqual(1.5);
    expect(long!.projected).toBeGreaterThan(short!.projected);
    // Flat for the last minute after two minutes of ramp: no trend, whatever came before.
    const flattened = series([...ramp.slice(0, 40).map(p => p.total), ...Array(20).fill(800)]);
    expect(projectLoad(flattened, 48)).toBeUndefined();
  });
});

describe('LoadHistory', () => {
  test('keeps the last minute, at most maxPoints readings, in time order', () => {
    expect(new LoadHistory()).toMatchObject({ windowMs: 180_000, maxPoints: 60 });
    const h = new LoadHistory(60_000, 5);
    for (let i = 0; i < 10; i++) h.record(T0 + i * 3000, i);
    expect(h.size).toBe(5);
    expect(h.recent(T0 + 27_000).map(p => p.total)).toEqual([5, 6, 7, 8, 9]);
    const w = new LoadHistory(10_000, 40);
    for (let i = 0; i < 10; i++) w.record(T0 + i * 3000, i);
    expect(w.recent(T0 + 27_000).map(p => p.total)).toEqual([6, 7, 8, 9]);
  });

  test('drops a reading older than the newest, and gives no window when the newest is not this tick', () => {
    const h = new LoadHistory();
    h.record(T0 + 6000, 10);
    h.record(T0 + 3000, 99);
    h.record(T0 + 6000, 98);
    expect(h.size).toBe(1);
    expect(h.recent(T0 + 9000)).toEqual([]);
    expect(h.recent(T0 + 6000)).toEqual([{ at: T0 + 6000, total: 10 }]);
  });

  test('ignores a reading that is not a number', () => {
    const h = new LoadHistory();
    h.record(T0, NaN);
    h.record(T0 + 1, -1);
    expect(h.size).toBe(0);
  });
});

describe('learnedStartDelaySeconds', () => {
  test('the configured delay until a task was seen starting', () => {
    expect(learnedStartDelaySeconds([], 60)).toBe(60);
  });

  test('the median of the newest five: one slow start does not move it', () => {
    expect(learnedStartDelaySeconds([40_000, 200_000, 42_000, 38_000, 41_000, 1_000], 300)).toBe(41);
  });

  test('never more than the configured delay', () => {
    expect(learnedStartDelaySeconds([500_000, 500_000], 90)).toBe(90);
  });
});
