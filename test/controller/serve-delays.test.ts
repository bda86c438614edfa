import { SEEN_IDLE_WITHIN_MS, ServeDelays, TaskStart } from '../../src/controller/serve-delays';

const T0 = Date.parse('2026-11-29T08:00:00Z');

/** Two old tasks carrying 50 each and whatever else the tick read. */
const tick = (others: Record<string, number | undefined>) => [
  { taskId: 'old-1', value: 50 },
  { taskId: 'old-2', value: 50 },
  ...Object.entries(others).map(([taskId, value]) => ({ taskId, value })),
];

const starts = (s: Record<string, TaskStart>) => (id: string) => s[id] ?? { createdAt: T0 - 3_600_000, startedAt: T0 - 3_590_000 };

describe('ServeDelays', () => {
  test('a new task: from created to the first tick at which it carries a quarter of the mean task\'s load', () => {
    const d = new ServeDelays();
    // Created at T0, RUNNING 30 s later; the load balancer sends it load 12 s after that.
    const start = starts({ fresh: { createdAt: T0, startedAt: T0 + 30_000 } });
    d.record(tick({ fresh: 0 }), start, T0 + 33_000);
    d.record(tick({ fresh: 1 }), start, T0 + 36_000); // 1 < 0.25 × 101 / 3: a health check, not load
    expect(d.newest()).toEqual([]);
    d.record(tick({ fresh: 30 }), start, T0 + 42_000);
    expect(d.newest()).toEqual([42_000]);
    // Measured once: later ticks do not measure it again.
    d.record(tick({ fresh: 0 }), start, T0 + 45_000);
    d.record(tick({ fresh: 40 }), start, T0 + 48_000);
    expect(d.newest()).toEqual([42_000]);
  });

  test('a task first seen long after it started is not measured (a new Lambda instance, an old idle task)', () => {
    const d = new ServeDelays();
    const start = starts({ old: { createdAt: T0, startedAt: T0 + 30_000 } });
    const late = T0 + 30_000 + SEEN_IDLE_WITHIN_MS + 1;
    d.record(tick({ old: 0 }), start, late);
    d.record(tick({ old: 50 }), start, late + 3000);
    expect(d.newest()).toEqual([]);
  });

  test('without load anywhere nothing is measured: an idle task then is not a task out of service', () => {
    const d = new ServeDelays();
    const start = starts({ fresh: { createdAt: T0, startedAt: T0 + 30_000 } });
    const quiet = [{ taskId: 'old-1', value: 0 }, { taskId: 'fresh', value: 0 }];
    d.record(quiet, start, T0 + 33_000);
    // The load arrives and reaches every task at once: the fresh task was never seen out of service.
    d.record([{ taskId: 'old-1', value: 40 }, { taskId: 'fresh', value: 40 }], start, T0 + 36_000);
    expect(d.newest()).toEqual([]);
  });

  test('unknown values and tasks the catalog has not described are skipped; a task that leaves is forgotten', () => {
    const d = new ServeDelays();
    const start = starts({ fresh: { createdAt: T0, startedAt: T0 + 30_000 }, undescribed: {} });
    d.record(tick({ fresh: undefined, undescribed: 0 }), start, T0 + 33_000);
    d.record(tick({ fresh: 0, undescribed: 50 }), start, T0 + 36_000);
    // It left (drained) and a tick without it forgets it: back with load, it is not measured.
    d.record(tick({}), start, T0 + 39_000);
    d.record(tick({ fresh: 50 }), start, T0 + 42_000);
    expect(d.newest()).toEqual([]);
  });

  test('keeps the newest delays, newest first, at most maxKept', () => {
    const d = new ServeDelays(3);
    for (let i = 0; i < 5; i++) {
      const id = `t${i}`;
      const created = T0 + i * 100_000;
      const start = starts({ [id]: { createdAt: created, startedAt: created + 20_000 } });
      d.record(tick({ [id]: 0 }), start, created + 21_000);
      d.record(tick({ [id]: 50 }), start, created + 30_000 + i * 1000);
    }
    expect(d.newest()).toEqual([34_000, 33_000, 32_000]);
  });
});
