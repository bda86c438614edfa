import * as http from 'http';
import * as net from 'net';
import { scrapeAll, scrapeOne } from '../../src/controller/scraper';
import { LocalApp } from '../support/local-app';
import { NginxTask } from '../support/nginx-task';

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
    const nginx = await NginxTask.start({ address: '127.0.1.1', proxyPort: 18612, statusPort: STATUS_PORT, appPort: app.port });
    started.push(nginx);
    const result = await scrapeOne({ taskId: 't1', address: '127.0.1.1' }, STATUS_PORT, 1000);
    expect(result).toMatchObject({ ok: true, status: { active: 1, writing: 1, reading: 0, waiting: 0 } });
  });

  test('sees connections held open through the proxy', async () => {
    const nginx = await NginxTask.start({ address: '127.0.1.2', proxyPort: 18612, statusPort: STATUS_PORT, appPort: app.port });
    started.push(nginx);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 5 });
    await Promise.all(Array.from({ length: 5 }, () => new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.1.2', port: 18612, path: '/', agent }, res => {
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
    const nginx = await NginxTask.start({ address: '127.0.1.3', proxyPort: 18612, statusPort: STATUS_PORT, appPort: app.port });
    started.push(nginx);
    const result = await scrapeOne({ taskId: 't3', address: '127.0.1.3' }, 18612, 1000);
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
    const nginx = await NginxTask.start({ address: '127.0.1.15', proxyPort: 18612, statusPort: STATUS_PORT, appPort: app.port });
    started.push(nginx);
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
    const nginx = await NginxTask.start({ address: '127.0.1.18', proxyPort: 18612, statusPort: STATUS_PORT, appPort: app.port });
    started.push(nginx);
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
