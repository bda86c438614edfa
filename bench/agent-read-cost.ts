/**
 * The task agent's cost, and what it leaves the app: the agent as synthesized (BusyBox, as
 * nobody, no capabilities) in a task network namespace beside an HTTP/1.1 app, measured in
 * cgroups (v1 cpuacct and memory) of its own, which its per-read shells inherit.
 * - CPU and wall time per read (the controller's own bare-TCP read) with 100, 1,000 and 10,000
 *   established connections on the app's port: the read walks /proc/net/tcp, one line a socket.
 * - The agent's memory: its listener's RSS, and the cgroup's peak while reading.
 * - The app's throughput (autocannon against the app directly, as the load balancer would send it)
 *   with no agent, and with the agent read once a second (three times the default tick rate),
 *   alternated over rounds.
 *
 * npx ts-node -P tsconfig.dev.json bench/agent-read-cost.ts
 */
import { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import autocannon from 'autocannon';
import { fixed, percentile, runBenchmark, writeResults } from './bench-results';
import { scrapeOne } from '../src/controller/read/scraper';
import { readerFor } from '../src/controller/read/task-reading';
import { spawnAgent, synthesizedAgent } from '../test/support/agent-task';
import { waitForPort } from '../test/support/nginx-task';
import { TaskNamespace } from '../test/support/task-namespace';
import { sleep } from '../test/support/wait-for';

const APP_PORT = 8080;
const STATUS_PORT = 8022;
const READS = 40;
const ROUNDS = 3;
const LOAD_SECONDS = 8;

/** A cgroup (v1) in the cpuacct and memory hierarchies, for the agent and what it forks. */
class AgentCgroup {
  private readonly dirs = ['cpuacct', 'memory'].map(c => `/sys/fs/cgroup/${c}/fast-autoscaler-agent-bench-${process.pid}`);
  constructor() {
    this.dirs.forEach(d => fs.mkdirSync(d, { recursive: true }));
  }
  public add(pid: number) {
    this.dirs.forEach(d => fs.writeFileSync(path.join(d, 'cgroup.procs'), String(pid)));
  }
  public cpuNs(): number {
    return Number(fs.readFileSync(path.join(this.dirs[0], 'cpuacct.usage'), 'utf8'));
  }
  public resetPeak() {
    fs.writeFileSync(path.join(this.dirs[1], 'memory.max_usage_in_bytes'), '0');
  }
  public peakBytes(): number {
    return Number(fs.readFileSync(path.join(this.dirs[1], 'memory.max_usage_in_bytes'), 'utf8'));
  }
  public remove() {
    for (const d of this.dirs) {
      try {
        fs.rmdirSync(d);
      } catch {
        // a process still inside; it ends with the benchmark
      }
    }
  }
}

const READER = readerFor({ source: { type: 'taskAgent' }, policy: { type: 'targetTracking', metric: 'ACTIVE_CONNECTIONS', targetPerTask: 1 } });

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function kill(p: ChildProcess) {
  try {
    process.kill(-p.pid!, 'SIGKILL');
  } catch {
    p.kill('SIGKILL');
  }
}

async function main() {
  const ns = await TaskNamespace.create();
  const cgroup = new AgentCgroup();
  const app = ns.spawn(process.execPath, [path.join(__dirname, '..', 'test', 'support', 'task-app.js'), 'http1', String(APP_PORT), '0'], { stdio: 'ignore', detached: true });
  let agent: ChildProcess | undefined;
  const held: net.Socket[] = [];
  const costRows: string[] = [];
  const throughputRows: string[] = [];
  try {
    await waitForPort(ns.address, APP_PORT, 10_000);
    agent = spawnAgent(ns, synthesizedAgent(APP_PORT));
    await sleep(100);
    cgroup.add(agent.pid!);
    await waitForPort(ns.address, STATUS_PORT, 10_000);
    const listenerKb = rssKb(agent.pid!);

    for (const n of [100, 1000, 10_000]) {
      while (held.length < n) {
        const batch = Math.min(500, n - held.length);
        held.push(...await Promise.all(Array.from({ length: batch }, () => new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(APP_PORT, ns.address, () => resolve(s)).once('error', reject);
        }))));
      }
      const first = await scrapeOne({ taskId: 't', address: ns.address }, STATUS_PORT, 5000, READER);
      if (!first.ok || first.connections !== n) throw new Error(`the agent read ${first.ok ? first.connections : first.reason}, not ${n}`);
      cgroup.resetPeak();
      const cpuBefore = cgroup.cpuNs();
      const walls: number[] = [];
      for (let i = 0; i < READS; i++) {
        const r = await scrapeOne({ taskId: 't', address: ns.address }, STATUS_PORT, 5000, READER);
        if (!r.ok) throw new Error(r.reason);
        walls.push(r.ms);
      }
      const cpuMs = (cgroup.cpuNs() - cpuBefore) / 1e6 / READS;
      costRows.push(`| ${n.toLocaleString('en-US')} | ${fixed(cpuMs)} | ${fixed(percentile(walls, 50))} | ${fixed(percentile(walls, 95))} | ${fixed(cgroup.peakBytes() / 2 ** 20, 1)} |`);
      process.stdout.write(`  ${n} connections: ${fixed(cpuMs)} ms CPU a read, ${fixed(percentile(walls, 50))} ms p50\n`);
    }
    held.splice(0).forEach(s => s.destroy());
    await sleep(500);

    // The app's throughput, straight to it, with and without the agent being read every second.
    const run = () => new Promise<number>((resolve, reject) => autocannon({ url: `http://${ns.address}:${APP_PORT}/`, connections: 50, duration: LOAD_SECONDS },
      (err, result) => (err ? reject(err) : resolve(result.requests.average))));
    const results = { alone: [] as number[], read: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      results.alone.push(await run());
      let reading = true;
      const reader = (async () => {
        while (reading) {
          await scrapeOne({ taskId: 't', address: ns.address }, STATUS_PORT, 5000, READER);
          await sleep(1000);
        }
      })();
      results.read.push(await run());
      reading = false;
      await reader;
      process.stdout.write(`  round ${round + 1}: ${Math.round(results.alone[round])} req/s alone, ${Math.round(results.read[round])} with the agent read every second\n`);
    }
    const alone = percentile(results.alone, 50);
    const read = percentile(results.read, 50);
    throughputRows.push(`| ${Math.round(alone)} | ${Math.round(read)} | ${fixed((read / alone) * 100, 1)} % |`);

    writeResults('Task agent read cost', 'npx ts-node -P tsconfig.dev.json bench/agent-read-cost.ts', [
      'The task agent as synthesized (BusyBox 1.35 from Debian here, the image has 1.37), as nobody with no capabilities, in a',
      'network namespace beside an HTTP/1.1 app; its CPU and memory from cgroups (v1) of its own, which the shells it forks per',
      `read inherit. ${READS} reads by the controller's scraper per row, after the first read checked the count.`,
      '',
      '| established connections | agent CPU ms a read | wall ms p50 | wall ms p95 | agent memory peak MiB (cgroup) |',
      '| --- | --- | --- | --- | --- |',
      ...costRows,
      '',
      `The agent's listener (nc) holds ${listenerKb} KiB RSS between reads; a read forks a shell, cat and awk for a few ms.`,
      'The cgroup peak counts page cache too. The memory reservation is 16 MiB.',
      '',
      `The app's throughput straight to it (autocannon, 50 connections, ${LOAD_SECONDS} s, median of ${ROUNDS} alternated rounds on the same 2 cores`,
      'as the load generator): with no agent, and with the agent read every second (three times the default tick rate).',
      '',
      '| req/s, no agent | req/s, agent read every second | share of direct |',
      '| --- | --- | --- |',
      ...throughputRows,
      '',
      'The agent is not in the path: what it can take from the app is its own CPU per read, shared cores only.',
    ].join('\n'));
  } finally {
    held.forEach(s => s.destroy());
    if (agent) kill(agent);
    kill(app);
    await sleep(300);
    cgroup.remove();
    await ns.destroy();
  }
}

runBenchmark(main);
