/**
 * Reaction time by metric source: from a load step to the first UpdateService call, at the
 * default 3-second interval, on the local cluster (the synthesized state machine, the bundled
 * controller), for each source as its tasks run it here:
 * - the nginx proxy: a real nginx per task, load through it (as bench/reaction-time.ts);
 * - the task agent on connections: the app and the agent, as synthesized, in a network
 *   namespace per task, load straight to the app;
 * - the task agent on CPU: an HTTP/2 app burning CPU per stream, the task metadata endpoint
 *   emulated from its real processes, sampled every second, and every 10 s (one public Fargate
 *   capture shows samples 10 s apart; AWS does not document the period);
 * - Prometheus: the app's own prom-client gauge of requests in flight.
 *
 * npx ts-node -P tsconfig.dev.json bench/source-reaction.ts [steps]
 */
import { Duration } from 'aws-cdk-lib';
import { fixed, percentile, runBenchmark, writeResults } from './bench-results';
import { FastAutoscalerProps, MetricSource, ScalingMetric, ScalingPolicy } from '../src';
import { agentTasks } from '../test/support/agent-task';
import { installLoopbackGuard } from '../test/support/aws-loopback';
import { Http2Load } from '../test/support/h2-load';
import { LocalCluster, LocalClusterOptions } from '../test/support/local-cluster';
import { freePort } from '../test/support/nginx-task';
import { IN_FLIGHT_GAUGE, prometheusTasks } from '../test/support/prometheus-task';
import { sleep, waitFor } from '../test/support/wait-for';

const STEPS = Number(process.argv[2] ?? 12);
const INTERVAL = 3;

interface Source {
  readonly label: string;
  readonly options: () => Promise<LocalClusterOptions>;
  /** Starts the load; resolves when it reached the tasks (epoch ms). */
  readonly step: (c: LocalCluster, up: boolean) => Promise<number>;
}

const connections = (c: LocalCluster, up: boolean) => {
  const requested = Date.now();
  c.load.setConnections(up ? 60 : 0);
  return up ? waitFor('the load to reach the tasks', () => c.load.lastDealtAt >= requested && c.load.lastDealtAt, 5000, 5) : Promise.resolve(Date.now());
};

const base = (props: Partial<FastAutoscalerProps>): Partial<FastAutoscalerProps> => ({
  interval: Duration.seconds(INTERVAL),
  policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 10 }),
  ...props,
});

function cpuSource(statsSampleMs: number): Source {
  let h2: Http2Load | undefined;
  return {
    label: `task agent, CPU (stats sampled every ${statsSampleMs / 1000} s)`,
    options: async () => ({
      autoscaler: base({
        metricSource: MetricSource.taskAgent(),
        policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.CPU_UTILIZATION, targetPerTask: 60 }),
      }),
      tasks: async (template, app) => ({ runtime: agentTasks(template, { mode: 'h2', port: app.port, ms: 20, statsSampleMs }), loadPort: app.port }),
    }),
    step: async (c, up) => {
      h2 ??= new Http2Load(c.ecs, c.app.port);
      h2.setStreamsPerTask(up ? 1 : 0);
      if (!up) {
        // The burn must leave the stats (two samples: the one that spans its end, and the next) before the next step.
        await sleep(2 * statsSampleMs + 1000);
      }
      return Date.now();
    },
  };
}

const SOURCES: Source[] = [
  { label: 'nginx proxy, connections', options: async () => ({ autoscaler: base({}) }), step: connections },
  {
    label: 'task agent, connections',
    options: async () => ({
      autoscaler: base({ metricSource: MetricSource.taskAgent() }),
      tasks: async (template, app) => ({ runtime: agentTasks(template, { mode: 'http1', port: app.port, ms: 100 }), loadPort: app.port }),
    }),
    step: connections,
  },
  {
    label: 'Prometheus, in-flight gauge',
    options: async () => {
      const metricsPort = await freePort('127.0.0.1');
      return {
        autoscaler: base({
          metricSource: MetricSource.prometheus({ port: metricsPort }),
          policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.prometheusGauge(IN_FLIGHT_GAUGE), targetPerTask: 10 }),
        }),
        tasks: async (_template, app) => ({ runtime: prometheusTasks({ appPort: app.port, metricsPort, metricsPath: '/metrics', delayMs: 100 }), loadPort: app.port }),
      };
    },
    step: connections,
  },
  cpuSource(1000),
  cpuSource(10_000),
];

async function measure(source: Source): Promise<number[]> {
  const cluster = await LocalCluster.start({ ...(await source.options()), startDelayMs: 300, appDelayMs: 100 });
  const { ecs, loop } = cluster;
  const reactions: number[] = [];
  try {
    loop.startSchedule();
    await waitFor('the first tick', () => loop.ticks.length > 0, 30_000);
    for (let i = 0; i < STEPS; i++) {
      await source.step(cluster, false);
      await ecs.resetTo(2);
      const resetAt = Date.now();
      await waitFor('an idle tick at 2 tasks', () => loop.ticks.some(t => t.seenAt > resetAt + 500 && t.action === 'HOLD' && t.previousDesiredCount === 2
        && Object.values(t.perTaskValues).filter(v => v !== null).length === 2), 60_000, 5);
      await sleep(Math.random() * INTERVAL * 1000);
      const callsBefore = ecs.callsOf('UpdateService').length;
      const stepAt = await source.step(cluster, true);
      const call = await waitFor('UpdateService', () => ecs.callsOf('UpdateService')[callsBefore], 60_000, 5);
      reactions.push((call.at - stepAt) / 1000);
      process.stdout.write(`  ${source.label}, step ${i + 1}/${STEPS}: ${fixed(reactions[reactions.length - 1])} s\n`);
    }
    return reactions;
  } finally {
    await source.step(cluster, false).catch(() => undefined);
    await cluster.stop();
  }
}

async function main() {
  installLoopbackGuard();
  const rows: string[] = [];
  for (const source of SOURCES) {
    const r = await measure(source);
    rows.push(`| ${source.label} | ${r.length} | ${fixed(percentile(r, 50))} | ${fixed(percentile(r, 95))} | ${fixed(Math.max(...r))} |`);
  }
  writeResults('Reaction by metric source', `npx ts-node -P tsconfig.dev.json bench/source-reaction.ts ${STEPS}`, [
    `Seconds from a load step to the first UpdateService call at a ${INTERVAL} s interval, steps at random phases of the tick, 2 idle`,
    'tasks before each step. Connections and the gauge: 60 connections, target 10 per task. CPU: one HTTP/2 stream per task',
    'burning 20 ms at a time (most of a core, over 100 % of a 0.25-vCPU task), target 60 %. The agent\'s tasks are network',
    'namespaces running the synthesized agent command with BusyBox; the task metadata endpoint is emulated from the',
    'task\'s real processes (test/support/task-metadata-emulator.ts).',
    '',
    '| source | steps | p50 s | p95 s | max s |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    'Model: the CPU rows rest on how often the metadata endpoint refreshes its stats. AWS documents only that a new container',
    'needs about a second before it has any; one public capture from a Fargate task (prometheus-community/ecs_exporter\'s',
    'fixtures) shows samples 10 s apart, so on Fargate a CPU step may wait up to 10 s for the endpoint: the 10 s row is the',
    'figure to expect there until measured on a real account. Connections and Prometheus are read live on every tick.',
  ].join('\n'));
}

runBenchmark(main);
