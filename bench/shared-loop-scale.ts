/**
 * A shared loop's tick at scale, on the Lambda's own CPU share: the bundled controller ticks
 * every service of a loop in its own Node.js 22 process inside a cgroup CPU quota of
 * memoryMB / 1769 of a CPU (AWS: one vCPU at 1,769 MB, linear in memory), at the memory the
 * loop would default to for the sum of its services' maxTasks, every 3 s, against
 * - one emulated ECS cluster per service behind one endpoint (test/support/ecs-router.ts),
 *   every call answered after 30 ms and throttled with ECS's documented token buckets shared by
 *   all of them, as an account's and region's are (task reads 100 burst, 20/s; service reads alike);
 * - one nginx serving stub_status on every task's loopback address;
 * - dynalite for the lease and the state items.
 * It reports the first (cold) tick, the tick's wall time and CPU, the peak RSS, the ECS calls
 * and the failed scrapes; and, for one service of 5,000 tasks, what a cold instance's first two
 * ticks read.
 *
 * Needs root and cgroup v1 (/sys/fs/cgroup/cpu); run alone on an idle machine:
 * npx ts-node -P tsconfig.dev.json bench/shared-loop-scale.ts [ticks per row, default 12]
 * (ROWS='[{"services":50,"tasksEach":100}]' narrows it; DEBUG_REASONS=1 prints why reads failed.)
 */
import * as fs from 'fs';
import { fixed, percentile, runBenchmark, writeResults } from './bench-results';
import { CpuQuota, processCpuMs, vcpuShare } from './lambda-cpu-share';
import { sharedStatusNginx } from './shared-status-nginx';
import { defaultControllerMemoryMb } from '../src/loop/controller-memory';
import { installLoopbackGuard } from '../test/support/aws-loopback';
import { controllerConfig, loopEnvironment } from '../test/support/controller-config-fixture';
import { DynaliteServer } from '../test/support/dynalite-server';
import { EcsEmulator, taskAddress } from '../test/support/ecs-emulator';
import { EcsRouter } from '../test/support/ecs-router';
import { LambdaHost, TICK_BUNDLE } from '../test/support/lambda-host';

const INTERVAL_MS = 3000;
const ECS_LATENCY_MS = 30;
const STATUS_PORT = 18023;
const FIRST_BLOCK = 160;

interface Row {
  readonly services: number;
  readonly tasksEach: number;
}

interface RowResult extends Row {
  readonly memoryMb: number;
  readonly first: { readonly ms: number; readonly scraped: number; readonly failed: number; readonly held: number };
  readonly second: { readonly scraped: number; readonly failed: number };
  readonly wall: number[];
  readonly cpu: number[];
  readonly peakRssMb: number;
  readonly calls: Record<string, number>;
  readonly throttled: number;
  readonly failed: number;
  readonly scraped: number;
  /** Service ticks after the first two that read every task of their service, of all. */
  readonly complete: number;
  readonly serviceTicks: number;
}

/** The process's peak resident set (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

async function run(row: Row, ticks: number, dynalite: DynaliteServer): Promise<RowResult> {
  // One nginx for this row's task addresses (5,000 at most: one process's descriptors).
  const addresses = Array.from({ length: row.services }, (_, i) => Array.from({ length: row.tasksEach }, (__, n) => taskAddress(FIRST_BLOCK + i, n)))
    .flat();
  const nginx = await sharedStatusNginx(STATUS_PORT, addresses);
  const emulators: EcsEmulator[] = [];
  let router: EcsRouter | undefined;
  let host: LambdaHost | undefined;
  let quota: CpuQuota | undefined;
  const table = `fleet-${row.services}x${row.tasksEach}`;
  await dynalite.createStateTable(table);
  try {
    for (let i = 0; i < row.services; i++) {
      emulators.push(await EcsEmulator.start({
        clusterName: `fleet-${i}`,
        serviceName: `svc-${i}`,
        proxyPort: 18013,
        statusPort: STATUS_PORT,
        appPort: 1,
        addressBlock: FIRST_BLOCK + i,
        initialDesiredCount: row.tasksEach,
        sidecars: false,
        latencyMs: ECS_LATENCY_MS,
        startDelayMs: 20_000,
      }));
    }
    router = await EcsRouter.start(Object.fromEntries(emulators.map(e => [e.clusterName, e.endpoint])), true);
    const configs = emulators.map(e => controllerConfig({
      cluster: e.clusterArn,
      service: e.serviceName,
      table,
      minTasks: 1,
      maxTasks: row.tasksEach,
      maxScaleOutStep: row.tasksEach,
      statusPort: STATUS_PORT,
      runSeconds: 290,
      intervalSeconds: INTERVAL_MS / 1000,
      policy: { type: 'targetTracking', metric: 'ACTIVE_CONNECTIONS', targetPerTask: 100 },
    }));
    const logs: any[] = [];
    host = await LambdaHost.start({
      bundle: TICK_BUNDLE,
      environment: loopEnvironment(configs),
      endpoints: { ecs: router.endpoint, dynamodb: dynalite.endpoint },
      onLog: line => {
        try {
          const record = JSON.parse(line);
          if (record.message === 'tick') logs.push(record);
        } catch {
          // EMF and other lines
        }
      },
    });
    const memoryMb = defaultControllerMemoryMb(row.services * row.tasksEach);
    quota = CpuQuota.create(memoryMb);
    quota.add(host.pid);
    const wall: number[] = [];
    const cpu: number[] = [];
    const perTick: any[][] = [];
    const runStartedAt = new Date().toISOString();
    for (let i = 0; i < ticks; i++) {
      const started = Date.now();
      const cpuBefore = processCpuMs(host.pid);
      const seen = logs.length;
      await host.invoke({ runId: 'bench', runStartedAt });
      // The services that finished past the cutoff report a little later.
      await new Promise(resolve => setTimeout(resolve, 50));
      wall.push(Date.now() - started);
      cpu.push(processCpuMs(host.pid) - cpuBefore);
      perTick.push(logs.slice(seen));
      await new Promise(resolve => setTimeout(resolve, Math.max(0, started + INTERVAL_MS - Date.now())));
    }
    if (process.env.DEBUG_REASONS) {
      const reasons: Record<string, number> = {};
      for (const l of perTick.slice(2).flat()) {
        for (const [k, v] of Object.entries(l.failuresByReason ?? {})) reasons[k] = (reasons[k] ?? 0) + (v as number);
        for (const f of l.failures ?? []) reasons[f.reason.replace(/\d+/g, 'N')] = (reasons[f.reason.replace(/\d+/g, 'N')] ?? 0) + 1;
        if (l.scraped === 0) reasons[`tick: ${l.reason}`] = (reasons[`tick: ${l.reason}`] ?? 0) + 1;
      }
      console.log(JSON.stringify(reasons, null, 1).slice(0, 3000));
    }
    const sum = (ls: any[], k: string) => ls.reduce((n, l) => n + (l[k] ?? 0), 0);
    const steady = perTick.slice(2).flat();
    const calls: Record<string, number> = {};
    for (const e of emulators) for (const c of e.calls) calls[c.operation] = (calls[c.operation] ?? 0) + 1;
    return {
      ...row,
      memoryMb,
      first: { ms: wall[0], scraped: sum(perTick[0], 'scraped'), failed: sum(perTick[0], 'failed'), held: perTick[0].filter(l => l.scraped === 0).length },
      second: { scraped: sum(perTick[1], 'scraped'), failed: sum(perTick[1], 'failed') },
      wall: wall.slice(2),
      cpu: cpu.slice(2),
      peakRssMb: peakRssMb(host.pid),
      calls,
      throttled: Object.values(router.throttled).reduce((a, b) => a + b, 0),
      failed: sum(steady, 'failed'),
      scraped: sum(steady, 'scraped'),
      complete: steady.filter(l => l.scraped === row.tasksEach && l.failed === 0).length,
      serviceTicks: steady.length,
    };
  } finally {
    quota?.remove();
    await host?.stop();
    await router?.stop();
    for (const e of emulators) await e.stop();
    await nginx.stop();
  }
}

async function main() {
  installLoopbackGuard();
  const ticks = Number(process.argv[2] ?? 12);
  const rows: Row[] = process.env.ROWS ? JSON.parse(process.env.ROWS) : [
    { services: 10, tasksEach: 100 },
    { services: 50, tasksEach: 100 },
    { services: 5, tasksEach: 1000 },
    { services: 1, tasksEach: 5000 },
    // What each small service adds to a tick (bench/cost-model.ts reads it).
    { services: 1, tasksEach: 5 },
    { services: 50, tasksEach: 5 },
  ];
  const dynalite = await DynaliteServer.start();
  const results: RowResult[] = [];
  try {
    for (const row of rows) {
      const r = await run(row, ticks, dynalite);
      console.log(`  ${r.services} × ${r.tasksEach} at ${r.memoryMb} MB: first ${r.first.ms} ms (read ${r.first.scraped}, failed ${r.first.failed}, held ${r.first.held}), `
        + `second read ${r.second.scraped} failed ${r.second.failed}; p50 ${percentile(r.wall, 50)} ms p95 ${percentile(r.wall, 95)} ms, cpu p50 ${percentile(r.cpu, 50)} ms, `
        + `rss ${fixed(r.peakRssMb, 0)} MB, throttled ${r.throttled}, failed ${r.failed}/${r.scraped}, complete ${r.complete}/${r.serviceTicks}`);
      results.push(r);
    }
  } finally {
    await dynalite.stop();
  }
  const row = (r: RowResult) => `| ${r.services} × ${r.tasksEach.toLocaleString('en-US')} | ${r.memoryMb} | ${fixed(vcpuShare(r.memoryMb), 3)} | `
    + `${r.first.ms} | ${r.first.scraped} read, ${r.first.failed} failed${r.first.held ? `, ${r.first.held} held for the next tick` : ''} | `
    + `${r.second.scraped} read, ${r.second.failed} failed | ${percentile(r.wall, 50)} | ${percentile(r.wall, 95)} | ${percentile(r.cpu, 50)} | `
    + `${fixed(r.peakRssMb, 0)} | ${['DescribeServices', 'ListTasks', 'DescribeTasks'].map(a => r.calls[a] ?? 0).join(' / ')} | ${r.throttled} | `
    + `${r.failed} of ${r.scraped} | ${r.complete} of ${r.serviceTicks} |`;
  writeResults('Shared loop on the Lambda\'s CPU share', `npx ts-node -P tsconfig.dev.json bench/shared-loop-scale.ts ${ticks}`, [
    'One loop ticking every service at once: the bundled controller in its own Node.js process inside a cgroup CPU quota of',
    'memoryMB / 1769 of a CPU (AWS: one vCPU at 1,769 MB, linear in memory), at the memory the loop defaults to for the sum of',
    `its services' maxTasks, ${ticks} ticks 3 s apart per row. One emulated cluster per service behind one ECS endpoint, every`,
    `call answered after ${ECS_LATENCY_MS} ms and throttled with the documented token buckets shared by all services (task reads:`,
    'burst 100, 20 a second; service reads alike), as an account\'s and region\'s are. One nginx answers stub_status on every task',
    'address; lease and state in dynalite. The first tick is a cold instance\'s; p50/p95, CPU and the steady counts are over the',
    'ticks after the second. A tick of the loop returns by its cutoff (2.7 s at 3 s); a service still ticking then finishes on its',
    'own and skips its next tick.',
    '',
    '| services × tasks | memory MB | vCPU | first tick ms | first tick | second tick | tick p50 ms | tick p95 ms | CPU ms p50 | peak RSS MB | '
      + 'ECS calls | throttled | failed scrapes (steady) | service ticks reading every task |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.map(row),
    '',
    'A cold instance\'s first tick of a service lists its tasks (50 pages of 100 at 5,000, one after the other); when what is left',
    'of the tick could not read them all, or ECS could not describe them all (50 services listing at once on a new instance',
    'draw more than the account\'s burst of task reads: the throttled calls above), the service holds and reads them from the',
    'next tick: never a tick that reads half the tasks and counts the rest as failed (before: 2,177 of 5,000 failed on a cold',
    'first tick at 1,769 MB). The last two rows are small services (5 tasks each): what each adds to a tick (bench/cost-model.ts).',
  ].join('\n'));
}

runBenchmark(main);
