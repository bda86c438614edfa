import { StubStatus } from '../../src/controller/stub-status';
import { nextCounters, taskMetric } from '../../src/controller/task-metric';

const status = (s: Partial<StubStatus>): StubStatus => ({ active: 1, accepts: 1, handled: 1, requests: 1, reading: 0, writing: 1, waiting: 0, ...s });

describe('taskMetric', () => {
  test('active connections and in-flight requests leave out the status request', () => {
    const sample = { taskId: 't', at: 0, status: status({ active: 41, reading: 3, writing: 8, waiting: 30 }) };
    expect(taskMetric('ACTIVE_CONNECTIONS', sample, undefined).value).toBe(40);
    expect(taskMetric('IN_FLIGHT_REQUESTS', sample, undefined).value).toBe(10);
  });

  test('requests per second come from the counter, less the status requests', () => {
    const sample = { taskId: 't', at: 13_000, status: status({ requests: 1301 }) };
    expect(taskMetric('REQUESTS_PER_SECOND', sample, [1000, 10_000]).value).toBe(100);
  });

  test('no rate on the first reading, nor after the counter went back (nginx restarted)', () => {
    const sample = { taskId: 't', at: 13_000, status: status({ requests: 5 }) };
    expect(taskMetric('REQUESTS_PER_SECOND', sample, undefined).value).toBeUndefined();
    expect(taskMetric('REQUESTS_PER_SECOND', sample, [1000, 10_000]).value).toBeUndefined();
  });

  test('counters remember only the tasks read this time', () => {
    expect(nextCounters([{ taskId: 'a', at: 5, status: status({ requests: 7 }) }])).toEqual({ a: [7, 5] });
  });
});
