import * as fc from 'fast-check';
import { StubStatus } from '../../src/controller/read/stub-status';
import { RequestCounters, rateGaps, taskMetric, TaskSample } from '../../src/controller/read/task-metric';

const status = (s: Partial<StubStatus>): StubStatus => ({ active: 1, accepts: 1, handled: 1, requests: 1, reading: 0, writing: 1, waiting: 0, ...s });
const GAPS = rateGaps(3);
const sample = (taskId: string, requests: number, at: number): TaskSample => ({ taskId, at, status: status({ requests }) });

describe('taskMetric', () => {
  test('active connections and in-flight requests leave out the status request', () => {
    const s = { taskId: 't', at: 0, status: status({ active: 41, reading: 3, writing: 8, waiting: 30 }) };
    expect(taskMetric('ACTIVE_CONNECTIONS', s, undefined, GAPS).value).toBe(40);
    expect(taskMetric('IN_FLIGHT_REQUESTS', s, undefined, GAPS).value).toBe(10);
  });

  test('requests per second come from the counter, less the status requests', () => {
    expect(taskMetric('REQUESTS_PER_SECOND', sample('t', 1301, 13_000), [1000, 10_000], GAPS).value).toBe(100);
  });

  test('no rate on the first reading, nor after the counter went back (nginx restarted)', () => {
    expect(taskMetric('REQUESTS_PER_SECOND', sample('t', 5, 13_000), undefined, GAPS).value).toBeUndefined();
    expect(taskMetric('REQUESTS_PER_SECOND', sample('t', 5, 13_000), [1000, 10_000], GAPS).value).toBeUndefined();
  });

  test('no rate over a gap shorter than half an interval, or longer than four, or backwards', () => {
    expect(GAPS).toEqual({ minMs: 1500, maxMs: 12_000 });
    expect(taskMetric('REQUESTS_PER_SECOND', sample('t', 1003, 10_200), [1000, 10_000], GAPS).value).toBeUndefined();
    expect(taskMetric('REQUESTS_PER_SECOND', sample('t', 1003, 10_000 + 1499), [1000, 10_000], GAPS).value).toBeUndefined();
    expect(taskMetric('REQUESTS_PER_SECOND', sample('t', 1031, 10_000 + 1500), [1000, 10_000], GAPS).value).toBe(20);
    expect(taskMetric('REQUESTS_PER_SECOND', sample('t', 9000, 10_000 + 12_001), [1000, 10_000], GAPS).value).toBeUndefined();
    expect(taskMetric('REQUESTS_PER_SECOND', sample('t', 1003, 9_000), [1000, 10_000], GAPS).value).toBeUndefined();
  });

  test('Poisson arrivals below the target never read as a surge, whatever the gap between two ticks', () => {
    // 20 tasks at 9 req/s each, target 10: any gap that gives a rate must not be shorter
    // than half an interval, where a 0.1-0.2 s window would read 0, 10, 20... req/s.
    fc.assert(fc.property(fc.integer({ min: 0, max: 6000 }), fc.integer({ min: 0, max: 3 }), (gapMs, arrivals) => {
      const value = taskMetric('REQUESTS_PER_SECOND', sample('t', 1000 + arrivals + 1, 10_000 + gapMs), [1000, 10_000], GAPS).value;
      if (gapMs < GAPS.minMs) expect(value).toBeUndefined();
      else expect(value).toBeLessThanOrEqual(arrivals / (GAPS.minMs / 1000));
    }));
  });
});

describe('RequestCounters', () => {
  test('keeps the older baseline after a reading that came too soon', () => {
    const c = new RequestCounters();
    c.record([sample('a', 100, 10_000)], ['a'], GAPS);
    c.record([sample('a', 103, 10_200)], ['a'], GAPS);
    // The baseline stays, with the too-early reading's own status request added to it.
    expect(c.get('a')).toEqual([101, 10_000, undefined]);
    c.record([sample('a', 160, 13_000)], ['a'], GAPS);
    expect(c.get('a')).toEqual([160, 13_000, undefined]);
  });

  test('keeps tasks that were listed but not read, forgets tasks no longer listed', () => {
    const c = new RequestCounters();
    c.record([sample('a', 1, 10_000), sample('b', 2, 10_000)], ['a', 'b'], GAPS);
    // A tick where every scrape timed out: both still listed, both keep their baseline.
    c.record([], ['a', 'b'], GAPS);
    expect(c.get('a')).toEqual([1, 10_000]);
    c.record([], ['b'], GAPS);
    expect(c.get('a')).toBeUndefined();
    expect(c.get('b')).toEqual([2, 10_000]);
    expect(c.size).toBe(1);
  });

  test('a counter that went back, or a clock that stepped back, starts a new baseline', () => {
    const c = new RequestCounters();
    c.record([sample('a', 500, 10_000)], ['a'], GAPS);
    c.record([sample('a', 3, 10_100)], ['a'], GAPS);
    expect(c.get('a')).toEqual([3, 10_100]);
    c.record([sample('a', 10, 5_000)], ['a'], GAPS);
    expect(c.get('a')).toEqual([10, 5_000]);
  });
});

describe('what the adversarial review found', () => {
  test('a draining task counts only its busy connections: its idle keep-alive ones reconnect elsewhere', () => {
    const s = { taskId: 't', at: 0, status: status({ active: 41, reading: 2, writing: 9, waiting: 30 }) };
    expect(taskMetric('ACTIVE_CONNECTIONS', s, undefined, GAPS, true).value).toBe(10);
    expect(taskMetric('ACTIVE_CONNECTIONS', s, undefined, GAPS, false).value).toBe(40);
  });

  test('a rate carries the variance of its Poisson estimate', () => {
    const m = taskMetric('REQUESTS_PER_SECOND', sample('t', 1301, 13_000), [1000, 10_000], GAPS);
    expect(m).toEqual({ taskId: 't', value: 100, variance: 300 / 9 });
  });

  test('a baseline another run left has one more read after it (the new run\'s first, maybe on another instance)', () => {
    const c = new RequestCounters();
    c.useFor('run-1');
    c.record([sample('a', 1000, 10_000)], ['a'], GAPS);
    expect(c.get('a')).toEqual([1000, 10_000, 'run-1']);
    // 300 requests served, our read, and run-2's first read elsewhere.
    expect(taskMetric('REQUESTS_PER_SECOND', sample('a', 1302, 13_000), c.get('a'), GAPS, false, 'run-2').value).toBe(100);
    expect(taskMetric('REQUESTS_PER_SECOND', sample('a', 1301, 13_000), c.get('a'), GAPS, false, 'run-1').value).toBe(100);
  });

  test('a too-early read of the new run on this instance makes the kept baseline the new run\'s', () => {
    const c = new RequestCounters();
    c.useFor('run-1');
    c.record([sample('a', 1000, 10_000)], ['a'], GAPS);
    c.useFor('run-2');
    c.record([sample('a', 1001, 10_100)], ['a'], GAPS);
    expect(c.get('a')).toEqual([1001, 10_000, 'run-2']);
    expect(taskMetric('REQUESTS_PER_SECOND', sample('a', 1302, 13_000), c.get('a'), GAPS, false, 'run-2').value).toBe(100);
  });
});

describe('an app\'s Prometheus counter as a rate (review finding)', () => {
  const gaps = rateGaps(3);
  test('no own-read correction and no Poisson noise: its unit is the app\'s (CPU seconds, bytes)', () => {
    const m = taskMetric('PROMETHEUS_COUNTER', { taskId: 't', at: 3000, value: 10.9 }, [10, 0, 'run'], gaps, false, 'run');
    expect(m.value).toBeCloseTo(0.3, 9);
    expect(m.variance).toBe(0);
  });
  test('a counter that went down (a restart) or is not finite gives no rate', () => {
    expect(taskMetric('PROMETHEUS_COUNTER', { taskId: 't', at: 3000, value: 5 }, [10, 0], gaps).value).toBeUndefined();
    expect(taskMetric('PROMETHEUS_COUNTER', { taskId: 't', at: 3000, value: Infinity }, [10, 0], gaps).value).toBeUndefined();
  });
});
