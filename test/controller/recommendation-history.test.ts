import { Bucket, bucketSeconds, recordRecommendation, windowView } from '../../src/controller/recommendation-history';

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
});
