import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { Duration } from 'aws-cdk-lib';
import { ScalingMetric, ScalingPolicy } from '../../src';
import { LocalCluster } from '../support/local-cluster';
import { QueueWorkers } from '../support/queue-worker-task';
import { SqsServer } from '../support/sqs-server';
import { waitFor } from '../support/wait-for';

let sqs: SqsServer | undefined;
let cluster: LocalCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
  await sqs?.stop();
  sqs = undefined;
});

/** Sends `n` messages in batches of 10, as a producer's burst. */
async function burst(server: SqsServer, url: string, n: number) {
  for (let i = 0; i < n; i += 10) {
    const entries = Array.from({ length: Math.min(10, n - i) }, (_, k) => ({ Id: `m${i + k}`, MessageBody: `job ${i + k}` }));
    await server.client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
  }
}

/** A worker service at zero tasks, read through its queue on a real SQS-compatible server (moto). */
async function workerCluster(scaleIn: boolean): Promise<{ cluster: LocalCluster; server: SqsServer; url: string; workers: QueueWorkers }> {
  const server = await SqsServer.start();
  sqs = server;
  const url = await server.createQueue(`jobs-${Date.now()}`);
  const workers = new QueueWorkers(server.endpoint, url, 150);
  const c = await LocalCluster.start({
    autoscaler: {
      interval: Duration.seconds(1),
      policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.QUEUE_MESSAGES, targetPerTask: 5 }),
      minTasks: 0,
      maxTasks: 10,
      disableScaleIn: !scaleIn,
      scaleInWindow: Duration.seconds(60),
    },
    queue: { endpoint: server.endpoint, url },
    initialTasks: 0,
    startDelayMs: 1000,
    tasks: async () => ({ runtime: workers, loadPort: 0 }),
  });
  cluster = c;
  return { cluster: c, server, url, workers };
}

test('from zero: a burst scales out on the first tick that sees it, the workers drain it, and with scale-in off the service stays', async () => {
  const { cluster: c, server, url, workers } = await workerCluster(false);
  const { ecs, loop } = c;
  loop.startSchedule();
  await waitFor('three ticks at zero tasks', () => loop.ticks.filter(t => t.action === 'HOLD' && t.previousDesiredCount === 0).length >= 3, 20_000);
  expect(loop.ticks.every(t => t.total === 0 && t.failed === 0)).toBe(true);

  const sentAt = Date.now();
  await burst(server, url, 40);
  const firstCall = await waitFor('the first UpdateService call', () => ecs.callsOf('UpdateService')[0], 20_000);
  // The deciding tick's line follows its call.
  await loop.decidingTick(firstCall);
  const seeing = loop.ticks.filter(t => t.seenAt > sentAt && t.total > 0);
  // The first tick that saw the messages decided, and the call carries its count: 40 / 5 = 8.
  expect(seeing[0]).toMatchObject({ action: 'SCALE_OUT', previousDesiredCount: 0, desiredCount: 8, total: 40 });
  expect(firstCall.input.desiredCount).toBe(8);
  // Notify follows Scale: the notice arrives after the call.
  const notice = await waitFor('the notice', () => c.sns!.published[0], 10_000);
  expect(notice).toMatchObject({ subject: expect.stringMatching(/^web scales out: 0 -> 8 tasks$/) });

  await waitFor('the backlog drained by the workers', () => workers.processed >= 40, 60_000);
  const drainedAt = Date.now();
  await waitFor('5 ticks after the drain', () => loop.ticks.filter(t => t.seenAt > drainedAt + 500).length >= 5, 20_000);
  expect(loop.ticks.filter(t => t.seenAt > drainedAt + 500).every(t => t.action === 'HOLD' && /scale-in is disabled/.test(t.reason))).toBe(true);
  expect(ecs.desiredCount).toBe(8);
}, 180_000);

test('with scale-in on: back to zero after a whole window of nothing, never while a message is in flight', async () => {
  const { cluster: c, server, url, workers } = await workerCluster(true);
  const { ecs, loop } = c;
  loop.startSchedule();
  await waitFor('a tick at zero tasks', () => loop.ticks.some(t => t.previousDesiredCount === 0), 20_000);
  await burst(server, url, 20);
  await waitFor('4 desired tasks', () => ecs.desiredCount === 4, 20_000);
  await waitFor('the backlog drained', () => workers.processed >= 20, 60_000);
  const drainedAt = Date.now();
  const toZero = await waitFor('the scale-in to zero', () => ecs.callsOf('UpdateService').find(call => call.input.desiredCount === 0), 180_000, 200)
    .catch(err => {
      // What held it, for the failure's message.
      throw new Error(`${(err as Error).message}; the last ticks: ${JSON.stringify(loop.ticks.slice(-3).map(t => [t.action, t.desiredCount, t.reason, t.queue]))}`);
    });
  // Not before the 60 s window had seen nothing at all.
  expect(toZero.at - drainedAt).toBeGreaterThan(55_000);
  const deciding = await loop.decidingTick(toZero);
  expect(deciding).toMatchObject({ desiredCount: 0, reason: 'nothing to do for the whole window: no task needed' });
  // Every tick that read the queue in the window before it found it empty, nothing in flight.
  const window = loop.ticks.filter(t => t.seenAt > toZero.at - 55_000 && t.seenAt <= toZero.at && t.queue);
  expect(window.length).toBeGreaterThan(40);
  expect(window.filter(t => t.queue!.visible !== 0 || t.queue!.inFlight !== 0).map(t => [t.seenAt - toZero.at, t.queue])).toEqual([]);
  await waitFor('no task left', () => ecs.runningTasks.length === 0, 20_000);
}, 300_000);
