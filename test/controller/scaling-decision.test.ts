import * as fc from 'fast-check';
import { PolicyConfig } from '../../src/controller/controller-config';
import { decide, DecisionInput, policyDesired, recommend } from '../../src/controller/scaling-decision';
import { ORIGINAL_STEPS } from '../support/controller-config-fixture';

const base: DecisionInput = {
  policy: { type: 'targetTracking', metric: 'ACTIVE_CONNECTIONS', targetPerTask: 100 },
  minTasks: 2,
  maxTasks: 50,
  maxScaleOutStep: 50,
  scaleInEnabled: false,
  maxFailedScrapeRatio: 0.5,
  desiredCount: 2,
  pendingCount: 0,
  scrapedTasks: 2,
  failedScrapes: 0,
  unknownValues: 0,
  total: 0,
  window: { complete: true, max: 2 },
};

const policyArb: fc.Arbitrary<PolicyConfig> = fc.oneof(
  fc.double({ min: 0.5, max: 1000, noNaN: true }).map(t => ({ type: 'targetTracking' as const, metric: 'ACTIVE_CONNECTIONS' as const, targetPerTask: t })),
  fc.constant(ORIGINAL_STEPS),
);

/** Any situation a tick may be in, bounds included. */
const inputArb: fc.Arbitrary<DecisionInput> = fc.record({
  policy: policyArb,
  minTasks: fc.integer({ min: 0, max: 20 }),
  span: fc.integer({ min: 0, max: 100 }),
  maxScaleOutStep: fc.integer({ min: 1, max: 100 }),
  scaleInEnabled: fc.boolean(),
  maxFailedScrapeRatio: fc.double({ min: 0, max: 1, noNaN: true }),
  desiredCount: fc.integer({ min: 0, max: 200 }),
  pendingCount: fc.integer({ min: 0, max: 10 }),
  scrapedTasks: fc.integer({ min: 0, max: 200 }),
  failedFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  unknownFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  total: fc.double({ min: 0, max: 100_000, noNaN: true }),
  windowComplete: fc.boolean(),
  windowMax: fc.integer({ min: 0, max: 200 }),
}).map(r => {
  const failedScrapes = Math.floor(r.scrapedTasks * r.failedFraction);
  return {
    policy: r.policy,
    minTasks: r.minTasks,
    maxTasks: Math.max(1, r.minTasks + r.span),
    maxScaleOutStep: r.maxScaleOutStep,
    scaleInEnabled: r.scaleInEnabled,
    maxFailedScrapeRatio: r.maxFailedScrapeRatio,
    desiredCount: r.desiredCount,
    pendingCount: r.pendingCount,
    scrapedTasks: r.scrapedTasks,
    failedScrapes,
    unknownValues: Math.floor((r.scrapedTasks - failedScrapes) * r.unknownFraction),
    total: r.total,
    window: { complete: r.windowComplete, max: r.windowMax },
  };
});

describe('decide: properties', () => {
  test('an action always lands within [minTasks, maxTasks]', () => {
    fc.assert(fc.property(inputArb, i => {
      const d = decide(i);
      if (d.action !== 'HOLD') {
        expect(d.desiredCount).toBeGreaterThanOrEqual(i.minTasks);
        expect(d.desiredCount).toBeLessThanOrEqual(i.maxTasks);
      } else {
        expect(d.desiredCount).toBe(i.desiredCount);
      }
      expect(d.recommendation).toBeGreaterThanOrEqual(i.minTasks);
      expect(d.recommendation).toBeLessThanOrEqual(i.maxTasks);
    }), { numRuns: 2000 });
  });

  test('scale-out raises, scale-in lowers, and the step limits hold', () => {
    fc.assert(fc.property(inputArb, i => {
      const d = decide(i);
      if (d.action === 'SCALE_OUT') {
        expect(d.desiredCount).toBeGreaterThan(i.desiredCount);
        if (i.desiredCount >= i.minTasks) expect(d.desiredCount - i.desiredCount).toBeLessThanOrEqual(i.maxScaleOutStep);
      }
      if (d.action === 'SCALE_IN') {
        expect(d.desiredCount).toBeLessThan(i.desiredCount);
        // At most halving, unless it is maxTasks being enforced.
        if (i.desiredCount <= i.maxTasks) expect(d.desiredCount).toBeGreaterThanOrEqual(Math.ceil(i.desiredCount / 2));
      }
    }), { numRuns: 2000 });
  });

  test('never scales in when scale-in is disabled', () => {
    fc.assert(fc.property(inputArb, i => {
      expect(decide({ ...i, scaleInEnabled: false }).action).not.toBe('SCALE_IN');
    }), { numRuns: 2000 });
  });

  test('never scales in on failed scrapes, unknown values, pending tasks or an incomplete window (within bounds)', () => {
    const withinBounds = inputArb.filter(i => i.desiredCount <= i.maxTasks);
    fc.assert(fc.property(withinBounds, fc.integer({ min: 1, max: 10 }), (i, n) => {
      const scrapedTasks = Math.max(i.scrapedTasks, n);
      expect(decide({ ...i, failedScrapes: n, scrapedTasks }).action).not.toBe('SCALE_IN');
      expect(decide({ ...i, unknownValues: n, scrapedTasks, failedScrapes: 0 }).action).not.toBe('SCALE_IN');
      expect(decide({ ...i, pendingCount: n }).action).not.toBe('SCALE_IN');
      expect(decide({ ...i, window: { ...i.window, complete: false } }).action).not.toBe('SCALE_IN');
    }), { numRuns: 2000 });
  });

  test('never scales in below the highest recommendation of the window', () => {
    fc.assert(fc.property(inputArb, i => {
      const d = decide(i);
      if (d.action === 'SCALE_IN' && i.desiredCount <= i.maxTasks) {
        expect(d.desiredCount).toBeGreaterThanOrEqual(Math.min(i.window.max, i.desiredCount));
      }
    }), { numRuns: 2000 });
  });

  test('monotonic in load: more load never asks for fewer tasks', () => {
    fc.assert(fc.property(inputArb, fc.double({ min: 0, max: 100_000, noNaN: true }), (i, extra) => {
      const lower = decide(i);
      const higher = decide({ ...i, total: i.total + extra });
      expect(higher.recommendation).toBeGreaterThanOrEqual(lower.recommendation);
      expect(higher.desiredCount).toBeGreaterThanOrEqual(lower.desiredCount);
    }), { numRuns: 2000 });
  });

  test('steps reproduce their table exactly', () => {
    const table: Array<[number, number]> = [
      [0, 1], [49.99, 1], [50, 2], [99, 2], [100, 10], [299, 10], [300, 15], [499, 15], [500, 20], [10_000, 20],
    ];
    for (const [total, tasks] of table) {
      expect(policyDesired(ORIGINAL_STEPS, total, 1)).toBe(tasks);
    }
    fc.assert(fc.property(fc.double({ min: 0, max: 10_000, noNaN: true }), total => {
      const expected = [...(ORIGINAL_STEPS as any).steps].reverse().find((s: any) => total >= s.threshold)?.desiredTasks ?? 1;
      expect(recommend({ policy: ORIGINAL_STEPS, total, minTasks: 1, maxTasks: 100 })).toBe(expected);
    }));
  });
});

describe('decide: cases', () => {
  test('target tracking scales out at once to ceil(total / target)', () => {
    expect(decide({ ...base, total: 950 })).toMatchObject({ action: 'SCALE_OUT', desiredCount: 10 });
  });

  test('the maximum step bounds a scale-out', () => {
    expect(decide({ ...base, total: 950, maxScaleOutStep: 3 })).toMatchObject({ action: 'SCALE_OUT', desiredCount: 5 });
  });

  test('pending tasks are capacity on the way: no second scale-out for the same load', () => {
    expect(decide({ ...base, total: 950, desiredCount: 10, pendingCount: 8, scrapedTasks: 2 })).toMatchObject({ action: 'HOLD' });
  });

  test('holds when too many scrapes failed', () => {
    expect(decide({ ...base, total: 950, scrapedTasks: 4, failedScrapes: 3 })).toMatchObject({
      action: 'HOLD', reason: '3 of 4 scrapes failed, more than the allowed share 0.5',
    });
  });

  test('scales out on partial data within the allowed share: the total is a lower bound', () => {
    expect(decide({ ...base, total: 950, scrapedTasks: 4, failedScrapes: 1 })).toMatchObject({ action: 'SCALE_OUT', desiredCount: 10, complete: false });
  });

  test('scales in after the window, at most halving', () => {
    const input = { ...base, scaleInEnabled: true, desiredCount: 20, scrapedTasks: 20, total: 100, window: { complete: true, max: 2 } };
    expect(decide(input)).toMatchObject({ action: 'SCALE_IN', desiredCount: 10 });
    expect(decide({ ...input, window: { complete: true, max: 14 } })).toMatchObject({ action: 'SCALE_IN', desiredCount: 14 });
    expect(decide({ ...input, window: { complete: false, max: 2 } })).toMatchObject({ action: 'HOLD' });
  });

  test('raises the service to minTasks even with nothing to measure', () => {
    expect(decide({ ...base, desiredCount: 0, scrapedTasks: 0 })).toMatchObject({ action: 'SCALE_OUT', desiredCount: 2 });
  });

  test('holds with no running task to measure', () => {
    expect(decide({ ...base, desiredCount: 3, scrapedTasks: 0, pendingCount: 3 })).toMatchObject({ action: 'HOLD', reason: 'no running task to measure yet' });
  });

  test('holds on the first reading of a rate', () => {
    expect(decide({ ...base, unknownValues: 2 })).toMatchObject({ action: 'HOLD', reason: 'first reading of the request counters: no rate yet' });
  });
});
