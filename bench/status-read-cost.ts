/**
 * What one status read costs the controller's CPU: the scraper's bare TCP exchange
 * (src/controller/read/scraper.ts) against Node.js's own HTTP client doing the same read (a new
 * connection each, `Connection: close`, the same concurrency), both reading 2,000 task
 * addresses served by one nginx. On a Lambda's fraction of a vCPU this cost decides how many
 * tasks fit in one tick (see "Tick on the Lambda's CPU share").
 *
 * npx ts-node -P tsconfig.dev.json bench/status-read-cost.ts [rounds, default 7]
 */
import * as http from 'http';
import { fixed, percentile, runBenchmark, writeResults } from './bench-results';
import { sharedStatusNginx } from './shared-status-nginx';
import { scrapeAll, ScrapeTarget } from '../src/controller/read/scraper';
import { STATUS_PATH } from '../src/controller/read/stub-status';
import { installLoopbackGuard } from '../test/support/aws-loopback';
import { taskAddress } from '../test/support/ecs-emulator';

const STATUS_PORT = 18023;
const BLOCK = 231;
const TASKS = 2000;
const CONCURRENCY = 256;

/** The same reads through Node's HTTP client: what the scraper replaced. */
async function readAllWithHttpClient(targets: readonly ScrapeTarget[]): Promise<number> {
  let next = 0;
  let ok = 0;
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const one = (t: ScrapeTarget) => new Promise<void>(resolve => {
    const req = http.get({ host: t.address, port: STATUS_PORT, path: STATUS_PATH, agent, headers: { Connection: 'close' }, timeout: 2000 }, res => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode === 200 && Buffer.concat(chunks).toString('latin1').startsWith('Active connections')) ok++;
        resolve();
      });
    });
    req.on('error', () => resolve());
    req.on('timeout', () => req.destroy());
  });
  const worker = async () => {
    while (next < targets.length) await one(targets[next++]);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return ok;
}

async function readAllWithScraper(targets: readonly ScrapeTarget[]): Promise<number> {
  const results = await scrapeAll(targets, { port: STATUS_PORT, requestTimeoutMs: 2000, deadlineMs: 10_000, concurrency: CONCURRENCY });
  return results.filter(r => r.ok).length;
}

/** CPU µs of this process per read, and the reads that succeeded. */
async function measure(read: () => Promise<number>): Promise<{ cpuPerReadUs: number; ok: number; wallMs: number }> {
  const before = process.cpuUsage();
  const started = Date.now();
  const ok = await read();
  const used = process.cpuUsage(before);
  return { cpuPerReadUs: (used.user + used.system) / TASKS, ok, wallMs: Date.now() - started };
}

async function main() {
  installLoopbackGuard();
  const rounds = Number(process.argv[2] ?? 7);
  const targets = Array.from({ length: TASKS }, (_, i) => ({ taskId: `t${i}`, address: taskAddress(BLOCK, i) }));
  const nginx = await sharedStatusNginx(STATUS_PORT, targets.map(t => t.address));
  const scraper: Array<Awaited<ReturnType<typeof measure>>> = [];
  const client: Array<Awaited<ReturnType<typeof measure>>> = [];
  try {
    // One warm-up round each (JIT, lazily loaded modules), then alternating rounds.
    await measure(() => readAllWithScraper(targets));
    await measure(() => readAllWithHttpClient(targets));
    for (let i = 0; i < rounds; i++) {
      scraper.push(await measure(() => readAllWithScraper(targets)));
      client.push(await measure(() => readAllWithHttpClient(targets)));
    }
  } finally {
    await nginx.stop();
  }
  const p50 = (xs: typeof scraper, f: (x: typeof scraper[0]) => number) => percentile(xs.map(f), 50);
  const s = p50(scraper, x => x.cpuPerReadUs);
  const c = p50(client, x => x.cpuPerReadUs);
  const failed = (xs: typeof scraper) => xs.reduce((n, x) => n + TASKS - x.ok, 0);
  const row = (name: string, xs: typeof scraper) =>
    `| ${name} | ${fixed(p50(xs, x => x.cpuPerReadUs), 1)} | ${fixed(percentile(xs.map(x => x.cpuPerReadUs), 95), 1)} | ${p50(xs, x => x.wallMs)} | ${failed(xs)} of ${TASKS * rounds} |`;
  writeResults('Status read cost', `npx ts-node -P tsconfig.dev.json bench/status-read-cost.ts ${rounds}`, [
    `${TASKS} status reads a round (one nginx answering stub_status on ${TASKS} loopback addresses), ${CONCURRENCY} at once, each on a`,
    `new connection; ${rounds} rounds each, alternating, after one warm-up round. CPU is this process's (user + system) over the`,
    'round, on the whole machine\'s CPU (the Lambda\'s share divides both alike).',
    '',
    '| reader | CPU µs a read, p50 | p95 | round wall ms, p50 | failed reads |',
    '| --- | --- | --- | --- | --- |',
    row('the scraper (bare TCP exchange)', scraper),
    row('Node.js http.get, Connection: close', client),
    '',
    `The scraper's read costs ${fixed((100 * s) / c, 0)} % of the HTTP client's CPU (${fixed(c / s, 1)} × less).`,
  ].join('\n'));
}

runBenchmark(main);
