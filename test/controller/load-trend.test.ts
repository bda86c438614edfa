import * as fc from 'fast-check';
import {
  learnedStartDelaySeconds, LoadHistory, LoadPoint, loadTrend, MIN_TREND_POINTS, noiseReach, projectLoad,
  residualAutocorrelation, trendWindowMs, varianceInflation,
} from '../../src/controller/decide/load-trend';
import { ansiCUniform, ar1, numericalRecipesGaussian as gaussian, stationaryInnovation } from '../support/seeded-noise';

const T0 = Date.parse('2026-11-29T08:00:00Z');
/** Readings every 3 s, the newest last. */
const series = (totals: readonly number[]): LoadPoint[] => totals.map((total, i) => ({ at: T0 + i * 3000, total }));

/** Any window of up to 40 readings, 0 to 10,000 each. */
const anyTotalsArb = fc.array(fc.double({ min: 0, max: 10_000, noNaN: true }), { minLength: 0, maxLength: 40 });

/**
 * Ramps under noise (independent, or AR(1) that persists from tick to tick), whole readings:
 * random arrays seldom rise beyond their noise, and a property over them seldom reaches the
 * projection.
 */
const noisyRampArb = fc.record({
  n: fc.integer({ min: 6, max: 60 }),
  level: fc.integer({ min: 0, max: 5000 }),
  perTick: fc.integer({ min: 0, max: 100 }),
  noise: fc.integer({ min: 0, max: 100 }),
  phi: fc.constantFrom(0, 0.5, 0.9),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
}).map(({ n, level, perTick, noise, phi, seed }) => {
  const e = ar1(phi, stationaryInnovation(phi, 1), gaussian(seed));
  return Array.from({ length: n }, (_, i) => Math.max(0, Math.round(level + perTick * i + noise * e())));
});

/** Either: every property below runs on both. */
const totalsArb = fc.oneof(anyTotalsArb, noisyRampArb);

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
    let projected = 0;
    let cases = 0;
    fc.assert(fc.property(totalsArb, raiseArb, fc.double({ min: 0, max: 300, noNaN: true }), (totals, raise, ahead) => {
      fc.pre(totals.length > 0);
      const raised = [...totals.slice(0, -1), totals[totals.length - 1] + raise];
      const before = projectLoad(series(totals), ahead)?.projected ?? -Infinity;
      const after = projectLoad(series(raised), ahead)?.projected ?? -Infinity;
      cases++;
      if (before > -Infinity) projected++;
      expect(after).toBeGreaterThanOrEqual(before);
    }), { numRuns: 300 });
    // The property reaches the projection, not only "no trend" on both sides.
    expect(projected / cases).toBeGreaterThan(0.2);
  });

  test('property: with irregular gaps too (a run handover: 0.3 s to 10 s), a higher newest reading never lowers the projection', () => {
    const gapsArb = fc.array(fc.constantFrom(300, 2700, 3000, 3000, 3000, 6000, 10_000), { minLength: 60, maxLength: 60 });
    fc.assert(fc.property(totalsArb, gapsArb, fc.double({ min: 0, max: 2000, noNaN: true }), (totals, gaps, raise) => {
      fc.pre(totals.length > 0);
      let at = T0;
      const pts = totals.map((total, i) => ({ at: (at += gaps[i]), total }));
      const raised = [...pts.slice(0, -1), { ...pts[pts.length - 1], total: pts[pts.length - 1].total + raise }];
      const before = projectLoad(pts, 48)?.projected ?? -Infinity;
      const after = projectLoad(raised, 48)?.projected ?? -Infinity;
      expect(after).toBeGreaterThanOrEqual(before);
    }), { numRuns: 300 });
  });

  test('property: the same shape at a higher level projects exactly that much higher', () => {
    // Whole readings (connections; rates to a thousandth): a shift of a denormal is lost in rounding.
    const wholeArb = fc.oneof(fc.array(fc.integer({ min: 0, max: 10_000_000 }).map(x => x / 1000), { maxLength: 40 }), noisyRampArb);
    fc.assert(fc.property(wholeArb, fc.integer({ min: 0, max: 5000 }), (totals, shift) => {
      const a = projectLoad(series(totals), 48);
      const b = projectLoad(series(totals.map(x => x + shift)), 48);
      expect(b === undefined).toBe(a === undefined);
      if (a && b) expect(b.projected).toBeCloseTo(a.projected + shift, 6);
    }));
  });

  test('property: a rising projection follows a positive slope from at least the last minute\'s median (or the newest reading, when lower)', () => {
    // Not the newest reading: the level is a line through the last minute (a noise peak does
    // not set it); the decision still never asks for less than the newest reading needs.
    fc.assert(fc.property(totalsArb, fc.double({ min: 0, max: 300, noNaN: true }), (totals, ahead) => {
      const p = projectLoad(series(totals), ahead);
      if (!p) return;
      const lastMinute = totals.slice(-20).sort((a, b) => a - b);
      const half = lastMinute.length / 2;
      const mid = lastMinute.length % 2 ? lastMinute[half - 0.5] : (lastMinute[half - 1] + lastMinute[half]) / 2;
      expect(p.trend.slopePerSecond).toBeGreaterThan(0);
      expect(p.projected).toBeGreaterThanOrEqual(Math.min(mid, totals[totals.length - 1]) - 1e-6);
    }));
  });

  test('a ramp that slows down: the projection follows the last minute, not the steep minutes before it', () => {
    // Three minutes at 5/s, then 0.5/s, under a little noise: 30 s into the slower part.
    const noise = [3, -5, 1, 4, -2, -4, 5, 0, -3, 2, 4, -1, -5, 3, 0, -2, 5, -4, 1, -3];
    const f = (s: number) => (s < 180 ? 100 + 5 * s : 1000 + 0.5 * (s - 180));
    const points = series(Array.from({ length: 71 }, (_, i) => f(3 * i) + noise[i % 20])); // to 210 s, newest 1,019
    const p = projectLoad(points, 48)!;
    expect(p.trend.slopePerSecond).toBeLessThan(loadTrend(points).medianSlopePerSecond);
    // Carried at the three minutes' 5/s from the newest reading, it would be 1,259: 13 tasks
    // of 100 where the next 48 s need 11. The last minute, half of it still steep, projects
    // about 1,040: 11.
    expect(p.projected).toBeLessThan(1100);
    expect(p.projected).toBeGreaterThan(1019);
  });

  test('autocorrelated noise on a plateau: widened variance, and rarely a projection above what the next minute needs', () => {
    // AR(1) noise, φ = 0.9 a tick, 5 % of 1,000 (connections that last many ticks): its runs
    // look like ramps to a test that assumes independent readings.
    let fired = 0;
    let firedIndependent = 0;
    for (let run = 0; run < 20; run++) {
      const e = ar1(0.9, stationaryInnovation(0.9, 0.05), gaussian(run + 1));
      const totals = Array.from({ length: 300 }, () => 1000 * (1 + e()));
      for (let k = 20; k < totals.length; k++) {
        const pts = series(totals.slice(Math.max(0, k - 59), k + 1));
        if (projectLoad(pts, 48)) fired++;
        if (loadTrend(pts.slice(-20)).rising) firedIndependent++;
      }
    }
    expect(firedIndependent).toBeGreaterThan(3 * fired);
    expect(fired / (20 * 280)).toBeLessThan(0.01);
  });

  test('residualAutocorrelation: none in independent noise, most of φ in AR(1) noise', () => {
    const g = gaussian(7);
    const iid = series(Array.from({ length: 59 }, (_, i) => 1000 + 2 * i + 50 * g()));
    const e = ar1(0.9, 0.44, g);
    const ar = series(Array.from({ length: 59 }, (_, i) => 1000 + 2 * i + 50 * e()));
    expect(residualAutocorrelation(iid)).toBe(0);
    expect(residualAutocorrelation(ar)).toBeGreaterThan(0.5);
    expect(varianceInflation(20, 0)).toBe(1);
    expect(varianceInflation(20, 0.8)).toBeGreaterThan(3);
  });

  test('a slow interval stretches the window: six readings 30 s apart still make a trend', () => {
    expect(trendWindowMs(3000)).toBe(60_000);
    expect(trendWindowMs(30_000)).toBe(210_000);
    const slow = Array.from({ length: 8 }, (_, i) => ({ at: T0 + i * 30_000, total: 100 + 100 * i }));
    expect(projectLoad(slow, 90)?.projected).toBeCloseTo(800 + (100 / 30) * 90);
    const h = new LoadHistory();
    for (const p of slow) h.record(p.at, p.total);
    expect(h.recent(slow[7].at)).toHaveLength(8);
  });

  test('property: a ramp under noise is projected, near its line (fc.statistics: how many project)', () => {
    let projected = 0;
    let cases = 0;
    fc.assert(fc.property(
      fc.integer({ min: 20, max: 60 }), fc.double({ min: 1, max: 20, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }),
      fc.integer({ min: 1, max: 1000 }),
      (n, slope, noiseShare, seed) => {
        // Noise up to one tick's rise: a visible ramp, not a clean one.
        const amp = noiseShare * 3 * slope;
        const g = gaussian(seed);
        const totals = Array.from({ length: n }, (_, i) => 1000 + 3 * slope * i + Math.max(-amp, Math.min(amp, amp * g())));
        const p = projectLoad(series(totals), 48);
        cases++;
        if (!p) return;
        projected++;
        const line = 1000 + 3 * slope * (n - 1) + slope * 48;
        expect(p.projected).toBeLessThanOrEqual(line + amp + 0.5 * slope * 48);
        expect(p.projected).toBeGreaterThanOrEqual(totals[n - 1] - amp);
      },
    ));
    expect(projected / cases).toBeGreaterThan(0.9);
  });

  test('property: a noisy step is seldom a trend, and then projects from its new level', () => {
    let projected = 0;
    let cases = 0;
    fc.assert(fc.property(
      fc.integer({ min: 5, max: 40 }), fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 100, max: 5000 }), fc.integer({ min: 0, max: 5000 }), fc.double({ min: 0, max: 0.05, noNaN: true }),
      fc.integer({ min: 1, max: 1000 }),
      (before, after, from, rise, noise, seed) => {
        const g = gaussian(seed);
        const to = from + rise;
        const amp = noise * to;
        const totals = [...Array(before).fill(from), ...Array(after).fill(to)].map(x => x + Math.max(-amp, Math.min(amp, amp * g())));
        const p = projectLoad(series(totals), 48);
        cases++;
        if (!p) return;
        projected++;
        // From the new level within its noise, along a slope a step's flat pairs allow, over the
        // look-ahead. A step so clean that it passes for a sure ramp (a rise of 1 under 0.07 % of
        // noise) is followed at Sen's slope, which carries the minute's line above the new level
        // by up to a minute of that slope, and adds the room for the noise, which about a line
        // through a step includes the step's own misfit.
        const sure = loadTrend(series(totals), 0, 3.72).rising;
        const room = sure ? noiseReach(series(totals).slice(0, -1)) + 1.25 * Math.max(rise, 4 * amp) : 0;
        expect(p.projected).toBeLessThanOrEqual(to + amp + p.trend.slopePerSecond * 48 + room + 1e-9);
        expect(p.trend.slopePerSecond * 48).toBeLessThanOrEqual(Math.max(rise, 4 * amp));
      },
    ));
    expect(projected / cases).toBeLessThan(0.05);
  });

  test('projects a clean ramp to where it will be', () => {
    const p = projectLoad(series(Array.from({ length: 10 }, (_, i) => 100 + 15 * i)), 48);
    // Newest 235 at 5/s, 48 s ahead.
    expect(p?.projected).toBeCloseTo(235 + 5 * 48);
  });

  test('only the last minute decides whether the load rises; the minutes before give the noise\'s reach', () => {
    // The same last minute of 1.5/s after two quiet or two noisy minutes (±40, a fixed pattern).
    const noise = [31, -12, 40, -38, 5, 22, -27, 13, -40, 36, -5, 18, -33, 27, -20, 9, 38, -16, 0, -29];
    const lastMinute = Array.from({ length: 20 }, (_, i) => 870 + 4.5 * i + noise[i] / 4);
    const quiet = series([...Array.from({ length: 40 }, (_, i) => 690 + 4.5 * i), ...lastMinute]);
    const noisy = series([...Array.from({ length: 40 }, (_, i) => 690 + 4.5 * i + noise[i % 20]), ...lastMinute]);
    const a = projectLoad(quiet, 48)!;
    const b = projectLoad(noisy, 48)!;
    expect(a.trend.slopePerSecond).toBeCloseTo(b.trend.slopePerSecond);
    expect(b.projected - a.projected).toBeGreaterThan(20);
    expect(noiseReach(noisy.slice(0, -1))).toBeGreaterThan(30);
    // Flat for the last minute after two minutes of ramp: no trend, whatever came before.
    const flattened = series([...quiet.slice(0, 40).map(p => p.total), ...Array(20).fill(800)]);
    expect(projectLoad(flattened, 48)).toBeUndefined();
  });

  test('a trend sure at 99.99 % is followed at Sen\'s slope, plus the noise\'s reach; one only just significant at the lower end of its interval, without it', () => {
    // A ramp of 3/s under a little noise: sure. The projection's slope is the median pairwise slope.
    const noise = [3, -5, 1, 4, -2, -4, 5, 0, -3, 2, 4, -1, -5, 3, 0, -2, 5, -4, 1, -3];
    const clean = series(Array.from({ length: 20 }, (_, i) => 500 + 9 * i + noise[i]));
    const sure = projectLoad(clean, 48)!;
    expect(sure.trend.slopePerSecond).toBeCloseTo(loadTrend(clean).medianSlopePerSecond);
    expect(loadTrend(clean, 0, 3.72).rising).toBe(true);
    const line = [...clean].map(q => q.total + (sure.trend.slopePerSecond * (clean[19].at - q.at)) / 1000).sort((x, y) => x - y);
    expect(residualAutocorrelation(clean.slice(0, -1))).toBe(0);
    expect(noiseReach(clean.slice(0, -1))).toBeGreaterThan(0);
    expect(sure.projected).toBeCloseTo((line[9] + line[10]) / 2 + sure.trend.slopePerSecond * 48 + noiseReach(clean.slice(0, -1)), 6);
    // A faint rise under heavy noise that 99.5 % lets through and 99.99 % does not (with the
    // autocorrelation the projection itself estimates): its lower end, from the line, and no reach.
    const g = gaussian(3);
    let weak = 0;
    for (let k = 0; k < 300 && weak < 5; k++) {
      const pts = series(Array.from({ length: 20 }, (_, i) => 600 + 1.2 * i + 12 * g()));
      const rho = residualAutocorrelation(pts.slice(0, -1));
      const trend = loadTrend(pts, rho);
      if (!trend.rising || loadTrend(pts, rho, 3.72).rising) continue;
      weak++;
      const p = projectLoad(pts, 48);
      expect(p?.trend.slopePerSecond).toBeCloseTo(trend.slopePerSecond);
      const carried = pts.map(q => q.total + trend.slopePerSecond * ((pts[19].at - q.at) / 1000)).sort((x, y) => x - y);
      expect(p?.projected).toBeCloseTo((carried[9] + carried[10]) / 2 + trend.slopePerSecond * 48, 6);
    }
    expect(weak).toBe(5);
  });

  test('noiseReach: bounded noise is reached at its 95th percentile, not beyond its top; wild readings and bursts only up to three robust noise scales', () => {
    // ±20 % uniform about 600 (a noisy plateau): its top is +120.
    const u = ansiCUniform(7);
    const plateau = series(Array.from({ length: 60 }, () => 600 * (0.8 + 0.4 * u())));
    const reach = noiseReach(plateau);
    expect(reach).toBeGreaterThan(80);
    expect(reach).toBeLessThanOrEqual(125);
    // Three readings of a +5,000 burst in three minutes, or one in the 21 readings of a 10 s
    // interval: the percentile would be the burst; the cap keeps it within three robust noise
    // scales (here about 270: 3 × 1.4826 × the median absolute deviation, about 60).
    const burst = plateau.map((p, i) => (i >= 20 && i < 23 ? { ...p, total: 5000 } : p));
    expect(noiseReach(burst)).toBeLessThan(300);
    const slow = plateau.slice(0, 21).map((p, i) => ({ at: T0 + i * 10_000, total: i === 7 ? 6000 : p.total }));
    expect(noiseReach(slow)).toBeLessThan(300);
    expect(noiseReach(series([1, 2]))).toBe(0);
  });

  test('one wild reading on a plateau of persistent noise does not hide its autocorrelation', () => {
    // AR(1), φ 0.9 a tick, 5 % of 1,000, with one reading of 3,000 in the window: unclipped, that
    // one reading drove ρ to about 0 and about one tick in five projected a ramp.
    let fired = 0;
    let ticks = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const e = ar1(0.9, stationaryInnovation(0.9, 0.05), gaussian(seed * 7919));
      const totals = Array.from({ length: 200 }, () => Math.round(1000 * (1 + e())));
      for (let k = 60; k < 200; k += 2) {
        const w = series(totals.slice(k - 59, k + 1)).map((p, i) => (i === 9 ? { ...p, total: 3000 } : p));
        ticks++;
        if (projectLoad(w, 48)) fired++;
      }
    }
    expect(fired / ticks).toBeLessThan(0.05);
  });

  test('a clean ramp of fractional slope: rounding noise is no autocorrelation, and a shift projects exactly that much higher', () => {
    const ramp = Array.from({ length: 23 }, (_, i) => 100 + 13.371789523925315 * i);
    const a = projectLoad(series(ramp), 48);
    const b = projectLoad(series(ramp.map(v => v + 1712.78)), 48);
    expect(residualAutocorrelation(series(ramp.map(v => v + 1712.78)).slice(0, -1))).toBe(0);
    expect(a && b).toBeTruthy();
    expect(b!.projected).toBeCloseTo(a!.projected + 1712.78, 6);
  });

  test('persisting noise before a ramp: a reading above the line still projects higher (its persisting share, the line and the slope)', () => {
    // The same ramp, its newest reading 60 above or on the line, with AR(1) noise before it.
    const e = ar1(0.9, stationaryInnovation(0.9, 1), gaussian(11));
    const base = Array.from({ length: 59 }, (_, i) => 600 + 20 * i + 25 * e());
    const on = projectLoad(series([...base, 600 + 20 * 59]), 48)!;
    const above = projectLoad(series([...base, 600 + 20 * 59 + 60]), 48)!;
    expect(residualAutocorrelation(series(base))).toBeGreaterThan(0.5);
    expect(above.projected).toBeGreaterThan(on.projected);
  });
});

describe('LoadHistory', () => {
  test('keeps the last minute, at most maxPoints readings, in time order', () => {
    expect(new LoadHistory()).toMatchObject({ windowMs: 180_000, maxPoints: 180 });
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
