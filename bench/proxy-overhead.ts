/**
 * What the proxy sidecar costs: the same small-response app measured directly and through
 * a real nginx running the rendered sidecar configuration, side by side in one run at the
 * same concurrency, alternating rounds so that a neighbour's load hits both alike.
 *
 * - Added latency (p50, p99) at a moderate fixed rate, direct and proxy loaded at the same
 *   time (so that the noise of a shared machine hits both alike), from autocannon's
 *   per-response hrtime (its histogram rounds to whole milliseconds).
 * - Throughput at saturation, GET and POST (a POST opens a new connection to the app), in
 *   alternating runs, with the CPU time the app and nginx spent per request (from /proc):
 *   in a task, nginx and the app share the same vCPUs.
 * - nginx worker memory (RSS from /proc) per 1,000 open idle keep-alive connections: the
 *   slope of a least-squares line through RSS at 0 to 4,000 connections (kernel socket
 *   buffers are not in the RSS and not counted).
 *
 *   npx ts-node -P tsconfig.dev.json bench/proxy-overhead.ts [seconds per run, default 10]
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import autocannon from 'autocannon';
import { fixed, percentile, runBenchmark, writeResults } from './bench-results';
import { processCpuMs } from './lambda-cpu-share';
import { NginxTask, nginxVersion } from '../test/support/nginx-task';

const ADDRESS = '127.0.3.1';
const SECONDS = Number(process.argv[2] ?? 10);
const MODERATE = { connections: 5, rate: 500, seconds: SECONDS };
const SATURATED = { connections: 50, seconds: SECONDS };
const ROUNDS = 2;
const LATENCY_ROUNDS = 5;
const IDLE_CONNECTIONS = [0, 1000, 2000, 3000, 4000];

/**
 * A small app with Node's default keep-alive timeout (5 s), in its own process; `?work=N`
 * spends N µs of CPU on the request first, as an app that does something would.
 */
const APP_SOURCE = `
const http = require('http');
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const work = Number((/work=(\\d+)/.exec(req.url) || [])[1] || 0) * 1000;
    for (const start = process.hrtime.bigint(); Number(process.hrtime.bigint() - start) < work;);
    res.setHeader('content-type', 'text/plain');
    res.end('ok\\n');
  });
});
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
`;

interface Target { readonly name: 'direct' | 'proxy'; readonly url: string }
const WORK_US = 100;
interface Run {
  readonly latenciesMs: number[];
  readonly requestsPerSecond: number;
  readonly failures: number;
  /** The failures' error codes or statuses, counted. */
  readonly failureKinds: Record<string, number>;
  /** CPU time per request, in microseconds, of the app and of nginx's worker. */
  readonly appCpuUs: number;
  readonly nginxCpuUs: number;
}

/** The processes whose CPU time is counted. */
const processes = { app: [] as number[], nginx: [] as number[] };

/** User + system CPU time of these processes, in microseconds (from /proc/<pid>/stat, 100 ticks a second). */
function cpuUs(pids: number[]): number {
  return pids.reduce((n, pid) => n + processCpuMs(pid) * 1000, 0);
}

async function startApp(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', APP_SOURCE], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', m => resolve(Number(m)));
    child.once('exit', code => reject(new Error(`the app exited with ${code}`)));
  });
  return { port, child };
}

interface LoadOptions { connections: number; seconds: number; rate?: number; method?: 'GET' | 'POST'; path?: string }

function load(target: Target, o: LoadOptions): Promise<Run> {
  return new Promise<Run>((resolve, reject) => {
    const latenciesMs: number[] = [];
    const failureKinds: Record<string, number> = {};
    const count = (kind: string) => (failureKinds[kind] = (failureKinds[kind] ?? 0) + 1);
    const cpuBefore = { app: cpuUs(processes.app), nginx: cpuUs(processes.nginx) };
    const instance = autocannon({
      url: `${target.url}${o.path ?? ''}`,
      connections: o.connections,
      duration: o.seconds,
      overallRate: o.rate,
      method: o.method ?? 'GET',
      body: o.method === 'POST' ? 'small body' : undefined,
    }, (err, result) => {
      if (err) return reject(err);
      const requests = Math.max(1, result.requests.total);
      resolve({
        latenciesMs,
        requestsPerSecond: result.requests.total / result.duration,
        failures: result.errors + result.timeouts + result.non2xx,
        failureKinds,
        appCpuUs: (cpuUs(processes.app) - cpuBefore.app) / requests,
        nginxCpuUs: (cpuUs(processes.nginx) - cpuBefore.nginx) / requests,
      });
    });
    instance.on('response', (_client: unknown, status: number, _bytes: number, responseTimeMs: number) => {
      latenciesMs.push(responseTimeMs);
      if (status >= 300) count(`HTTP ${status}`);
    });
    instance.on('reqError', (err: NodeJS.ErrnoException) => count(err.code ?? err.message));
  });
}

/**
 * Rounds of direct and proxy, the runs of each target pooled: at the same time when
 * `together` (for latency at a fixed rate), else one after the other, the order swapped
 * every round (for throughput, where they would compete).
 */
async function sideBySide(targets: Target[], o: LoadOptions, together: boolean, rounds = ROUNDS): Promise<SideBySide> {
  const pooled: Record<Target['name'], Run[]> = { direct: [], proxy: [] };
  for (let round = 0; round < rounds; round++) {
    if (together) {
      await Promise.all(targets.map(t => load(t, { ...o, seconds: 2 }))); // warm-up, discarded
      const runs = await Promise.all(targets.map(t => load(t, o)));
      targets.forEach((t, i) => pooled[t.name].push(runs[i]));
      continue;
    }
    for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
      await load(target, { ...o, seconds: 2 }); // warm-up, discarded
      pooled[target.name].push(await load(target, o));
    }
  }
  const mean = (runs: Run[], f: (r: Run) => number) => runs.reduce((n, r) => n + f(r), 0) / runs.length;
  const merge = (runs: Run[]): Run => ({
    latenciesMs: runs.flatMap(r => r.latenciesMs),
    requestsPerSecond: mean(runs, r => r.requestsPerSecond),
    failures: runs.reduce((n, r) => n + r.failures, 0),
    failureKinds: runs.reduce<Record<string, number>>((all, r) => {
      Object.entries(r.failureKinds).forEach(([k, n]) => (all[k] = (all[k] ?? 0) + n));
      return all;
    }, {}),
    appCpuUs: mean(runs, r => r.appCpuUs),
    nginxCpuUs: mean(runs, r => r.nginxCpuUs),
  });
  return { direct: merge(pooled.direct), proxy: merge(pooled.proxy), rounds: pooled };
}

interface SideBySide extends Record<Target['name'], Run> {
  /** Each round's runs, in order. */
  readonly rounds: Record<Target['name'], Run[]>;
}

function rssKiB(pids: number[]): number {
  return pids.reduce((n, pid) => n + Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN), 0);
}

/** Opens `n` connections to the proxy, sends one request on each and leaves it idle. */
async function openIdle(port: number, n: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  for (let batch = 0; batch < n; batch += 200) {
    sockets.push(...await Promise.all(Array.from({ length: Math.min(200, n - batch) }, () => new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect({ host: ADDRESS, port }, () => socket.write(`GET / HTTP/1.1\r\nHost: ${ADDRESS}\r\n\r\n`));
      socket.once('data', () => resolve(socket));
      socket.once('error', reject);
    }))));
  }
  return sockets;
}

async function main() {
  const app = await startApp();
  const task = await NginxTask.start({ address: ADDRESS, appPort: app.port });
  try {
    const targets: Target[] = [
      { name: 'direct', url: `http://127.0.0.1:${app.port}/` },
      { name: 'proxy', url: `http://${ADDRESS}:${task.options.proxyPort}/` },
    ];
    const workers = task.workerPids();
    processes.app = [app.child.pid!];
    processes.nginx = workers;
    const moderate = await sideBySide(targets, MODERATE, true, LATENCY_ROUNDS);
    const saturatedGet = await sideBySide(targets, SATURATED, false);
    const saturatedPost = await sideBySide(targets, { ...SATURATED, method: 'POST' }, false);
    const saturatedWork = await sideBySide(targets, { ...SATURATED, path: `?work=${WORK_US}` }, false);

    const memory: Array<{ connections: number; rss: number }> = [];
    let open: net.Socket[] = [];
    for (const n of IDLE_CONNECTIONS) {
      if (n > open.length) open.push(...await openIdle(task.options.proxyPort, n - open.length));
      await new Promise(resolve => setTimeout(resolve, 500));
      memory.push({ connections: n, rss: rssKiB(workers) });
    }
    open.forEach(s => s.destroy());
    open = [];

    const p = (run: Run, q: number) => percentile(run.latenciesMs, q);
    const added = (q: number) => p(moderate.proxy, q) - p(moderate.direct, q);
    // A burst of a neighbour's load inflates one round's tail: the median round says more.
    const addedByRound = (q: number) => percentile(moderate.rounds.proxy.map((r, i) => p(r, q) - p(moderate.rounds.direct[i], q)), 50);
    const getRatio = saturatedGet.proxy.requestsPerSecond / saturatedGet.direct.requestsPerSecond;
    const postRatio = saturatedPost.proxy.requestsPerSecond / saturatedPost.direct.requestsPerSecond;
    const workRatio = saturatedWork.proxy.requestsPerSecond / saturatedWork.direct.requestsPerSecond;
    // MiB per 1,000 connections: the slope of the least-squares line through the points, so
    // that memory the worker touches once (the first connections) does not count per connection.
    const slope = leastSquaresSlope(memory.map(m => [m.connections, m.rss / 1024])) * 1000;
    // In a CPU-bound task nginx's CPU comes out of the app's: throughput at equal CPU.
    const cpuRatio = (r: SideBySide) => r.direct.appCpuUs / (r.proxy.appCpuUs + r.proxy.nginxCpuUs);
    const cpuCells = (r: SideBySide) =>
      `${fixed(r.direct.appCpuUs, 1)} µs | ${fixed(r.proxy.appCpuUs, 1)} µs + nginx ${fixed(r.proxy.nginxCpuUs, 1)} µs | `
      + `${fixed(1 / cpuRatio(r), 1)} × the CPU; ${fixed(cpuRatio(r) * 100, 0)} % of direct at equal CPU |`;
    const all = [moderate, saturatedGet, saturatedPost, saturatedWork];
    const failures = (name: Target['name']) => {
      const kinds: Record<string, number> = {};
      all.forEach(r => Object.entries(r[name].failureKinds).forEach(([k, n]) => (kinds[k] = (kinds[k] ?? 0) + n)));
      const total = all.reduce((n, r) => n + r[name].failures, 0);
      return `${total}${Object.keys(kinds).length > 0 ? ` (${Object.entries(kinds).map(([k, n]) => `${k} × ${n}`).join(', ')})` : ''}`;
    };
    const met = (ok: boolean) => (ok ? 'met' : '**not met**');

    writeResults('Proxy overhead', 'npx ts-node -P tsconfig.dev.json bench/proxy-overhead.ts', [
      `A Node.js app answering \`ok\` (3 bytes), reached directly and through nginx ${nginxVersion()} running the rendered sidecar`,
      'configuration with one worker (a small Fargate task), both on loopback; autocannon in the benchmark\'s process, the app in its own.',
      `Latency: ${LATENCY_ROUNDS} rounds of ${SECONDS} s with direct and proxy loaded at the same time; throughput: ${ROUNDS} rounds of ${SECONDS} s each,`,
      'direct and proxy alternating; every run after a 2 s warm-up. Other processes ran on the same 2 cores, and the load generator shares',
      'them too: absolute figures are noisy, tails most of all.',
      '',
      '| measure | direct | through the proxy | cost of the proxy |',
      '| --- | --- | --- | --- |',
      `| latency p50, ${MODERATE.rate} req/s over ${MODERATE.connections} connections each, both at once | ${fixed(p(moderate.direct, 50), 3)} ms | ${fixed(p(moderate.proxy, 50), 3)} ms | +${fixed(added(50), 3)} ms |`,
      `| latency p99, same load | ${fixed(p(moderate.direct, 99), 3)} ms | ${fixed(p(moderate.proxy, 99), 3)} ms | +${fixed(added(99), 3)} ms (median round +${fixed(addedByRound(99), 3)} ms) |`,
      `| p99 added, each round | | | ${moderate.rounds.proxy.map((r, i) => `${fixed(p(r, 99) - p(moderate.rounds.direct[i], 99), 3)}`).join(', ')} ms |`,
      `| GET throughput, ${SATURATED.connections} connections, saturated | ${Math.round(saturatedGet.direct.requestsPerSecond)} req/s | ${Math.round(saturatedGet.proxy.requestsPerSecond)} req/s | ${fixed(getRatio * 100, 0)} % of direct |`,
      `| POST throughput (a new connection to the app each), same | ${Math.round(saturatedPost.direct.requestsPerSecond)} req/s | ${Math.round(saturatedPost.proxy.requestsPerSecond)} req/s | ${fixed(postRatio * 100, 0)} % of direct |`,
      `| GET throughput, the app spending ${WORK_US} µs of CPU a request, same | ${Math.round(saturatedWork.direct.requestsPerSecond)} req/s | ${Math.round(saturatedWork.proxy.requestsPerSecond)} req/s | ${fixed(workRatio * 100, 0)} % of direct |`,
      `| CPU per GET (app; app + nginx) | ${cpuCells(saturatedGet)}`,
      `| CPU per POST, same | ${cpuCells(saturatedPost)}`,
      `| CPU per GET, the app spending ${WORK_US} µs | ${cpuCells(saturatedWork)}`,
      '',
      '"Added" is a difference of percentiles, not a percentile of differences: the proxy\'s p50 (p99) minus the direct p50 (p99)',
      'over the same rounds, all rounds pooled; "median round" takes that difference in each round and reports the median round,',
      'which a neighbour\'s burst in one round does not move. The goal is judged on the median round.',
      '',
      '"At equal CPU": the app\'s CPU per request directly, over the app\'s and nginx\'s through the proxy; what a task whose vCPUs',
      'are all busy would serve, as nginx and the app share them. The saturated throughput above also shares the 2 cores with the load',
      'generator, and nginx\'s CPU per request grows when fewer requests arrive per wake-up (the 100 µs app).',
      '',
      `Failed or non-2xx responses in all runs: direct ${failures('direct')}, through the proxy ${failures('proxy')}.`,
      '',
      `nginx worker memory with idle keep-alive connections open (one request done on each): **${fixed(slope, 2)} MiB per 1,000 connections**,`,
      'the slope of the least-squares line through these points. It is the worker\'s RSS only: the kernel\'s socket memory for each',
      'connection (buffers, in the task\'s memory too) is not included.',
      '',
      '| open idle connections | worker RSS |',
      '| --- | --- |',
      ...memory.map(m => `| ${m.connections} | ${fixed(m.rss / 1024, 1)} MiB |`),
      '',
      `Goals: p99 added ≤ 1 ms at moderate load: ${met(addedByRound(99) <= 1)} (median round +${fixed(addedByRound(99), 3)} ms, all rounds pooled +${fixed(added(99), 3)} ms); `
        + `GET throughput ≥ 80 % of direct for small responses: ${met(getRatio >= 0.8)} (${fixed(getRatio * 100, 0)} %).`,
    ].join('\n'));
  } finally {
    await task.stop();
    app.child.kill();
  }
}

/** The slope of the least-squares line through the points. */
function leastSquaresSlope(points: Array<[number, number]>): number {
  const mean = (f: (p: [number, number]) => number) => points.reduce((n, p) => n + f(p), 0) / points.length;
  const [mx, my] = [mean(p => p[0]), mean(p => p[1])];
  return mean(([x, y]) => (x - mx) * (y - my)) / mean(([x]) => (x - mx) ** 2);
}

runBenchmark(main);
