/**
 * A queue worker's reaction from zero: from the first message sent to the first UpdateService
 * call, at 3 s and 1 s intervals, on the local cluster (the synthesized state machine, the
 * bundled controller, moto's SQS server, worker processes). Each step starts from zero tasks
 * and an empty queue, and sends one message at a random phase of the tick.
 *
 * npx ts-node -P tsconfig.dev.json bench/queue-reaction.ts [steps]
 */
import { PurgeQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { Duration } from 'aws-cdk-lib';
import { fixed, percentile, runBenchmark, writeResults } from './bench-results';
import { ScalingMetric, ScalingPolicy } from '../src';
import { installLoopbackGuard } from '../test/support/aws-loopback';
import { LocalCluster } from '../test/support/local-cluster';
import { QueueWorkers } from '../test/support/queue-worker-task';
import { SqsServer } from '../test/support/sqs-server';
import { sleep, waitFor } from '../test/support/wait-for';

const STEPS = Number(process.argv[2] ?? 12);

async function measure(server: SqsServer, interval: number): Promise<number[]> {
  const url = await server.createQueue(`reaction-${interval}-${Date.now()}`);
  const cluster = await LocalCluster.start({
    autoscaler: {
      interval: Duration.seconds(interval),
      policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.QUEUE_MESSAGES, targetPerTask: 10 }),
      minTasks: 0,
      maxTasks: 10,
    },
    queue: { endpoint: server.endpoint, url },
    initialTasks: 0,
    startDelayMs: 300,
    tasks: async () => ({ runtime: new QueueWorkers(server.endpoint, url, 50), loadPort: 0 }),
  });
  const { ecs, loop } = cluster;
  const reactions: number[] = [];
  try {
    loop.startSchedule();
    await waitFor('the first tick', () => loop.ticks.length > 0, 30_000);
    for (let i = 0; i < STEPS; i++) {
      await server.client.send(new PurgeQueueCommand({ QueueUrl: url }));
      await ecs.resetTo(0);
      const resetAt = Date.now();
      await waitFor('an idle tick at zero', () => loop.ticks.some(t => t.seenAt > resetAt + 200 && t.action === 'HOLD' && t.previousDesiredCount === 0 && t.queue?.visible === 0 && t.queue?.inFlight === 0), 60_000, 5);
      await sleep(Math.random() * interval * 1000);
      const callsBefore = ecs.callsOf('UpdateService').length;
      const sentAt = Date.now();
      await server.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `step ${i}` }));
      const call = await waitFor('UpdateService', () => ecs.callsOf('UpdateService')[callsBefore], 30_000, 5);
      reactions.push((call.at - sentAt) / 1000);
      process.stdout.write(`  ${interval} s interval, step ${i + 1}/${STEPS}: ${fixed(reactions[reactions.length - 1])} s\n`);
    }
    return reactions;
  } finally {
    await cluster.stop();
  }
}

async function main() {
  installLoopbackGuard();
  const server = await SqsServer.start();
  const rows: string[] = [];
  try {
    for (const interval of [3, 1]) {
      const r = await measure(server, interval);
      rows.push(`| ${interval} s | ${r.length} | ${fixed(percentile(r, 50))} | ${fixed(percentile(r, 95))} | ${fixed(Math.max(...r))} | ${fixed(interval / 2)} |`);
    }
  } finally {
    await server.stop();
  }
  writeResults('Queue reaction from zero', `npx ts-node -P tsconfig.dev.json bench/queue-reaction.ts ${STEPS}`, [
    'Seconds from the first message sent to an empty queue with no task running to the first UpdateService call (to one task),',
    'sent at random phases of the tick, on the local cluster with moto\'s SQS server (its counters are exact and immediate; SQS\'s',
    'standard-queue counts are approximate, and a message sent may take a moment to show in them). The average wait for',
    'the next tick is half an interval.',
    '',
    '| interval | steps | p50 s | p95 s | max s | half an interval s |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    'For comparison (documented periods, not measured here): SQS publishes its CloudWatch metrics every minute, so ECS target',
    'tracking on the backlog acts minutes after the first message, and KEDA\'s aws-sqs-queue scaler polls every 30 s by default.',
  ].join('\n'));
}

runBenchmark(main);
