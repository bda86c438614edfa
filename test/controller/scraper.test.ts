import * as http from 'http';
import * as net from 'net';
import { scrapeAll, scrapeOne } from '../../src/controller/read/scraper';
import { readerFor } from '../../src/controller/read/task-reading';
import { LocalApp } from '../support/local-app';
import { NginxTask } from '../support/nginx-task';

/** The ports every task here shares: the scraper reads one status port on every task's own address, as in a service. */
const PROXY_PORT = 18612;
const STATUS_PORT = 18622;
const started: Array<{ stop(): Promise<void> }> = [];
let app: LocalApp;

beforeAll(async () => {
  app = await LocalApp.start(0);
  started.push(app);
});
afterAll(async () => {
  await Promise.all(started.map(s => s.stop()));
});

/** A real nginx proxy on its own address and the shared ports, in front of the local app; stopped after all. */
async function startNginx(address: string): Promise<void> {
  started.push(await NginxTask.start({ address, proxyPort: PROXY_PORT, statusPort: STATUS_PORT, appPort: app.port }));
}

async function serve(address: string, handler: (socket: net.Socket) => void): Promise<void> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer(socket => {
    sockets.add(socket);
    handler(socket);
  });
  await new Promise<void>(resolve => server.listen(STATUS_PORT, address, resolve));
  started.push({
    stop: () => new Promise<void>(resolve => {
      // A hanging "task" keeps its sockets open; close them so that the server can stop.
      sockets.forEach(s => s.destroy());
      server.close(() => resolve());
    }),
  });
}

describe('scrape against real nginx', () => {
  test('reads a fresh nginx: one connection (its own), which the metric later subtracts', async () => {
    await startNginx('127.0.1.1');
    const result = await scrapeOne({ taskId: 't1', address: '127.0.1.1' }, STATUS_PORT, 1000);
    expect(result).toMatchObject({ ok: true, status: { active: 1, writing: 1, reading: 0, waiting: 0 } });
  });

  test('sees connections held open through the proxy', async () => {
    await startNginx('127.0.1.2');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 5 });
    await Promise.all(Array.from({ length: 5 }, () => new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.1.2', port: PROXY_PORT, path: '/', agent }, res => {
        res.resume();
        res.on('end', resolve);
      }).on('error', reject);
    })));
    const result = await scrapeOne({ taskId: 't2', address: '127.0.1.2' }, STATUS_PORT, 1000);
    agent.destroy();
    // Five idle keep-alive connections plus the status request.
    expect(result).toMatchObject({ ok: true, status: { active: 6, waiting: 5, writing: 1 } });
  });

  test('the status page is not served on the proxy port', async () => {
    await startNginx('127.0.1.3');
    const result = await scrapeOne({ taskId: 't3', address: '127.0.1.3' }, PROXY_PORT, 1000);
    expect(result.ok).toBe(false);
  });
});

describe('scrape faults', () => {
  test('garbage is a failure with a reason', async () => {
    await serve('127.0.1.10', socket => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello'));
    expect(await scrapeOne({ taskId: 'g', address: '127.0.1.10' }, STATUS_PORT, 1000)).toMatchObject({ ok: false, reason: expect.stringMatching(/not a stub_status page/) });
  });

  test('a non-200 answer is a failure', async () => {
    await serve('127.0.1.11', socket => socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
    expect(await scrapeOne({ taskId: 'n', address: '127.0.1.11' }, STATUS_PORT, 1000)).toMatchObject({ ok: false, reason: 'HTTP 503' });
  });

  test('a truncated answer is a failure, even when what arrived would parse', async () => {
    // A page cut inside its last figure ("Waiting: 1" of "Waiting: 12") still matches the pattern.
    const page = 'Active connections: 13 \nserver accepts handled requests\n 20 20 40 \nReading: 0 Writing: 1 Waiting: 12 \n';
    await serve('127.0.1.12', socket => socket.end(`HTTP/1.1 200 OK\r\nContent-Length: ${page.length}\r\n\r\n${page.slice(0, page.indexOf('12 \n') + 1)}`));
    expect(await scrapeOne({ taskId: 'tr', address: '127.0.1.12' }, STATUS_PORT, 1000)).toMatchObject({ ok: false, reason: 'response aborted (truncated)' });
  });

  test('a whole answer from a server that keeps the connection open is read at once', async () => {
    const page = 'Active connections: 1 \nserver accepts handled requests\n 1 1 1 \nReading: 0 Writing: 1 Waiting: 0 \n';
    await serve('127.0.1.19', socket => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${page.length}\r\n\r\n${page}`));
    const read = await scrapeOne({ taskId: 'open', address: '127.0.1.19' }, STATUS_PORT, 1000);
    expect(read).toMatchObject({ ok: true, status: { active: 1 } });
    expect(read.ms).toBeLessThan(900);
  });

  test('an oversized answer is a failure', async () => {
    await serve('127.0.1.13', socket => socket.end(`HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n${'x'.repeat(5000)}`));
    expect(await scrapeOne({ taskId: 'big', address: '127.0.1.13' }, STATUS_PORT, 1000)).toMatchObject({ ok: false, reason: 'answer longer than 1024 bytes' });
  });

  test('a hanging task times out on its own, without holding up the others', async () => {
    await serve('127.0.1.14', () => undefined);
    await startNginx('127.0.1.15');
    const t0 = Date.now();
    const results = await scrapeAll(
      [{ taskId: 'hang', address: '127.0.1.14' }, { taskId: 'ok', address: '127.0.1.15' }, { taskId: 'refused', address: '127.0.1.16' }],
      { port: STATUS_PORT, requestTimeoutMs: 300, deadlineMs: 1000, concurrency: 8 },
    );
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(results.map(r => [r.taskId, r.ok])).toEqual([['hang', false], ['ok', true], ['refused', false]]);
    expect(results[0]).toMatchObject({ reason: 'no answer within 300 ms' });
    expect(results[2]).toMatchObject({ reason: 'request: ECONNREFUSED' });
  });

  test('what is not reached by the deadline fails as such', async () => {
    const targets = Array.from({ length: 4 }, (_, i) => ({ taskId: `h${i}`, address: '127.0.1.14' }));
    const results = await scrapeAll(targets, { port: STATUS_PORT, requestTimeoutMs: 200, deadlineMs: 300, concurrency: 1 });
    expect(results.filter(r => !r.ok && r.reason.startsWith('scrape deadline passed'))).toHaveLength(2);
  });

  test('each reading is dated when its answer arrived, not when the scrape started', async () => {
    // A task that answers after 300 ms, then one queued behind it (concurrency 1).
    await serve('127.0.1.17', socket => setTimeout(() => socket.end(
      'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nActive connections: 1 \nserver accepts handled requests\n 1 1 1 \nReading: 0 Writing: 1 Waiting: 0 \n',
    ), 300));
    await startNginx('127.0.1.18');
    const t0 = Date.now();
    const [slow, queued] = await scrapeAll(
      [{ taskId: 'slow', address: '127.0.1.17' }, { taskId: 'queued', address: '127.0.1.18' }],
      { port: STATUS_PORT, requestTimeoutMs: 1000, deadlineMs: 2000, concurrency: 1 },
    );
    expect(slow).toMatchObject({ ok: true });
    expect(queued).toMatchObject({ ok: true });
    expect(slow.at).toBeGreaterThanOrEqual(t0 + 300);
    // The queued task was read after the slow one answered: far later than t0 + its own short duration.
    expect(queued.at).toBeGreaterThanOrEqual(slow.at);
    expect(queued.at - t0).toBeGreaterThan(queued.ms + 250);
  });
});

describe('the task agent and Prometheus sources through the same scraper: a bad answer is unread, never 0', () => {
  const prometheus = readerFor({
    source: { type: 'prometheus', path: '/metrics', series: { name: 'busy', labels: {} } },
    policy: { type: 'targetTracking', metric: 'PROMETHEUS_GAUGE', targetPerTask: 1 },
  });
  const agent = readerFor({ source: { type: 'taskAgent' }, policy: { type: 'targetTracking', metric: 'ACTIVE_CONNECTIONS', targetPerTask: 1 } });
  const answer = (body: string) => `HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n${body}`;
  const cases: Array<[string, string, (s: net.Socket) => void, typeof prometheus, RegExp | undefined]> = [
    ['a Prometheus gauge, asked over HTTP/1.0 on its path', '127.0.1.30', s => s.once('data', d => s.end(answer(String(d).startsWith('GET /metrics HTTP/1.0\r\n') ? 'busy 4\n' : 'nope'))), prometheus, undefined],
    ['an exposition over 1 MiB', '127.0.1.31', s => s.end(answer(`busy 1\n${'# padding\n'.repeat(110_000)}`)), prometheus, /answer longer than 1048576 bytes/],
    ['a NaN gauge', '127.0.1.32', s => s.end(answer('busy NaN\n')), prometheus, /not a finite number/],
    ['a negative gauge', '127.0.1.33', s => s.end(answer('busy -3\n')), prometheus, /not a finite number of 0 or more/],
    ['a reset', '127.0.1.34', s => s.resetAndDestroy(), prometheus, /ECONNRESET|empty answer/],
    ['a chunked answer', '127.0.1.35', s => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\nbusy 4\n\r\n0\r\n\r\n'), prometheus, /chunked/],
    ['the agent\'s count', '127.0.1.36', s => s.end(answer('{"connections":12}\n')), agent, undefined],
    ['the agent answering garbage', '127.0.1.37', s => s.end(answer('{"connections":')), agent, /not the agent's answer/],
    ['the agent unable to read /proc/net/tcp', '127.0.1.38', s => s.end('HTTP/1.0 503 Service Unavailable\r\n\r\n{"error":"/proc/net/tcp is unreadable"}'), agent, /HTTP 503/],
  ];
  test.each(cases)('%s', async (_name, address, handler, reader, failure) => {
    await serve(address, handler);
    const r = await scrapeOne({ taskId: 'x', address }, STATUS_PORT, 1000, reader);
    if (failure) expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(failure) });
    else expect(r).toMatchObject({ ok: true, ...(reader === agent ? { connections: 12 } : { value: 4 }) });
  });

  test('a hanging endpoint times out', async () => {
    await serve('127.0.1.39', () => undefined);
    expect(await scrapeOne({ taskId: 'h', address: '127.0.1.39' }, STATUS_PORT, 300, prometheus)).toMatchObject({ ok: false, reason: 'no answer within 300 ms' });
  });
});
