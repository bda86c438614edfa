/**
 * Cold start and size: the controller bundle's size, its module-load time in a fresh
 * Node.js 22 process, and the CPU time of one tick of the bundled handler (10 tasks).
 *
 * npx ts-node -P tsconfig.dev.json bench/cold-start.ts
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import { promisify } from 'util';
import * as zlib from 'zlib';
import { fixed, percentile, runBenchmark, writeResults } from './bench-results';
import { installLoopbackGuard } from '../test/support/aws-loopback';
import { controllerConfig, loopEnvironment } from '../test/support/controller-config-fixture';
import { DynaliteServer } from '../test/support/dynalite-server';
import { EcsEmulator } from '../test/support/ecs-emulator';
import { TICK_BUNDLE } from '../test/support/lambda-host';
import { LocalApp } from '../test/support/local-app';

const LOADS = 15;

async function main() {
  installLoopbackGuard();
  const bundle = fs.readFileSync(TICK_BUNDLE);
  const gzipped = zlib.gzipSync(bundle, { level: 9 }).length;

  const app = await LocalApp.start(0);
  const ecs = await EcsEmulator.start({ proxyPort: 18112, statusPort: 18122, appPort: app.port, addressBlock: 231, initialDesiredCount: 10 });
  const dynalite = await DynaliteServer.start();
  await dynalite.createStateTable('state');
  const config = controllerConfig({
    cluster: ecs.clusterArn,
    service: ecs.serviceName,
    maxTasks: 100,
    maxScaleOutStep: 100,
    statusPort: 18122,
    policy: { type: 'targetTracking', metric: 'ACTIVE_CONNECTIONS', targetPerTask: 100 },
  });
  const env = {
    ...process.env,
    ...loopEnvironment([config]),
    AWS_ENDPOINT_URL_ECS: ecs.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
    POWERTOOLS_LOG_LEVEL: 'WARN',
  };
  // Each measurement is a fresh process: module load as on a cold Lambda instance; then one tick.
  const probe = `
    const t0 = process.hrtime.bigint();
    const { handler } = require(${JSON.stringify(TICK_BUNDLE)});
    const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu0 = process.cpuUsage(); const w0 = process.hrtime.bigint();
    handler({ runId: 'bench', runStartedAt: new Date().toISOString() }).then(r => {
      const cpu = process.cpuUsage(cpu0); const wallMs = Number(process.hrtime.bigint() - w0) / 1e6;
      process.stderr.write(JSON.stringify({ loadMs, cpuMs: (cpu.user + cpu.system) / 1000, wallMs, ok: r.failed === 0 && r.services === 1 }));
    });`;
  const runs: Array<{ loadMs: number; cpuMs: number; wallMs: number; ok: boolean }> = [];
  try {
    for (let i = 0; i < LOADS; i++) {
      // Asynchronously: the emulators the probe talks to run in this process.
      const { stderr } = await promisify(execFile)(process.execPath, ['-e', probe], { env });
      runs.push(JSON.parse(stderr.slice(stderr.lastIndexOf('{'))));
    }
  } finally {
    await dynalite.stop();
    await ecs.stop();
    await app.stop();
  }
  if (runs.some(r => !r.ok)) throw new Error(`a first tick failed: ${JSON.stringify(runs)}`);
  const p50 = (k: 'loadMs' | 'cpuMs' | 'wallMs') => fixed(percentile(runs.map(r => r[k]), 50), 1);
  const p95 = (k: 'loadMs' | 'cpuMs' | 'wallMs') => fixed(percentile(runs.map(r => r[k]), 95), 1);
  writeResults('Cold start and size', 'npx ts-node -P tsconfig.dev.json bench/cold-start.ts', [
    `Bundle \`assets/controller/tick.lambda/index.js\`: ${(bundle.length / 1024).toFixed(1)} KiB, ${(gzipped / 1024).toFixed(1)} KiB gzipped`,
    '(AWS SDK v3 left out: the Node.js 22 Lambda runtime provides it).',
    '',
    `Over ${LOADS} fresh Node.js ${process.version} processes, each loading the bundle and running one first tick against 10 tasks:`,
    '',
    '| | p50 | p95 |',
    '| --- | --- | --- |',
    `| module load (bundle + SDK clients), ms | ${p50('loadMs')} | ${p95('loadMs')} |`,
    `| first tick CPU (user + system), ms | ${p50('cpuMs')} | ${p95('cpuMs')} |`,
    `| first tick wall, ms | ${p50('wallMs')} | ${p95('wallMs')} |`,
    '',
    'A first tick includes loading the SDK\'s lazily required parts; warm ticks are cheaper (see Tick on the Lambda\'s CPU share).',
  ].join('\n'));
}

runBenchmark(main);
