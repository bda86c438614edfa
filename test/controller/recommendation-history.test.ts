import * as fc from 'fast-check';
import { Bucket, bucketSeconds, recordRecommendation, windowView } from '../../src/controller/decide/recommendation-history';

describe('recommendation history', () => {
  test('buckets are the interval, or a thirtieth of the window when that is longer', () => {
    expect(bucketSeconds(3, 300)).toBe(10);
    expect(bucketSeconds(3, 60)).toBe(3);
    expect(bucketSeconds(1, 3600)).toBe(120);
  });

  test('keeps the highest recommendation per bucket and forgets what left the window', () => {
    let h: Bucket[] = [];
    for (let t = 1000; t < 1400; t += 3) h = recordRecommendation(h, t, t === 1300 ? 9 : 2, 3, 300);
    expect(h.length).toBeLessThanOrEqual(31);
    expect(h[0][0]).toBeGreaterThan(1397 - 300 - 10);
    expect(windowView(h, 1397, 3, 300)).toEqual({ complete: true, max: 9 });
    // Once the 9 has left the window, the maximum drops.
    for (let t = 1400; t < 1700; t += 3) h = recordRecommendation(h, t, 2, 3, 300);
    expect(windowView(h, 1697, 3, 300)).toEqual({ complete: true, max: 2 });
  });

  test('a history shorter than the window is incomplete', () => {
    let h: Bucket[] = [];
    for (let t = 1000; t < 1100; t += 3) h = recordRecommendation(h, t, 2, 3, 300);
    expect(windowView(h, 1099, 3, 300).complete).toBe(false);
    expect(windowView([], 1099, 3, 300)).toEqual({ complete: false, max: Infinity });
  });

  test('a hole in the history (the controller was down) makes the window incomplete', () => {
    let h: Bucket[] = [];
    for (let t = 1000; t < 1200; t += 3) h = recordRecommendation(h, t, 2, 3, 300);
    for (let t = 1260; t < 1400; t += 3) h = recordRecommendation(h, t, 2, 3, 300);
    expect(windowView(h, 1399, 3, 300).complete).toBe(false);
  });

  test('a clock that steps back one second keeps the spike: no scale-in seconds after it', () => {
    // 10-second buckets; a spike at 1405 (bucket 1400), then the clock steps back to 1399.
    let h: Bucket[] = [];
    for (let t = 1000; t < 1405; t += 3) h = recordRecommendation(h, t, 2, 3, 300);
    h = recordRecommendation(h, 1405, 20, 3, 300);
    h = recordRecommendation(h, 1399, 2, 3, 300);
    expect(windowView(h, 1399, 3, 300).max).toBe(20);
    h = recordRecommendation(h, 1402, 2, 3, 300);
    expect(windowView(h, 1402, 3, 300).max).toBe(20);
  });

  test('whatever the clock does, every recommendation stays in the window for a whole window of the history\'s time', () => {
    const tick = fc.record({ step: fc.integer({ min: -30, max: 12 }), rec: fc.integer({ min: 0, max: 50 }) });
    fc.assert(fc.property(fc.array(tick, { minLength: 1, maxLength: 200 }), fc.constantFrom(30, 60, 300), (ticks, window) => {
      let h: Bucket[] = [];
      let clock = 100_000;
      let historyClock = -Infinity;
      const seen: Array<{ at: number; rec: number }> = [];
      for (const { step, rec } of ticks) {
        clock += step;
        historyClock = Math.max(historyClock, clock);
        h = recordRecommendation(h, clock, rec, 3, window);
        seen.push({ at: historyClock, rec });
        // Everything recorded less than a window minus one bucket ago (on the history's own, never-receding clock) is still there.
        const size = bucketSeconds(3, window);
        const mustRemain = seen.filter(x => historyClock - x.at < window - size).map(x => x.rec);
        expect(windowView(h, clock, 3, window).max).toBeGreaterThanOrEqual(Math.max(...mustRemain));
      }
    }), { numRuns: 500 });
  });
});
