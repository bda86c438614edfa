import { DescribeServicesCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { GetQueueAttributesCommand, QueueDoesNotExist, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { ControllerConfig } from '../../src/controller/controller-config';
import { queueReadingOf } from '../../src/controller/read/queue-reading';
import { TaskCatalog } from '../../src/controller/read/task-catalog';
import { RequestCounters } from '../../src/controller/read/task-metric';
import { StateStore } from '../../src/controller/state-store';
import { runTick, TickDeps } from '../../src/controller/tick';
import { controllerConfig } from '../support/controller-config-fixture';
import { DynaliteServer } from '../support/dynalite-server';

/** A queue URL on loopback (the SQS client is mocked; nothing is sent). */
const QUEUE_URL = 'http://127.0.0.1:9/123456789012/jobs';
const START = Date.parse('2026-12-07T10:00:00.000Z');
const ecsMock = mockClient(ECSClient);
const sqsMock = mockClient(SQSClient);
let dynalite: DynaliteServer;
let keyCounter = 0;

/** A queue worker: 0 to 10 tasks, a target of 5 messages a task, scale-in on with a 60 s window. */
const queueConfig = (o: Partial<ControllerConfig> = {}) => controllerConfig({
  minTasks: 0,
  maxTasks: 10,
  maxScaleOutStep: 10,
  intervalSeconds: 3,
  scaleInEnabled: true,
  scaleInWindowSeconds: 60,
  statusPort: 0,
  source: { type: 'sqsQueue', queueUrl: QUEUE_URL, countInFlight: true, countDelayed: false },
  policy: { type: 'targetTracking', metric: 'QUEUE_MESSAGES', targetPerTask: 5 },
  // One run for the whole test: ticks over 4 minutes.
  runSeconds: 290,
  ...o,
});

beforeAll(async () => {
  dynalite = await DynaliteServer.start();
  await dynalite.createStateTable('state');
});
afterAll(() => dynalite.stop());
beforeEach(() => {
  ecsMock.reset();
  sqsMock.reset();
});

/** The service at `desired` tasks, all running. */
function service(desired: number) {
  ecsMock.on(DescribeServicesCommand).resolves({ services: [{ status: 'ACTIVE', desiredCount: desired, runningCount: desired, pendingCount: 0 }] });
  ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
}

function queue(visible: number, inFlight = 0, delayed = 0) {
  sqsMock.on(GetQueueAttributesCommand).resolves({
    Attributes: {
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
      ApproximateNumberOfMessagesDelayed: String(delayed),
    },
  });
}

function deps(clock: { now: number }): TickDeps {
  return {
    ecs: new ECSClient({}),
    sqs: new SQSClient({}),
    store: new StateStore(dynalite.client(), 'state', `queue#${++keyCounter}`),
    scrape: async () => {
      throw new Error('a queue worker\'s tasks are never scraped');
    },
    now: () => clock.now,
    counters: new RequestCounters(),
    catalog: new TaskCatalog(0),
  };
}

const event = { runId: 'run-1', runStartedAt: new Date(START).toISOString() };

/** Ticks every 3 s from START + 1 s; `each` sets the world before each tick. */
async function ticks(config: ControllerConfig, d: TickDeps, clock: { now: number }, n: number, each: (k: number) => void) {
  const results = [];
  for (let k = 0; k < n; k++) {
    clock.now = START + 1000 + k * 3000;
    each(k);
    results.push((await runTick(config, event, d)).result);
  }
  return results;
}

describe('the queue source, tick by tick', () => {
  test('from zero tasks, the first tick that sees messages scales out to the policy\'s count', async () => {
    service(0);
    queue(23);
    const clock = { now: START + 1000 };
    const r = (await runTick(queueConfig(), event, deps(clock))).result;
    expect(r).toMatchObject({ action: 'SCALE_OUT', previousDesiredCount: 0, desiredCount: 5, notify: true });
    expect(r.figures).toMatchObject({ total: 23, scraped: 1, failed: 0 });
    expect(sqsMock.commandCalls(GetQueueAttributesCommand)[0].args[0].input).toEqual({
      QueueUrl: QUEUE_URL,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    });
  });

  test('one message under a step policy whose first step is higher still starts one task', async () => {
    service(0);
    queue(1);
    const steps = { type: 'steps' as const, metric: 'QUEUE_MESSAGES' as const, steps: [{ threshold: 100, desiredTasks: 4 }] };
    const r = (await runTick(queueConfig({ policy: steps }), event, deps({ now: START + 1000 }))).result;
    expect(r).toMatchObject({ action: 'SCALE_OUT', desiredCount: 1 });
  });

  test('an empty queue at zero holds; delayed messages count only when asked', async () => {
    service(0);
    queue(0, 0, 40);
    expect((await runTick(queueConfig(), event, deps({ now: START + 1000 }))).result).toMatchObject({ action: 'HOLD', desiredCount: 0 });
    const counted = queueConfig({ source: { type: 'sqsQueue', queueUrl: QUEUE_URL, countInFlight: true, countDelayed: true } });
    expect((await runTick(counted, event, deps({ now: START + 1000 }))).result).toMatchObject({ action: 'SCALE_OUT', desiredCount: 8 });
  });

  test('to zero after a whole window of nothing, never sooner, and never with a message in flight (even uncounted)', async () => {
    service(2);
    const clock = { now: 0 };
    const d = deps(clock);
    // 60 s window at 3 s: an empty queue for 20 ticks, then the window is whole.
    const empty = await ticks(queueConfig(), d, clock, 24, () => queue(0));
    const firstIn = empty.findIndex(r => r.action === 'SCALE_IN');
    expect(firstIn).toBeGreaterThanOrEqual(19);
    expect(empty[firstIn]).toMatchObject({ desiredCount: 0, reason: 'nothing to do for the whole window: no task needed' });

    service(2);
    const uncounted = queueConfig({ source: { type: 'sqsQueue', queueUrl: QUEUE_URL, countInFlight: false, countDelayed: false } });
    const busy = await ticks(uncounted, deps(clock), clock, 30, () => queue(0, 1));
    expect(busy.every(r => r.desiredCount >= 1)).toBe(true);
    expect(busy.some(r => r.action === 'SCALE_IN' && r.desiredCount === 1)).toBe(true);
  });

  test('counters that wobble (0 between readings of 500) never scale in', async () => {
    service(10);
    const clock = { now: 0 };
    const results = await ticks(queueConfig(), deps(clock), clock, 40, k => queue(k % 7 === 3 ? 0 : 500));
    expect(results.every(r => r.action !== 'SCALE_IN')).toBe(true);
  });

  test.each([
    ['throttled', () => sqsMock.on(GetQueueAttributesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))],
    ['denied', () => sqsMock.on(GetQueueAttributesCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }))],
    ['deleted', () => sqsMock.on(GetQueueAttributesCommand).rejects(new QueueDoesNotExist({ message: 'The specified queue does not exist.', $metadata: {} }))],
    ['a count missing', () => sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0' } })],
    ['a negative count', () => queue(-1)],
  ])('a queue read that is %s is unread: a failed read, a hold, no scale-in, never to zero', async (_name, fault) => {
    service(3);
    const clock = { now: 0 };
    const results = await ticks(queueConfig(), deps(clock), clock, 30, fault);
    for (const r of results) {
      expect(r).toMatchObject({ action: 'HOLD', desiredCount: 3 });
      expect(r.figures).toMatchObject({ scraped: 1, failed: 1 });
    }
    expect(results[0].reason).toMatch(/1 of 1 scrapes failed/);
  });
});

describe('queueReadingOf', () => {
  const source = { queueUrl: QUEUE_URL, countInFlight: true, countDelayed: false };
  test.each([
    [{ ApproximateNumberOfMessages: '7', ApproximateNumberOfMessagesNotVisible: '3', ApproximateNumberOfMessagesDelayed: '100' }, { ok: true, visible: 7, inFlight: 3, delayed: 100, total: 10 }],
    [{ ApproximateNumberOfMessages: 'x', ApproximateNumberOfMessagesNotVisible: '3', ApproximateNumberOfMessagesDelayed: '0' }, { ok: false }],
    [{ ApproximateNumberOfMessages: '1.5', ApproximateNumberOfMessagesNotVisible: '3', ApproximateNumberOfMessagesDelayed: '0' }, { ok: false }],
    [undefined, { ok: false }],
  ])('%j', (attributes, expected) => {
    expect(queueReadingOf(attributes as Record<string, string> | undefined, source)).toMatchObject(expected);
  });
});

describe('review findings', () => {
  test('a busy reading on a tick where ECS did not answer still holds the service off zero for the whole window', async () => {
    service(1);
    const clock = { now: 0 };
    const d = deps(clock);
    const results = await ticks(queueConfig(), d, clock, 60, k => {
      if (k === 15 || k === 16) {
        // ECS throttles while the queue holds 400 messages.
        ecsMock.on(DescribeServicesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $retryable: {} }));
        queue(400, 3);
      } else {
        service(1);
        queue(0);
      }
    });
    const toZero = results.findIndex(r => r.action === 'SCALE_IN' && r.desiredCount === 0);
    expect(toZero).toBeGreaterThan(0);
    // At least 60 s (20 ticks of 3 s) after the last busy reading (tick 16).
    expect((toZero - 16) * 3).toBeGreaterThanOrEqual(60);
  });

  test('from zero the notice names the load, not a minTasks nobody set', async () => {
    service(0);
    queue(23);
    const r = (await runTick(queueConfig(), event, deps({ now: START + 1000 }))).result;
    expect(r.message).toBe('web scales out from 0 to 5 tasks: load 23 asks for 5 tasks, 0 desired.');
  });

  test('at zero, messages in flight that are not counted are another consumer\'s: no scale-out', async () => {
    service(0);
    queue(0, 3);
    const uncounted = queueConfig({ source: { type: 'sqsQueue', queueUrl: QUEUE_URL, countInFlight: false, countDelayed: false } });
    expect((await runTick(uncounted, event, deps({ now: START + 1000 }))).result).toMatchObject({ action: 'HOLD', desiredCount: 0 });
  });

  test('a failed queue read with every read allowed to fail says nothing was read', async () => {
    service(2);
    sqsMock.on(GetQueueAttributesCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    const r = (await runTick(queueConfig({ maxFailedScrapeRatio: 1 }), event, deps({ now: START + 1000 }))).result;
    expect(r).toMatchObject({ action: 'HOLD', desiredCount: 2, reason: 'nothing was read this tick' });
  });
});
