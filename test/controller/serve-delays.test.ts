import { SEEN_IDLE_WITHIN_MS, ServeDelays, TaskStart } from '../../src/controller/decide/serve-delays';

const T0 = Date.parse('2026-11-29T08:00:00Z');
const LIMITS = { intervalMs: 3000, boundMs: 60_000 };

/** One tick's readings at `at`: two old tasks carrying 50 each, and the others given. */
const readings = (at: number, others: Record<string, number | undefined>) => [
  { taskId: 'old-1', value: 50, at },
  { taskId: 'old-2', value: 50, at },
  ...Object.entries(others).map(([taskId, value]) => ({ taskId, value, at })),
];
const OLD_START: TaskStart = { createdAt: T0 - 3_600_000, startedAt: T0 - 3_590_000 };
const starts = (s: Record<string, TaskStart>) => (id: string) => s[id] ?? OLD_START;

/** Records a tick in which every task in `listed` (default: those read) is listed by ECS. */
function tick(d: ServeDelays, at: number, others: Record<string, number | undefined>, start: (id: string) => TaskStart, listed?: string[]) {
  const r = readings(at, others);
  d.record(r, listed ?? r.map(x => x.taskId), start, LIMITS);
}

describe('ServeDelays', () => {
  test('a new task: from created to the first reading in which it carries a quarter of the serving tasks\' mean load', () => {
    const d = new ServeDelays();
    // Created at T0, RUNNING 30 s later; the load balancer sends it load 12 s after that.
    const start = starts({ fresh: { createdAt: T0, startedAt: T0 + 30_000 } });
    tick(d, T0 + 30_000, {}, start); // the old tasks, serving
    tick(d, T0 + 33_000, { fresh: 0 }, start);
    tick(d, T0 + 36_000, { fresh: 12 }, start); // 12 < 0.25 × 50: health checks, not load
    expect(d.newest()).toEqual([]);
    tick(d, T0 + 42_000, { fresh: 30 }, start);
    expect(d.newest()).toEqual([42_000]);
    // Measured once: later ticks do not measure it again.
    tick(d, T0 + 45_000, { fresh: 0 }, start);
    tick(d, T0 + 48_000, { fresh: 40 }, start);
    expect(d.newest()).toEqual([42_000]);
  });

  test('a scale-out from 2 to 12 tasks: the bar is the serving tasks\' mean, not lowered by the ten idle ones', () => {
    const d = new ServeDelays();
    const fresh = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`f${i}`, { createdAt: T0, startedAt: T0 + 20_000 }]));
    const start = starts(fresh);
    tick(d, T0 + 20_000, {}, start);
    tick(d, T0 + 21_000, Object.fromEntries(Object.keys(fresh).map(id => [id, 0])), start);
    // Health checks give each new task 4 (requests a second): 4 < 0.25 × 50. Over every task's
    // mean (100 + 40) / 12 ≈ 11.7, a quarter is 2.9, and they would count as serving.
    tick(d, T0 + 24_000, Object.fromEntries(Object.keys(fresh).map(id => [id, 4])), start);
    expect(d.newest()).toEqual([]);
    tick(d, T0 + 51_000, Object.fromEntries(Object.keys(fresh).map(id => [id, 20])), start);
    expect(d.newest()).toEqual(Array(10).fill(51_000));
  });

  test('a task first seen long after it started is not measured (a new Lambda instance, an old idle task)', () => {
    const d = new ServeDelays();
    const start = starts({ old: { createdAt: T0, startedAt: T0 + 30_000 } });
    const late = T0 + 30_000 + SEEN_IDLE_WITHIN_MS + 1;
    tick(d, late - 3000, {}, start);
    tick(d, late, { old: 0 }, start);
    tick(d, late + 3000, { old: 50 }, start);
    expect(d.newest()).toEqual([]);
  });

  test('at a long interval the start is seen within three intervals: a rate\'s first value comes two reads after RUNNING', () => {
    const d = new ServeDelays();
    const start = starts({ fresh: { createdAt: T0, startedAt: T0 + 20_000 } });
    const limits = { intervalMs: 30_000, boundMs: 300_000 };
    const r = (at: number, fresh: number | undefined) => [{ taskId: 'old', value: 50, at }, { taskId: 'fresh', value: fresh, at }];
    d.record(r(T0, undefined), ['old', 'fresh'], start, limits);
    d.record(r(T0 + 30_000, undefined), ['old', 'fresh'], start, limits);
    d.record(r(T0 + 60_000, 0), ['old', 'fresh'], start, limits); // 40 s after RUNNING
    d.record(r(T0 + 90_000, 40), ['old', 'fresh'], start, limits);
    expect(d.newest()).toEqual([90_000]);
  });

  test('without load anywhere nothing is measured: an idle task then is not a task out of service', () => {
    const d = new ServeDelays();
    const start = starts({ fresh: { createdAt: T0, startedAt: T0 + 30_000 } });
    d.record([{ taskId: 'old-1', value: 0, at: T0 + 33_000 }, { taskId: 'fresh', value: 0, at: T0 + 33_000 }], ['old-1', 'fresh'], start, LIMITS);
    // The load arrives and reaches every task at once: the fresh task was never seen out of service.
    d.record([{ taskId: 'old-1', value: 40, at: T0 + 36_000 }, { taskId: 'fresh', value: 40, at: T0 + 36_000 }], ['old-1', 'fresh'], start, LIMITS);
    expect(d.newest()).toEqual([]);
  });

  test('a task ECS still lists but one tick did not read keeps its state; a task ECS no longer lists is forgotten', () => {
    const d = new ServeDelays();
    const start = starts({ fresh: { createdAt: T0, startedAt: T0 + 30_000 }, gone: { createdAt: T0, startedAt: T0 + 30_000 } });
    tick(d, T0 + 30_000, {}, start);
    tick(d, T0 + 33_000, { fresh: 0, gone: 0 }, start);
    // Both unread (a scrape timed out); ECS lists only `fresh`.
    tick(d, T0 + 36_000, {}, start, ['old-1', 'old-2', 'fresh']);
    tick(d, T0 + 39_000, { fresh: 50, gone: 50 }, start);
    expect(d.newest()).toEqual([39_000]);
  });

  test('a task idle for longer than the bound is dropped, not measured at its age when load comes back', () => {
    const d = new ServeDelays();
    const start = starts({ fresh: { createdAt: T0, startedAt: T0 + 30_000 } });
    tick(d, T0 + 30_000, {}, start);
    tick(d, T0 + 33_000, { fresh: 0 }, start);
    tick(d, T0 + 61_000, { fresh: 0 }, start); // 61 s after created: beyond the 60 s bound
    tick(d, T0 + 3_600_000, { fresh: 50 }, start);
    expect(d.newest()).toEqual([]);
  });

  test('unknown values and tasks the catalog has not described are skipped', () => {
    const d = new ServeDelays();
    const start = (id: string) => (id === 'undescribed' ? {} : id === 'fresh' ? { createdAt: T0, startedAt: T0 + 30_000 } : OLD_START);
    tick(d, T0 + 30_000, {}, start);
    tick(d, T0 + 33_000, { fresh: undefined, undescribed: 0 }, start);
    tick(d, T0 + 36_000, { fresh: 0, undescribed: 50 }, start);
    tick(d, T0 + 39_000, { fresh: 50 }, start);
    expect(d.newest()).toEqual([39_000]);
  });

  test('keeps the newest delays, newest first, at most maxKept', () => {
    const d = new ServeDelays(3);
    for (let i = 0; i < 5; i++) {
      const id = `t${i}`;
      const created = T0 + i * 100_000;
      const start = starts({ [id]: { createdAt: created, startedAt: created + 20_000 } });
      tick(d, created + 20_000, {}, start);
      tick(d, created + 21_000, { [id]: 0 }, start);
      tick(d, created + 30_000 + i * 1000, { [id]: 50 }, start);
    }
    expect(d.newest()).toEqual([34_000, 33_000, 32_000]);
  });
});
