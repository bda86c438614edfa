import { AlarmDefinition } from './support/alarm-evaluator';
import { faultSchedule, FAULT_KINDS, overlaps } from './support/fault-schedule';
import { InjectedFault, SoakHistory, SoakTick } from './support/soak-history';
import {
  alarmsWouldFire, desiredWithinBounds, memoryFlat, noLongGaps, oneActionPerStateVersion, scaleInOnlyWhenSafe, stateItemBounded,
  surgesActedOn,
} from './support/soak-invariants';

/**
 * Each invariant of the chaos soak on small histories made by hand: one that keeps it, and
 * one that breaks it. A checker that cannot fail would let any soak pass.
 */

const T0 = 1_800_000_000_000;
const ALARM: AlarmDefinition = {
  period: 60,
  statistic: 'Sum',
  comparisonOperator: 'LessThanThreshold',
  threshold: 1,
  evaluationPeriods: 2,
  datapointsToAlarm: 2,
  treatMissingData: 'breaching',
};

function history(over: Partial<SoakHistory> = {}): SoakHistory {
  return {
    config: { intervalMs: 1000, minTasks: 2, maxTasks: 12, scaleInWindowMs: 10_000 },
    startedAt: T0,
    endedAt: T0 + 60_000,
    faults: [],
    ticks: [],
    tickEntries: [],
    updateServiceCalls: [],
    stateWrites: [],
    ticksMetric: [],
    stoppedTickingAlarm: ALARM,
    stateSizes: [],
    rss: [],
    ...over,
  };
}

function tick(at: number, over: Partial<SoakTick> = {}): SoakTick {
  return {
    runId: 'run-1',
    at: T0 + at,
    startedAt: T0 + at - 100,
    action: 'HOLD',
    desiredCount: 4,
    previousDesiredCount: 4,
    recommendation: 4,
    failed: 0,
    draining: 0,
    starting: 0,
    ...over,
  };
}

function fault(kind: InjectedFault['kind'], from: number, to: number, over: Partial<InjectedFault> = {}): InjectedFault {
  return { id: `f-${kind}`, kind, from: T0 + from, to: T0 + to, blocksAction: false, stopsLoop: false, ...over };
}

describe('scale-in only when safe', () => {
  const scaleIn = (over: Partial<SoakTick> = {}) => tick(20_000, { action: 'SCALE_IN', desiredCount: 2, previousDesiredCount: 4, recommendation: 2, ...over });

  test('a scale-in after a whole window of lower recommendations passes', () => {
    const r = scaleInOnlyWhenSafe(history({ ticks: [tick(5_000, { recommendation: 6 }), tick(12_000, { recommendation: 2 }), scaleIn()] }));
    expect(r.checks).toBe(1);
    expect(r.violations).toEqual([]);
  });

  test.each([['unread', { failed: 1 }], ['draining', { draining: 1 }], ['pending', { starting: 2 }]] as const)(
    'a scale-in with a task %s is caught', (_, over) => {
      expect(scaleInOnlyWhenSafe(history({ ticks: [scaleIn(over)] })).violations).toHaveLength(1);
    });

  test('a scale-in within the window of a higher recommendation is caught', () => {
    const r = scaleInOnlyWhenSafe(history({ ticks: [tick(11_000, { recommendation: 3 }), scaleIn()] }));
    expect(r.violations).toHaveLength(1);
    expect(r.violations[0].detail).toMatch(/recommended 3/);
  });
});

test('a desired count outside [minTasks, maxTasks] is caught, in a call or in a tick', () => {
  expect(desiredWithinBounds(history({ updateServiceCalls: [{ at: T0, desiredCount: 12 }] })).violations).toEqual([]);
  expect(desiredWithinBounds(history({ updateServiceCalls: [{ at: T0, desiredCount: 13 }] })).violations).toHaveLength(1);
  expect(desiredWithinBounds(history({ ticks: [tick(1000, { action: 'SCALE_IN', desiredCount: 1 })] })).violations).toHaveLength(1);
});

describe('one action per state version', () => {
  const acting = tick(1000, { action: 'SCALE_OUT', desiredCount: 6, scaled: true });
  const write = { at: T0 + 950, expectedVersion: 3, ok: true, lastAction: { runId: 'run-1', action: 'SCALE_OUT', to: 6, at: T0 + 900 } };

  test('an action backed by its own write passes', () => {
    expect(oneActionPerStateVersion(history({ ticks: [acting], stateWrites: [write] })).violations).toEqual([]);
  });

  test('an action without a successful write of its own is caught', () => {
    expect(oneActionPerStateVersion(history({ ticks: [acting], stateWrites: [{ ...write, ok: false }] })).violations).toHaveLength(1);
    // Two runs' actions, one write.
    const other = { ...acting, runId: 'run-2' };
    expect(oneActionPerStateVersion(history({ ticks: [acting, other], stateWrites: [write] })).violations).toHaveLength(1);
  });

  test('a write that only carries an earlier action along backs no new one', () => {
    const carried = { ...write, at: T0 + 1500, expectedVersion: 4 };
    const again = tick(2000, { action: 'SCALE_OUT', desiredCount: 6, scaled: true });
    expect(oneActionPerStateVersion(history({ ticks: [acting, again], stateWrites: [write, carried] })).violations).toHaveLength(1);
  });

  test('two successful writes over one version are caught', () => {
    const second = { ...write, at: T0 + 960, lastAction: { ...write.lastAction, runId: 'run-2' } };
    expect(oneActionPerStateVersion(history({ stateWrites: [write, second] })).violations).toHaveLength(1);
  });
});

describe('a surge is acted on within 2 ticks', () => {
  const surge = [tick(1000, { recommendation: 8 }), tick(2000, { recommendation: 8 }), tick(3000, { recommendation: 8 }), tick(4000)];

  test('a call within 2 ticks passes, and its reaction time is measured', () => {
    const r = surgesActedOn(history({ ticks: surge, updateServiceCalls: [{ at: T0 + 1950, desiredCount: 8 }] }));
    expect(r.violations).toEqual([]);
    expect(r.reactionsMs).toEqual([1050]);
  });

  test('no call, or a call too late, is caught', () => {
    expect(surgesActedOn(history({ ticks: surge })).violations).toHaveLength(1);
    expect(surgesActedOn(history({ ticks: surge, updateServiceCalls: [{ at: T0 + 3500, desiredCount: 8 }] })).violations).toHaveLength(1);
  });

  test('a fault the action needs exempts it; a fault it does not need does not', () => {
    const blocked = surgesActedOn(history({ ticks: surge, faults: [fault('ecs-update-fails', 500, 2500, { blocksAction: true })] }));
    expect(blocked.violations).toEqual([]);
    expect(blocked.exempted).toEqual({ 'ecs-update-fails': 1 });
    expect(surgesActedOn(history({ ticks: surge, faults: [fault('status-hang', 500, 2500)] })).violations).toHaveLength(1);
  });

  test('a tick whose read asks for no more than the desired count sees no surge', () => {
    expect(surgesActedOn(history({ ticks: [tick(1000), tick(2000), tick(3000)] })).checks).toBe(0);
  });
});

describe('no gap over 2 intervals', () => {
  test('a steady beat passes; a gap without a loop-stopping fault is caught', () => {
    expect(noLongGaps(history({ tickEntries: [0, 1000, 2000, 3900].map(t => T0 + t) })).violations).toEqual([]);
    const r = noLongGaps(history({ tickEntries: [0, 1000, 3500].map(t => T0 + t), faults: [fault('ddb-timeout', 1200, 1500)] }));
    expect(r.violations).toHaveLength(1);
    expect(r.longestGapMs).toBe(2500);
  });

  test('a gap during a loop-stopping fault passes when ticks resume within 2 intervals of its end, not later', () => {
    const outage = fault('loop-outage', 1500, 9000, { stopsLoop: true, blocksAction: true });
    expect(noLongGaps(history({ tickEntries: [T0 + 1000, T0 + 10_500], faults: [outage] })).violations).toEqual([]);
    expect(noLongGaps(history({ tickEntries: [T0 + 1000, T0 + 11_500], faults: [outage] })).violations).toHaveLength(1);
  });
});

describe('the StoppedTicking alarm', () => {
  const everySecond = (from: number, to: number) => Array.from({ length: (to - from) / 1000 }, (_, i) => ({ timestamp: from + i * 1000, value: 1 }));
  const minute = 60_000;
  const start = Math.ceil(T0 / minute) * minute;

  test('fires for a stop of two whole minutes, and stays OK while ticks flow', () => {
    const points = [...everySecond(start, start + 3 * minute), ...everySecond(start + 6 * minute, start + 9 * minute)];
    const r = alarmsWouldFire(history({ startedAt: start, endedAt: start + 9 * minute, ticksMetric: points }));
    expect(r.violations).toEqual([]);
    expect(r.checks).toBeGreaterThan(3);
  });

  test('an alarm that misses a long stop, or fires while ticking, is caught', () => {
    const points = everySecond(start, start + 5 * minute);
    const neverBreaching = { ...ALARM, treatMissingData: 'notBreaching' as const };
    const missed = alarmsWouldFire(history({ endedAt: start + 9 * minute, ticksMetric: points, stoppedTickingAlarm: neverBreaching }));
    expect(missed.violations.length).toBeGreaterThan(0);
    const tooEager = { ...ALARM, threshold: 100 };
    const eager = alarmsWouldFire(history({ endedAt: start + 5 * minute, ticksMetric: points, stoppedTickingAlarm: tooEager }));
    expect(eager.violations.length).toBeGreaterThan(0);
  });
});

test('a state item over its bound, or with more buckets than a window, is caught', () => {
  const flat = Array.from({ length: 30 }, (_, i) => ({ at: T0 + i * 1000, bytes: 400, buckets: 10 }));
  expect(stateItemBounded(history({ stateSizes: flat }), 2048, 12).violations).toEqual([]);
  const growing = flat.map((s, i) => ({ ...s, buckets: 10 + i }));
  expect(stateItemBounded(history({ stateSizes: growing }), 2048, 12).violations.length).toBeGreaterThan(0);
  expect(stateItemBounded(history({ stateSizes: [...flat, { at: T0 + 40_000, bytes: 5000, buckets: 10 }] }), 2048, 12).violations).toHaveLength(1);
});

test('controller memory that grows is caught; a cold start\'s loading is not growth', () => {
  const flat = Array.from({ length: 60 }, (_, i) => ({ at: T0 + i * 1000, kb: 80_000 + (i % 3) * 500, pid: 1 }));
  expect(memoryFlat(history({ rss: flat }), 24_000, 10_000).violations).toEqual([]);
  const leaking = flat.map((s, i) => ({ ...s, kb: 80_000 + i * 1000 }));
  expect(memoryFlat(history({ rss: leaking }), 24_000, 10_000).violations).toHaveLength(1);
  // A second instance loading from 40 MB: its first 10 s are left out.
  const restarted = [...flat.slice(0, 30), ...flat.slice(30).map((s, i) => ({ ...s, pid: 2, kb: i < 10 ? 40_000 : s.kb }))];
  expect(memoryFlat(history({ rss: restarted }), 24_000, 10_000).violations).toEqual([]);
});

test('the fault schedule has every kind, overlaps on purpose, and is the same for the same seed', () => {
  const o = { seed: 7, durationMs: 140_000, quietStartMs: 8_000, quietEndMs: 12_000, meanSpacingMs: 5_000 };
  const faults = faultSchedule(o);
  expect(new Set(faults.map(f => f.kind))).toEqual(new Set(Object.keys(FAULT_KINDS)));
  expect(overlaps(faults)).toBeGreaterThan(0);
  expect(faultSchedule(o)).toEqual(faults);
  expect(faultSchedule({ ...o, seed: 8 })).not.toEqual(faults);
  expect(faults.every(f => f.startMs >= 8_000 && f.startMs + f.durationMs <= 128_000)).toBe(true);
});
