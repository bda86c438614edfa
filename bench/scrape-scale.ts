/**
 * Scrape scale: the wall time of one tick (DescribeServices, ListTasks, DescribeTasks over
 * the emulated ECS API, scraping every task, deciding, writing the state to dynalite) at
 * 10, 100, 1,000 and 2,000 tasks. One nginx listens on every task's loopback address.
 *
 * npx ts-node -P tsconfig.dev.json bench/scrape-scale.ts
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ECSClient } from '@aws-sdk/client-ecs';
import { fixed, percentile, runBenchmark, writeResults } from './bench-results';
import { scrapeAll } from '../src/controller/scraper';
import { StateStore } from '../src/controller/state-store';
import { TaskCatalog } from '../src/controller/task-catalog';
import { RequestCounters } from '../src/controller/task-metric';
import { runTick } from '../src/controller/tick';
import { installLoopbackGuard, loopbackClientConfig } from '../test/support/aws-loopback';
import { controllerConfig } from '../test/support/controller-config-fixture';
import { DynaliteServer } from '../test/support/dynalite-server';
import { EcsEmulator, taskAddress } from '../test/support/ecs-emulator';
import { NGINX_BINARY, waitForPort } from '../test/support/nginx-task';

const SIZES = [10, 100, 1000, 2000];
const TICKS = 7;
const STATUS_PORT = 18022;
const BLOCK = 230;

/** One nginx serving stub_status on every task address: throughput, not isolation, is measured. */
async function sharedNginx(addresses: string[]): Promise<{ stop(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fast-autoscaler-bench-'));
  const listens = addresses.map(a => `    listen ${a}:${STATUS_PORT};`).join('\n');
  fs.writeFileSync(path.join(dir, 'nginx.conf'), [
    'worker_processes 1;', `error_log ${dir}/error.log warn;`, `pid ${dir}/nginx.pid;`, 'worker_rlimit_nofile 16384;',
    'events { worker_connections 8192; }',
    'http {', '  access_log off;', `  client_body_temp_path ${dir}/cb;`, `  proxy_temp_path ${dir}/p;`, `  fastcgi_temp_path ${dir}/f;`,
    `  uwsgi_temp_path ${dir}/u;`, `  scgi_temp_path ${dir}/s;`,
    '  server {', listens, '    location = /nginx_status { stub_status; }', '  }', '}', '',
  ].join('\n'));
  const child: ChildProcess = spawn(NGINX_BINARY, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  await waitForPort(addresses[addresses.length - 1], STATUS_PORT, 10_000);
  return {
    stop: () => new Promise<void>(resolve => {
      child.once('exit', () => {
        fs.rmSync(dir, { recursive: true, force: true });
        resolve();
      });
      child.kill('SIGTERM');
    }),
  };
}

async function main() {
  installLoopbackGuard();
  const nginx = await sharedNginx(Array.from({ length: Math.max(...SIZES) }, (_, i) => taskAddress(BLOCK, i)));
  const dynalite = await DynaliteServer.start();
  await dynalite.createStateTable('state');
  const rows: string[] = [];
  try {
    for (const size of SIZES) {
      const ecs = await EcsEmulator.start({
        proxyPort: 18012, statusPort: STATUS_PORT, appPort: 1, addressBlock: BLOCK, initialDesiredCount: size, sidecars: false,
      });
      const config = controllerConfig({
        cluster: ecs.clusterArn,
        service: ecs.serviceName,
        maxTasks: 5000,
        maxScaleOutStep: 5000,
        statusPort: STATUS_PORT,
        runSeconds: 3600,
        policy: { type: 'targetTracking', metric: 'ACTIVE_CONNECTIONS', targetPerTask: 100 },
      });
      const client = new ECSClient({ ...loopbackClientConfig(ecs.endpoint), maxAttempts: 3 });
      const store = new StateStore(dynalite.client(), 'state', `bench#${size}`);
      const runStartedAt = new Date().toISOString();
      const wall: number[] = [];
      const scrape: number[] = [];
      let failed = 0;
      for (let i = 0; i < TICKS; i++) {
        const started = process.hrtime.bigint();
        const report = await runTick(config, { runId: 'bench', runStartedAt }, { ecs: client, store, scrape: scrapeAll, now: Date.now, counters: new RequestCounters(), catalog: new TaskCatalog() });
        wall.push(Number(process.hrtime.bigint() - started) / 1e6);
        scrape.push(report.result.figures.scrapeMs);
        failed += report.result.figures.failed;
      }
      // The first tick warms connections and the JIT; report the rest.
      const warm = wall.slice(1);
      rows.push(`| ${size} | ${fixed(percentile(warm, 50), 0)} | ${fixed(Math.max(...warm), 0)} | ${fixed(percentile(scrape.slice(1), 50), 0)} | ${failed} |`);
      console.log(`  ${size} tasks: tick p50 ${fixed(percentile(warm, 50), 0)} ms`);
      client.destroy();
      await ecs.stop();
    }
  } finally {
    await dynalite.stop();
    await nginx.stop();
  }
  writeResults('Scrape scale', 'npx ts-node -P tsconfig.dev.json bench/scrape-scale.ts', [
    `Wall time of one tick (${TICKS - 1} warm ticks each), in-process: ECS calls over HTTP to the emulator (ListTasks paginated by 100,`,
    'DescribeTasks in chunks of 100, concurrently), every task scraped (concurrency 256, `Connection: close`), decision, state write to dynalite.',
    '',
    '| tasks | tick p50 ms | tick max ms | scrape p50 ms | failed scrapes |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    'Target: 1,000 tasks in ≤ 1 s. The Lambda (256 MB, arm64) has a fraction of this machine\'s CPU, and real ECS answers',
    'in tens of milliseconds per call rather than one: expect longer ticks there, dominated by the ECS calls for large services.',
  ].join('\n'));
}

runBenchmark(main);
