import { DescribeServicesCommand, DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { LoadHistory } from '../../src/controller/decide/load-trend';
import { ScrapeResult, ScrapeTarget } from '../../src/controller/read/scraper';
import { StubStatus } from '../../src/controller/read/stub-status';
import { TaskCatalog } from '../../src/controller/read/task-catalog';
import { RequestCounters } from '../../src/controller/read/task-metric';
import { StateStore } from '../../src/controller/state-store';
import { runTick, TickDeps } from '../../src/controller/tick';
import { subjectLine } from '../../src/controller/tick-result';
import { controllerConfig } from '../support/controller-config-fixture';
import { DynaliteServer } from '../support/dynalite-server';

const config = controllerConfig({ minTasks: 2, maxTasks: 20, maxScaleOutStep: 20, scaleInEnabled: true, scaleInWindowSeconds: 30 });
const START = Date.parse('2026-11-28T10:00:00.000Z');
const ecsMock = mockClient(ECSClient);
let dynalite: DynaliteServer;
let keyCounter = 0;

beforeAll(async () => {
  dynalite = await DynaliteServer.start();
  await dynalite.createStateTable('state');
});
afterAll(() => dynalite.stop());
beforeEach(() => ecsMock.reset());

/**
 * A service with `n` running tasks (task0..), and `draining` more being stopped
 * (drain0..: desired STOPPED, still RUNNING).
 */
function cluster(n: number, desired = n, draining = 0) {
  const arn = (id: string) => `arn:aws:ecs:eu-west-1:123456789012:task/web/${id}`;
  const serving = Array.from({ length: n }, (_, i) => arn(`task${i}`));
  const stopping = Array.from({ length: draining }, (_, i) => arn(`drain${i}`));
  const described = (taskArn: string, i: number, desiredStatus: string) =>
    ({ taskArn, lastStatus: 'RUNNING', desiredStatus, attachments: [{ details: [{ name: 'privateIPv4Address', value: `10.0.${desiredStatus === 'STOPPED' ? 1 : 0}.${i}` }] }] });
  ecsMock.on(DescribeServicesCommand).resolves({ services: [{ status: 'ACTIVE', desiredCount: desired, runningCount: n, pendingCount: Math.max(0, desired - n) }] });
  ecsMock.on(ListTasksCommand, { desiredStatus: 'RUNNING' }).resolves({ taskArns: serving });
  ecsMock.on(ListTasksCommand, { desiredStatus: 'STOPPED' }).resolves({ taskArns: stopping });
  ecsMock.on(DescribeTasksCommand).resolves({
    tasks: [...serving.map((a, i) => described(a, i, 'RUNNING')), ...stopping.map((a, i) => described(a, i, 'STOPPED'))],
  });
}

const page = (active: number): StubStatus => ({ active, accepts: 100, handled: 100, requests: 500, reading: 0, writing: 1, waiting: active - 1 });

function deps(pages: (t: ScrapeTarget) => ScrapeResult, clock: { now: number }): TickDeps {
  return {
    ecs: new ECSClient({}),
    store: new StateStore(dynalite.client(), 'state', `service#${++keyCounter}`),
    scrape: async targets => targets.map(pages),
    now: () => clock.now,
    counters: new RequestCounters(),
    catalog: new TaskCatalog(0),
  };
}

const ok = (active: number) => (t: ScrapeTarget): ScrapeResult => ({ taskId: t.taskId, ok: true, status: page(active), ms: 5, at: 0 });
const failed = (t: ScrapeTarget, reason = 'no answer within 1000 ms'): ScrapeResult => ({ taskId: t.taskId, ok: false, reason, ms: 1000, at: 0 });
const event = (runId = 'run-1', startedAt = START) => ({ runId, runStartedAt: new Date(startedAt).toISOString() });

describe('runTick under the predictive policy', () => {
  const predictive = controllerConfig({
    minTasks: 2,
    maxTasks: 20,
    maxScaleOutStep: 20,
    policy: { type: 'predictive', metric: 'ACTIVE_CONNECTIONS', targetPerTask: 10, startDelaySeconds: 60 },
  });

  /** Ticks every 3 s with the load rising by 4 connections a tick (20, 24, 28, ...). */
  async function rampTicks(d: TickDeps, ticks: number) {
    const results = [];
    for (let k = 0; k < ticks; k++) {
      const now = START + 1000 + k * 3000;
      results.push((await runTick(predictive, event(), { ...d, now: () => now, scrape: async targets => targets.map(ok(11 + 2 * k)) })).result);
    }
    return results;
  }

  test('a rising load: from the sixth reading on, asks for what the load will need a start delay (and a tick) ahead', async () => {
    cluster(2);
    const results = await rampTicks({ ...deps(ok(1), { now: 0 }), loadHistory: new LoadHistory() }, 8);
    // Five readings are never a trend: target tracking's answer.
    results.slice(0, 5).forEach((r, k) => {
      expect(r.figures.projectedTotal).toBeUndefined();
      expect(r.desiredCount).toBe(Math.max(2, Math.ceil((20 + 4 * k) / 10)));
    });
    // Then 1.33/s, 63 s ahead (60 s configured, no task seen starting yet, plus the interval).
    const sixth = results[5];
    expect(sixth.figures).toMatchObject({ total: 40, lookAheadSeconds: 63 });
    expect(sixth.figures.projectedTotal).toBeCloseTo(40 + (4 / 3) * 63);
    expect(sixth).toMatchObject({ action: 'SCALE_OUT', desiredCount: 13 });
    expect(sixth.reason).toBe('load 40 asks for 13 tasks, rising 1.33/s to 124 in 63 s (4 for the load now), 2 desired');
  });

  test('looks ahead by the start delay the tasks took, never longer than configured', async () => {
    const arn = (id: string) => `arn:aws:ecs:eu-west-1:123456789012:task/web/${id}`;
    const started = (i: number, seconds: number) => ({
      taskArn: arn(`task${i}`),
      lastStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
      createdAt: new Date(START - 600_000),
      startedAt: new Date(START - 600_000 + seconds * 1000),
      attachments: [{ details: [{ name: 'privateIPv4Address', value: `10.0.0.${i}` }] }],
    });
    ecsMock.on(DescribeServicesCommand).resolves({ services: [{ status: 'ACTIVE', desiredCount: 2, runningCount: 2, pendingCount: 0 }] });
    ecsMock.on(ListTasksCommand, { desiredStatus: 'RUNNING' }).resolves({ taskArns: [arn('task0'), arn('task1')] });
    ecsMock.on(ListTasksCommand, { desiredStatus: 'STOPPED' }).resolves({ taskArns: [] });
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [started(0, 30), started(1, 34)] });
    const results = await rampTicks({ ...deps(ok(1), { now: 0 }), loadHistory: new LoadHistory() }, 6);
    expect(results[5].figures.lookAheadSeconds).toBe(35);
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [started(0, 300), started(1, 300)] });
    const slow = await rampTicks({ ...deps(ok(1), { now: 0 }), loadHistory: new LoadHistory() }, 6);
    expect(slow[5].figures.lookAheadSeconds).toBe(63);
  });

  test('an incomplete tick adds no reading: a lower bound would look like a fall', async () => {
    cluster(2);
    const history = new LoadHistory();
    const d = { ...deps(ok(1), { now: 0 }), loadHistory: history };
    await rampTicks(d, 3);
    const now = START + 1000 + 3 * 3000;
    const scrape = async (targets: readonly ScrapeTarget[]) => [ok(50)(targets[0]), failed(targets[1])];
    const { result } = await runTick(predictive, event(), { ...d, now: () => now, scrape });
    expect(history.size).toBe(3);
    expect(result.figures.projectedTotal).toBeUndefined();
  });
});

describe('runTick', () => {
  test('scales out on a surge, with the figures and an SNS message', async () => {
    cluster(2);
    const { result } = await runTick(config, event(), deps(ok(51), { now: START + 1000 }));
    expect(result).toMatchObject({
      action: 'SCALE_OUT',
      desiredCount: 10,
      previousDesiredCount: 2,
      continue: true,
      notify: true,
      subject: 'web scales out: 2 -> 10 tasks',
      figures: { total: 100, perTask: 50, scraped: 2, failed: 0, running: 2 },
    });
    expect(result.message).toMatch(/^web scales out from 2 to 10 tasks: load 100 asks for 10 tasks, 2 desired\.$/);
  });

  test('holds, and never scales in, when a task answers with garbage', async () => {
    cluster(4, 10);
    const d = deps(t => (t.taskId === 'task0' ? { taskId: t.taskId, ok: false, reason: 'not a stub_status page', ms: 3, at: 0 } : ok(1)(t)), { now: START + 1000 });
    for (let i = 0; i < 30; i++) {
      const clock = START + 1000 + i * 3000;
      const { result, failures } = await runTick(config, event(), { ...d, now: () => clock });
      expect(result.action).toBe('HOLD');
      expect(failures).toEqual([{ taskId: 'task0', reason: 'not a stub_status page' }]);
    }
  });

  test('scales in only after the window of low load, at most halving, then waits a whole window again', async () => {
    cluster(10);
    const d = deps(ok(1), { now: 0 });
    const results = [];
    for (let i = 0; i <= 24; i++) {
      const now = START + 1000 + i * 3000;
      results.push((await runTick(config, event(), { ...d, now: () => now })).result);
    }
    // The 30-second window fills after 10 ticks: the 11th may scale in, to half the desired count.
    const first = results.findIndex(r => r.action === 'SCALE_IN');
    expect(first).toBeGreaterThanOrEqual(10);
    expect(results[first]).toMatchObject({ action: 'SCALE_IN', desiredCount: 5 });
    // The next scale-in (the ECS mock still says 10) waits for a whole new window.
    const second = results.findIndex((r, i) => i > first && r.action === 'SCALE_IN');
    expect(second - first).toBeGreaterThanOrEqual(10);
    expect(results.slice(first + 1, second).every(r => r.action === 'HOLD')).toBe(true);
  });

  test('an older run ends itself once a newer one holds the lease', async () => {
    cluster(2);
    const d = deps(ok(1), { now: 0 });
    await runTick(config, event('old', START), { ...d, now: () => START + 61_000 });
    await runTick(config, event('new', START + 60_000), { ...d, now: () => START + 61_500 });
    const old = await runTick(config, event('old', START), { ...d, now: () => START + 64_000 });
    expect(old.result).toMatchObject({ action: 'HOLD', continue: false, reason: 'run new (newer) drives the service' });
  });

  test('a run stops at its deadline', async () => {
    cluster(2);
    const { result } = await runTick(config, event(), deps(ok(1), { now: START + 90_000 }));
    expect(result).toMatchObject({ action: 'HOLD', continue: false, reason: 'the run reached its deadline' });
  });

  test('a missing service ends the run with the reason, without scaling', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: 'MISSING' }] });
    const { result } = await runTick(config, event(), deps(ok(1), { now: START + 1000 }));
    expect(result).toMatchObject({ action: 'HOLD', continue: false, reason: expect.stringContaining('not found') });
  });

  test('ECS throttling holds and keeps the run going', async () => {
    ecsMock.on(DescribeServicesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client' }));
    const { result } = await runTick(config, event(), deps(ok(1), { now: START + 1000 }));
    expect(result).toMatchObject({ action: 'HOLD', continue: true, reason: expect.stringContaining('ThrottlingException') });
  });

  test('other ECS errors fail the tick loudly (the state machine counts them)', async () => {
    ecsMock.on(DescribeServicesCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException', $fault: 'client' }));
    await expect(runTick(config, event(), deps(ok(1), { now: START + 1000 }))).rejects.toThrow('User is not authorized');
  });

  test('a conflicting write by another run makes the tick hold', async () => {
    cluster(2);
    const d = deps(ok(51), { now: 0 });
    const racing = d.store;
    const store = Object.create(racing) as StateStore;
    store.save = async (state, version) => {
      await racing.save({ ...state, lease: { runId: 'other', startedAt: START } }, version); // someone else wins the race
      return racing.save(state, version);
    };
    const { result } = await runTick(config, event(), { ...d, store, now: () => START + 1000 });
    expect(result).toMatchObject({ action: 'HOLD', reason: 'another run updated the state during this tick' });
  });

  test('dry run notifies a decision once, not on every tick', async () => {
    cluster(2);
    const d = deps(ok(51), { now: 0 });
    const dry = { ...config, dryRun: true };
    const first = await runTick(dry, event(), { ...d, now: () => START + 1000 });
    const second = await runTick(dry, event(), { ...d, now: () => START + 4000 });
    expect(first.result).toMatchObject({ action: 'SCALE_OUT', notify: true, subject: 'web would scale out: 2 -> 10 tasks' });
    expect(first.result.message).toMatch(/^\[dry run\] web would scale out/);
    expect(second.result).toMatchObject({ action: 'SCALE_OUT', notify: false });
  });

  test('requests per second: the first tick only reads the counters', async () => {
    cluster(2);
    const rps = { ...config, policy: { type: 'targetTracking' as const, metric: 'REQUESTS_PER_SECOND' as const, targetPerTask: 50 } };
    let requests = 1000;
    let at = START + 1000;
    const d = deps(t => ({ taskId: t.taskId, ok: true, status: { ...page(1), requests }, ms: 0, at }), { now: 0 });
    const first = await runTick(rps, event(), { ...d, now: () => START + 1000 });
    requests += 3 * 200 + 1; // 200 rps for 3 seconds on each task, plus the status request
    at = START + 4000;
    const second = await runTick(rps, event(), { ...d, now: () => START + 4000 });
    expect(first.result).toMatchObject({ action: 'HOLD', reason: 'first reading of the request counters: no rate yet' });
    expect(second.result).toMatchObject({ action: 'SCALE_OUT', desiredCount: 8, figures: { total: 400 } });
  });

  test('rejects a malformed event', async () => {
    await expect(runTick(config, { runId: '', runStartedAt: 'x' }, deps(ok(1), { now: START }))).rejects.toThrow(/runId and an ISO runStartedAt/);
  });
});

test('ticks that change nothing skip the DynamoDB write', async () => {
  cluster(2);
  const d = deps(ok(1), { now: 0 });
  const saves: number[] = [];
  const store = Object.create(d.store) as StateStore;
  store.save = async (state, version) => {
    saves.push(version);
    return d.store.save(state, version);
  };
  // 3-second ticks in 10-second buckets: the first tick writes the lease, then only a new bucket does.
  for (let i = 0; i < 10; i++) {
    await runTick({ ...config, scaleInWindowSeconds: 300 }, event(), { ...d, store, now: () => START + 1000 + i * 3000 });
  }
  expect(saves.length).toBeGreaterThanOrEqual(2);
  expect(saves.length).toBeLessThanOrEqual(5);
});

describe('runTick: what issue 9 found', () => {
  const rps = { ...config, maxTasks: 40, maxScaleOutStep: 40, policy: { type: 'targetTracking' as const, metric: 'REQUESTS_PER_SECOND' as const, targetPerTask: 10 } };

  test('scales out on the lower bound when most scrapes fail (6 of 10 time out, 4 carry 300 each)', async () => {
    cluster(10);
    const busy = new Set(['task0', 'task1', 'task2', 'task3']);
    const scrape = (t: ScrapeTarget) => (busy.has(t.taskId) ? ok(301)(t) : failed(t));
    const { result } = await runTick({ ...config, maxTasks: 40, maxScaleOutStep: 40 }, event(), deps(scrape, { now: START + 1000 }));
    // 4 × 300 connections at 10 a task ask for 120 tasks: as many as the bounds allow.
    expect(result).toMatchObject({ action: 'SCALE_OUT', desiredCount: 40, figures: { scraped: 10, failed: 6, total: 1200 } });
  });

  test('draining tasks: their load counts, their failures do not, and nothing scales in while they drain', async () => {
    cluster(2, 2, 3);
    // Each draining task has 20 busy connections (long requests, WebSockets) and 30 idle keep-alive ones.
    const busy: StubStatus = { active: 51, accepts: 100, handled: 100, requests: 500, reading: 0, writing: 21, waiting: 30 };
    const d = deps(t => (t.taskId === 'drain2'
      ? failed(t, 'request: ECONNREFUSED')
      : t.taskId.startsWith('drain') ? { taskId: t.taskId, ok: true, status: busy, ms: 5, at: 0 } : ok(1)(t)), { now: 0 });
    const { result, failures } = await runTick(config, event(), { ...d, now: () => START + 1000 });
    // 2 draining tasks carry 20 busy connections each: 40 at 10 a task. Their idle ones
    // will reconnect elsewhere and are not counted twice.
    expect(result).toMatchObject({ action: 'SCALE_OUT', desiredCount: 4, figures: { total: 40, draining: 3, scraped: 2, failed: 0 } });
    expect(failures).toEqual([{ taskId: 'drain2', reason: 'request: ECONNREFUSED', draining: true }]);

    // Idle everywhere, scale-in on, a complete window: still no scale-in while a task drains.
    cluster(10, 10, 1);
    const idle = deps(ok(1), { now: 0 });
    for (let i = 0; i <= 24; i++) {
      const { result: r } = await runTick(config, event(), { ...idle, now: () => START + 1000 + i * 3000 });
      expect(r.action).toBe('HOLD');
    }
    cluster(10, 10, 0);
    const { result: after } = await runTick(config, event(), { ...idle, now: () => START + 1000 + 25 * 3000 });
    expect(after).toMatchObject({ action: 'SCALE_IN', desiredCount: 5 });
  });

  test('DescribeTasks failures count as unread tasks', async () => {
    cluster(4, 4);
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [0, 1].map(i => ({ taskArn: `arn:aws:ecs:eu-west-1:123456789012:task/web/task${i}`, lastStatus: 'RUNNING', desiredStatus: 'RUNNING', attachments: [{ details: [{ name: 'privateIPv4Address', value: `10.0.0.${i}` }] }] })),
      failures: [{ arn: 'arn:aws:ecs:eu-west-1:123456789012:task/web/task2', reason: 'MISSING' }],
    });
    const d = deps(ok(1), { now: START + 1000 });
    // A cold instance's first listing that could not describe every task reads them from the next tick.
    const first = await runTick(config, event(), d);
    expect(first.result).toMatchObject({ action: 'HOLD', reason: 'the first listing of 4 tasks took this tick (2 not described yet): they are read from the next' });
    expect(first.failures).toEqual([]);
    // From then on, a tick reads what it has: the tasks it could not describe are unread.
    const { result, failures } = await runTick(config, event(), d);
    expect(result.figures).toMatchObject({ scraped: 4, failed: 2 });
    expect(failures.map(f => f.reason)).toEqual(['DescribeTasks: MISSING', 'DescribeTasks: not in the answer']);
  });

  test('rates: a new run\'s first tick 0.2 s after the old run\'s last gives no rate and keeps the older baseline', async () => {
    cluster(20);
    let at = START + 1000;
    let requests = 1000;
    const d = deps(t => ({ taskId: t.taskId, ok: true, status: { ...page(1), requests }, ms: 0, at }), { now: 0 });
    await runTick(rps, event('old'), { ...d, now: () => at });
    // 0.2 s later, two arrivals on every task (10 req/s in that instant, above the 9 req/s they really carry).
    at += 200;
    requests += 2 + 1;
    const quick = await runTick(rps, event('new', START + 1100), { ...d, now: () => at });
    expect(quick.result).toMatchObject({ action: 'HOLD', reason: 'first reading of the request counters: no rate yet' });
    // 2.8 s later (3 s after the kept baseline): 27 requests a task in 3 s, 9 req/s, below the target.
    at += 2800;
    requests += 25 + 1;
    const next = await runTick(rps, event('new', START + 1100), { ...d, now: () => at });
    expect(next.result.figures.total).toBeCloseTo(20 * 9, 5);
    expect(next.result.action).toBe('HOLD');
  });

  test('rates: a tick whose scrapes all timed out does not cost the next tick its rate', async () => {
    cluster(2);
    let at = START + 1000;
    let requests = 1000;
    let down = false;
    const d = deps(t => (down ? failed(t) : { taskId: t.taskId, ok: true, status: { ...page(1), requests }, ms: 0, at }), { now: 0 });
    await runTick(rps, event(), { ...d, now: () => at });
    down = true;
    at += 3000;
    await runTick(rps, event(), { ...d, now: () => at });
    down = false;
    at += 3000;
    requests += 6 * 100 + 1;
    const { result } = await runTick(rps, event(), { ...d, now: () => at });
    // 200 req/s asks for 20 tasks; allowing for the noise of 1,200 requests counted over 6 s, at least 19.
    expect(result).toMatchObject({ action: 'SCALE_OUT', desiredCount: 19, figures: { total: 200 } });
    expect(result.reason).toMatch(/asks for 20 tasks \(at least 19 allowing for the rate's noise\)/);
  });

  test('rates: the readings are dated when each answer arrived, not when the scrape started', async () => {
    cluster(2);
    const d = deps(ok(1), { now: 0 });
    let requests = 1000;
    // task1's answer arrives 250 ms after task0's (queued behind the concurrency limit).
    const scrape = async (targets: readonly ScrapeTarget[]) => targets.map(t => ({
      taskId: t.taskId, ok: true as const, status: { ...page(1), requests }, ms: 5, at: now + (t.taskId === 'task1' ? 250 : 0),
    }));
    let now = START + 1000;
    await runTick(rps, event(), { ...d, scrape, now: () => now });
    expect(d.counters.get('task1')).toEqual([1000, START + 1250, 'run-1']);
    now += 3000;
    requests += 301;
    const { perTask } = await runTick(rps, event(), { ...d, scrape, now: () => now });
    // Both tasks served 300 requests between their two readings, each 3 s apart.
    expect(perTask.map(m => m.value)).toEqual([100, 100]);
  });

  test('the state item does not grow with the task count', async () => {
    cluster(500);
    const d = deps(t => ({ taskId: t.taskId, ok: true, status: { ...page(1), requests: 1000 }, ms: 0, at: START + 1000 }), { now: 0 });
    let written = '';
    const store = Object.create(d.store) as StateStore;
    store.save = async (state, version) => {
      written = JSON.stringify(state);
      return d.store.save(state, version);
    };
    await runTick(rps, event(), { ...d, store, now: () => START + 1000 });
    expect(written.length).toBeLessThan(400);
    expect(d.counters.size).toBe(500);
  });

  test('overlapping runs: a run that read ECS before a peer\'s scale-out landed does not undo it', async () => {
    // Run A scaled 10 -> 30; run B still reads 10 from ECS and alone would ask for 25.
    cluster(10, 10);
    const d = deps(ok(301), { now: 0 });
    const wide = { ...config, maxTasks: 40, maxScaleOutStep: 40 };
    const a = await runTick(wide, event('A', START), { ...d, now: () => START + 1000 });
    expect(a.result).toMatchObject({ action: 'SCALE_OUT', desiredCount: 40 });
    const b = await runTick(wide, event('B', START + 500), { ...deps(ok(26), { now: 0 }), store: d.store, now: () => START + 1800 });
    expect(b.result).toMatchObject({ action: 'SCALE_OUT', desiredCount: 40, reason: expect.stringContaining('run A set 40 tasks 1 s ago, which stands') });
  });

  test('an acting tick always writes, so that the conditional write fences two runs even on the same clock', async () => {
    cluster(2);
    const d = deps(ok(51), { now: 0 });
    const saves: number[] = [];
    const store = Object.create(d.store) as StateStore;
    store.save = async (state, version) => {
      saves.push(version);
      return d.store.save(state, version);
    };
    // The mock ECS never applies the scale-out, so each tick decides the same action on the same clock.
    await runTick(config, event(), { ...d, store, now: () => START + 1000 });
    await runTick(config, event(), { ...d, store, now: () => START + 1000 });
    expect(saves).toHaveLength(2);
  });

  test('a clock that steps back keeps the spike: no scale-in seconds later', async () => {
    cluster(10);
    let load = 1;
    const d = deps(t => ok(load)(t), { now: 0 });
    const cfg = { ...config, scaleInWindowSeconds: 30 };
    let r;
    for (let i = 0; i < 12; i++) r = await runTick(cfg, event(), { ...d, now: () => START + 1000 + i * 3000 });
    // A spike on the last tick (it asks for more than the 10 tasks; the mock never applies it), then the clock steps back a second.
    load = 15;
    await runTick(cfg, event(), { ...d, now: () => START + 1000 + 12 * 3000 });
    load = 1;
    r = await runTick(cfg, event(), { ...d, now: () => START + 1000 + 12 * 3000 - 1000 });
    expect(r!.result.action).toBe('HOLD');
    r = await runTick(cfg, event(), { ...d, now: () => START + 1000 + 13 * 3000 });
    expect(r.result.action).toBe('HOLD');
  });

  test('SNS subjects stay under 100 characters', () => {
    const long = subjectLine(`${'x'.repeat(255)} scales out: 1 -> 2 tasks`);
    expect(long.length).toBe(99);
    expect(subjectLine('web scales out: 2 -> 10 tasks')).toBe('web scales out: 2 -> 10 tasks');
  });
});
