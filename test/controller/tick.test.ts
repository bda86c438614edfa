import { DescribeServicesCommand, DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { ScrapeResult, ScrapeTarget } from '../../src/controller/scraper';
import { StateStore } from '../../src/controller/state-store';
import { StubStatus } from '../../src/controller/stub-status';
import { runTick, TickDeps } from '../../src/controller/tick';
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

/** A service with `n` running tasks whose pages say `active` connections each (own request included). */
function cluster(n: number, desired = n) {
  const arns = Array.from({ length: n }, (_, i) => `arn:aws:ecs:eu-west-1:123456789012:task/web/task${i}`);
  ecsMock.on(DescribeServicesCommand).resolves({ services: [{ status: 'ACTIVE', desiredCount: desired, runningCount: n, pendingCount: desired - n }] });
  ecsMock.on(ListTasksCommand).resolves({ taskArns: arns });
  ecsMock.on(DescribeTasksCommand).resolves({
    tasks: arns.map((taskArn, i) => ({ taskArn, lastStatus: 'RUNNING', attachments: [{ details: [{ name: 'privateIPv4Address', value: `10.0.0.${i}` }] }] })),
  });
}

const page = (active: number): StubStatus => ({ active, accepts: 100, handled: 100, requests: 500, reading: 0, writing: 1, waiting: active - 1 });

function deps(pages: (t: ScrapeTarget) => ScrapeResult, clock: { now: number }): TickDeps {
  return {
    ecs: new ECSClient({}),
    store: new StateStore(dynalite.client(), 'state', `service#${++keyCounter}`),
    scrape: async targets => targets.map(pages),
    now: () => clock.now,
  };
}

const ok = (active: number) => (t: ScrapeTarget): ScrapeResult => ({ taskId: t.taskId, ok: true, status: page(active), ms: 5 });
const event = (runId = 'run-1', startedAt = START) => ({ runId, runStartedAt: new Date(startedAt).toISOString() });

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
    const d = deps(t => (t.taskId === 'task0' ? { taskId: t.taskId, ok: false, reason: 'not a stub_status page', ms: 3 } : ok(1)(t)), { now: START + 1000 });
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
    const d = deps(t => ({ taskId: t.taskId, ok: true, status: { ...page(1), requests }, ms: 0 }), { now: 0 });
    const first = await runTick(rps, event(), { ...d, now: () => START + 1000 });
    requests += 3 * 200 + 1; // 200 rps for 3 seconds on each task, plus the status request
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
