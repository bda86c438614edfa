/**
 * The proxy is invisible: every case goes both straight to a real Node.js app and
 * through a real nginx running the configuration the construct renders into the task
 * definition, and must come out the same (status, body, end-to-end headers, and when
 * streamed bytes arrive).
 */
import * as http from 'http';
import { STATUS_PATH } from '../../src/controller/read/stub-status';
import { endToEnd, exchange, Exchange, observable, rawConversation, readUntil, responseBody, Target } from '../support/http-exchange';
import { freePort, NginxTask, nginxVersion } from '../support/nginx-task';
import { EchoReply, TransparencyApp } from '../support/transparency-app';
import { waitFor } from '../support/wait-for';

const ADDRESS = '127.0.2.1';
let app: TransparencyApp;
let nginx: NginxTask;
let direct: Target;
let proxy: Target;
const started: Array<{ stop(): Promise<void> }> = [];

beforeAll(async () => {
  app = await TransparencyApp.start();
  started.push(app);
  nginx = await NginxTask.start({ address: ADDRESS, appPort: app.port });
  started.push(nginx);
  direct = { name: 'direct', host: '127.0.0.1', port: app.port };
  proxy = { name: 'proxy', host: ADDRESS, port: nginx.options.proxyPort };
});
afterAll(async () => {
  await Promise.all(started.map(s => s.stop()));
});

/** Runs the case against the app directly and through the proxy. */
async function both<T>(run: (target: Target) => Promise<T>): Promise<{ direct: T; proxy: T }> {
  return { direct: await run(direct), proxy: await run(proxy) };
}

function echo(e: Exchange): EchoReply {
  expect(e.status).toBe(200);
  return JSON.parse(e.body.toString('utf8')) as EchoReply;
}

/**
 * What the app saw, less hop-by-hop headers, the test's own request id and, where the test
 * did not set it, Host (its port differs between the two targets).
 */
function seenByApp(reply: EchoReply, dropHost = false) {
  return { ...reply, rawHeaders: endToEnd(reply.rawHeaders, ['x-test-id', ...(dropHost ? ['host'] : [])]) };
}

let nextId = 0;
/** A body whose first part the app must have seen before the client sends the rest. */
async function streamedUpload(target: Target, parts: Buffer[], chunked: boolean) {
  const id = `upload-${nextId++}`;
  let seen = 0;
  const onBody = (bodyId: string, bytes: number) => {
    if (bodyId === id) seen = bytes;
  };
  app.on('body', onBody);
  try {
    return echo(await exchange(target, {
      method: 'POST',
      path: '/echo',
      headers: [['x-test-id', id], ['Content-Type', 'application/octet-stream']],
      body: parts,
      chunked,
      // Only a proxy that streams lets the app see bytes while the client still holds the rest.
      between: async i => {
        const sent = parts.slice(0, i + 1).reduce((n, b) => n + b.length, 0);
        await waitFor(`${target.name}: the app to see body bytes before the client sent more than ${sent}`, () => seen > 0, 10_000, 5);
      },
    }));
  } finally {
    app.off('body', onBody);
  }
}

describe('requests reach the app as sent', () => {
  test('path and query byte for byte, Host exactly as sent, forwarding headers untouched, any header name, repeated headers', async () => {
    const result = await both(async target => echo(await exchange(target, {
      path: '/echo//a/./../b%2F;p?x=1&y=%20&x=2',
      headers: [
        ['Host', 'Example.COM:8443'],
        ['X-Forwarded-For', '203.0.113.7, 10.0.1.23'],
        ['X-Forwarded-Proto', 'https'],
        ['X-Forwarded-Port', '443'],
        ['X-Amzn-Trace-Id', 'Root=1-5759e988-bd862e3fe1be46a994272793'],
        ['x_under_score', 'nginx drops this name by default'],
        ['X.Dotted.Name', 'and this one'],
        ['x~tilde!', 'and this one'],
        ['X-Repeated', 'first'],
        ['X-Repeated', 'second'],
        ['Accept', '*/*'],
      ],
    })));
    expect(seenByApp(result.proxy)).toEqual(seenByApp(result.direct));
    // Spelled out, so that a change on both paths would still show.
    expect(endToEnd(result.proxy.rawHeaders)).toEqual(expect.arrayContaining([
      ['Host', 'Example.COM:8443'],
      ['X-Forwarded-For', '203.0.113.7, 10.0.1.23'],
      ['x_under_score', 'nginx drops this name by default'],
      ['X-Repeated', 'first'],
      ['X-Repeated', 'second'],
    ]));
    expect(result.proxy.url).toBe('/echo//a/./../b%2F;p?x=1&y=%20&x=2');
  });

  test('a 12 KB Cookie', async () => {
    const cookie = Array.from({ length: 12 }, (_, i) => `sso_part_${i}=${'c'.repeat(1000)}`).join('; ');
    const result = await both(async target => echo(await exchange(target, { path: '/echo', headers: [['Cookie', cookie]] })));
    expect(seenByApp(result.proxy, true)).toEqual(seenByApp(result.direct, true));
    expect(endToEnd(result.proxy.rawHeaders)).toContainEqual(['Cookie', cookie]);
  });

  test("up to the load balancer's limits: a 16 KB request line, 16 KB header lines, 64 KB of header fields in all", async () => {
    const requestLine = (path: string) => `GET ${path} HTTP/1.1\r\n`.length;
    const path = `/echo/${'p'.repeat(16 * 1024 - requestLine('/echo/'))}`;
    expect(requestLine(path)).toBe(16 * 1024);
    // Header fields (without the request line): three 16 KB lines (name, ": ", value, CRLF)
    // and a Cookie that brings them, with Host, Connection and the blank line, to 64 KB.
    const line = (name: string) => 'v'.repeat(16 * 1024 - name.length - 4);
    const headers: Array<[string, string]> = [0, 1, 2].map(i => [`X-Large-${i}`, line(`X-Large-${i}`)]);
    headers.push(['Cookie', `session=${'s'.repeat(16 * 1024 - 300)}`]);
    const total = headers.reduce((n, [name, value]) => n + name.length + value.length + 4, 0) + 100;
    expect(total).toBeGreaterThan(63.5 * 1024);
    expect(total).toBeLessThanOrEqual(64 * 1024);
    const result = await both(async target => echo(await exchange(target, { path, headers })));
    expect(seenByApp(result.proxy, true)).toEqual(seenByApp(result.direct, true));
  });

  test('a 2 MB POST streams: the app sees its first bytes before the client sent the rest', async () => {
    const parts = [Buffer.alloc(64 * 1024, 1), Buffer.alloc(2 * 1024 * 1024 - 64 * 1024, 2)];
    const result = await both(target => streamedUpload(target, parts, false));
    expect(result.proxy).toMatchObject({ method: 'POST', bodyBytes: 2 * 1024 * 1024 });
    expect(seenByApp(result.proxy, true)).toEqual(seenByApp(result.direct, true));
  });

  test('a chunked request body streams too', async () => {
    const parts = [Buffer.from('first chunk'), Buffer.alloc(300 * 1024, 3), Buffer.from('last chunk')];
    const result = await both(target => streamedUpload(target, parts, true));
    expect(endToEnd(result.proxy.rawHeaders)).toContainEqual(['Transfer-Encoding', 'chunked']);
    expect(seenByApp(result.proxy, true)).toEqual(seenByApp(result.direct, true));
  });

  test('a 64 MB body, whole', async () => {
    const parts = Array.from({ length: 64 }, (_, i) => Buffer.alloc(1024 * 1024, i));
    const result = await both(async target => echo(await exchange(target, { method: 'PUT', path: '/echo', body: parts })));
    expect(result.proxy.bodyBytes).toBe(64 * 1024 * 1024);
    expect(seenByApp(result.proxy, true)).toEqual(seenByApp(result.direct, true));
  });
});

describe('responses reach the client as the app sent them', () => {
  test.each([400, 401, 404, 418, 500, 502, 503, 504])("the app's own %i: status, body and headers unchanged", async code => {
    const result = await both(async target => observable(await exchange(target, { path: `/status/${code}` })));
    expect(result.proxy).toEqual(result.direct);
    expect(result.proxy).toMatchObject({ status: code, body: `app says ${code}` });
  });

  test('40 KB of response headers, and a single 16 KB response header line', async () => {
    for (const path of ['/headers?bytes=40000&line=4000', '/headers?bytes=16000&line=16000']) {
      const result = await both(async target => observable(await exchange(target, { path })));
      expect(result.proxy).toEqual(result.direct);
      expect(result.proxy.status).toBe(200);
    }
  });

  test('response headers nginx would act on (X-Accel-*) and Server and Date pass as the app sent them', async () => {
    const headers = ['X-Accel-Redirect: /elsewhere', 'X-Accel-Buffering: yes', 'X-Accel-Limit-Rate: 1', 'Server: the-app/1.0', 'Date: Thu, 01 Jan 2026 00:00:00 GMT'];
    const server = http.createServer((_req, res) => {
      res.sendDate = false;
      for (const h of headers) res.setHeader(h.split(': ')[0], h.split(': ')[1]);
      res.end('not redirected');
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const task = await NginxTask.start({ address: '127.0.2.3', appPort: port });
    try {
      const viaDirect = observable(await exchange({ name: 'direct', host: '127.0.0.1', port }, { path: '/' }));
      const viaProxy = observable(await exchange({ name: 'proxy', host: task.address, port: task.options.proxyPort }, { path: '/' }));
      expect(viaProxy).toEqual(viaDirect);
      const sent = (await exchange({ name: 'proxy', host: task.address, port: task.options.proxyPort }, { path: '/' })).rawHeaders;
      expect(sent).toEqual(expect.arrayContaining(['Server', 'the-app/1.0', 'Date', 'Thu, 01 Jan 2026 00:00:00 GMT']));
    } finally {
      await task.stop();
      server.closeAllConnections();
      await new Promise(resolve => server.close(resolve));
    }
  });

  test('server-sent events: the client gets each event when the app writes it, not when the stream ends', async () => {
    const result = await both(target => new Promise<string[]>((resolve, reject) => {
      const id = `events-${nextId++}`;
      const events: string[] = [];
      http.get({ host: target.host, port: target.port, path: `/events?id=${id}&n=4`, agent: false }, res => {
        expect(res.headers['content-type']).toBe('text/event-stream');
        res.setEncoding('utf8');
        // The app writes event i+1 only after event i reached the client.
        res.on('data', (chunk: string) => {
          events.push(chunk);
          app.release(id);
        });
        res.on('end', () => resolve(events));
      }).on('error', reject);
    }));
    const expected = [0, 1, 2, 3].map(i => `id: ${i}\ndata: event ${i}\n\n`);
    expect(result.direct).toEqual(expected);
    expect(result.proxy).toEqual(expected);
  });
});

describe('upgrades', () => {
  test('a WebSocket opens and echoes, as directly', async () => {
    const result = await both(target => new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(`ws://${target.host}:${target.port}/socket`);
      ws.onopen = () => ws.send('hello through the proxy');
      ws.onmessage = event => {
        resolve(String(event.data));
        ws.close();
      };
      ws.onerror = () => reject(new Error(`${target.name}: WebSocket failed`));
    }));
    expect(result.proxy).toBe('hello through the proxy');
    expect(result.proxy).toEqual(result.direct);
  });

  test('any other Upgrade: 101, then bytes both ways', async () => {
    const result = await both(async target => {
      const request = 'GET /tunnel HTTP/1.1\r\nHost: app.example\r\nConnection: Upgrade\r\nUpgrade: x-echo/1\r\n\r\n';
      const { socket, received } = await rawConversation(target, request, r => r.includes('\r\n\r\n'));
      const echoed = await new Promise<string>(resolve => {
        let text = '';
        socket.on('data', (d: Buffer) => {
          text += d.toString();
          if (text === 'ping-pong') resolve(text);
        });
        socket.write('ping-');
        setTimeout(() => socket.write('pong'), 50);
      });
      socket.destroy();
      return { statusLine: received.split('\r\n')[0], upgrade: /\r\nupgrade: (.*)\r\n/i.exec(received)?.[1], echoed };
    });
    expect(result.proxy).toEqual({ statusLine: 'HTTP/1.1 101 Switching Protocols', upgrade: 'x-echo/1', echoed: 'ping-pong' });
    expect(result.proxy).toEqual(result.direct);
  });

  // The app upgrades only when Connection names the upgrade token (RFC 9110, 7.8); an Upgrade
  // header alone is an ordinary request, and the proxy must not turn it into an upgrade.
  test.each([
    ['Connection: Upgrade', 101, 'Upgrade'],
    ['the token in a list, any case (keep-alive, UPGRADE)', 101, 'keep-alive, UPGRADE'],
    ['no Connection header', 200, undefined],
    ['Connection: keep-alive', 200, 'keep-alive'],
    ['a word that is not the token (upgraded)', 200, 'upgraded'],
  ])('an Upgrade header with %s: %i, as directly', async (_case, status, connection) => {
    const result = await both(async target => {
      const request = `GET /echo HTTP/1.1\r\nHost: app.example\r\n${connection ? `Connection: ${connection}\r\n` : ''}Upgrade: x-echo/1\r\n\r\n`;
      const { socket, received } = await rawConversation(target, request, r => responseBody(r) !== undefined);
      socket.destroy();
      const statusLine = received.split('\r\n')[0];
      const reply = statusLine.includes(' 200 ') ? JSON.parse(responseBody(received)!) as EchoReply : undefined;
      // The Upgrade header itself reaches the app as sent (seenByApp leaves hop-by-hop headers out).
      const upgrade = reply?.rawHeaders.find((_h, i, all) => i % 2 === 1 && all[i - 1] === 'Upgrade');
      return { statusLine, seen: reply && seenByApp(reply), upgrade };
    });
    expect(result.proxy.statusLine).toBe(status === 101 ? 'HTTP/1.1 101 Switching Protocols' : 'HTTP/1.1 200 OK');
    expect(result.proxy).toEqual(result.direct);
    if (status === 200) expect(result.proxy.upgrade).toBe('x-echo/1');
  });

  test('ordinary requests still reuse the connection to the app', async () => {
    await exchange(proxy, { path: '/echo' });
    const before = app.connectionPorts.length;
    await exchange(proxy, { path: '/echo' });
    await exchange(proxy, { path: '/echo' });
    const ports = app.connectionPorts.slice(before - 1);
    expect(new Set(ports).size).toBe(1);
  });
});

describe('the app closing idle connections never becomes a 502', () => {
  test('a GET on a reused connection the app dropped is resent on a new one', async () => {
    await exchange(proxy, { path: '/arm-drop' });
    const dropped = app.dropped;
    const response = await exchange(proxy, { path: '/echo' });
    expect(response.status).toBe(200);
    // The case happened: the app dropped the request on the reused connection.
    expect(app.dropped).toBe(dropped + 1);
  });

  test('a POST never rides a reused connection, so a dropped idle connection cannot hit it', async () => {
    await exchange(proxy, { path: '/arm-drop' });
    const dropped = app.dropped;
    const response = await exchange(proxy, { method: 'POST', path: '/echo', body: [Buffer.from('pay once')] });
    expect(response.status).toBe(200);
    expect(echo(response).bodyBytes).toBe(8);
    expect(app.dropped).toBe(dropped);
    // The armed connection is still in the pool; a GET meets it and is resent.
    expect((await exchange(proxy, { path: '/echo' })).status).toBe(200);
    expect(app.dropped).toBe(dropped + 1);
  });

  test('an app that closes every connection 0-3 ms after answering: 1,000 GETs and 1,000 POSTs, all answered by the app', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const statuses: Record<string, number> = {};
    for (let i = 0; i < 2000; i++) {
      const post = i % 2 === 1;
      const response = await exchange(proxy, { method: post ? 'POST' : 'GET', path: '/close-soon', body: post ? [Buffer.from('x')] : undefined, agent });
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      await new Promise(resolve => setTimeout(resolve, Math.random() * 3));
    }
    agent.destroy();
    expect(statuses).toEqual({ 200: 2000 });
  });

  test('an app with a 250 ms keep-alive timeout, requests arriving as it closes', async () => {
    const shortApp = await TransparencyApp.start({ keepAliveTimeoutMs: 250 });
    const task = await NginxTask.start({ address: '127.0.2.2', appPort: shortApp.port });
    try {
      const target: Target = { name: 'proxy', host: task.address, port: task.options.proxyPort };
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) {
        const post = i % 2 === 1;
        statuses.push((await exchange(target, { method: post ? 'POST' : 'GET', path: '/echo', body: post ? [Buffer.from('x')] : undefined })).status);
        await new Promise(resolve => setTimeout(resolve, 240 + Math.random() * 20));
      }
      expect(statuses.filter(s => s !== 200)).toEqual([]);
    } finally {
      await task.stop();
      await shortApp.stop();
    }
  });
});


/**
 * Interim (1xx) responses from the app. nginx before 1.29 takes any 1xx for the final
 * response: the client still gets the app's final response (as the 1xx's body), but
 * nginx reads that body until the app closes its connection, so the next request on the
 * client's connection waits for the app's keep-alive timeout. nginx 1.29.8 and later parse
 * a 103 as interim (and pass it on with `early_hints`, which the default image's
 * configuration has); a 102 stalls on every version. These tests pin what the local
 * nginx does; docs/metric-sources.md says what the app sees.
 */
describe('interim responses (documented differences)', () => {
  let hintsApp: TransparencyApp;
  let hintsTask: NginxTask;
  let hints: { direct: Target; proxy: Target };
  const version = nginxVersion().split('.').map(Number);
  const parses103 = version[0] > 1 || version[1] > 29 || (version[1] === 29 && version[2] >= 8);

  beforeAll(async () => {
    // Its own app, whose idle connections the test closes when it chooses.
    hintsApp = await TransparencyApp.start();
    hintsTask = await NginxTask.start({ address: '127.0.2.6', appPort: hintsApp.port });
    hints = {
      direct: { name: 'direct', host: '127.0.0.1', port: hintsApp.port },
      proxy: { name: 'proxy', host: hintsTask.address, port: hintsTask.options.proxyPort },
    };
  });
  afterAll(async () => {
    await hintsTask.stop();
    await hintsApp.stop();
  });

  /** The interim request, then a second request on the same connection: how its answer comes. */
  async function interimThenNext(status: 102 | 103) {
    return { direct: await interimThenNextOn(hints.direct, status), proxy: await interimThenNextOn(hints.proxy, status) };
  }

  async function interimThenNextOn(target: Target, status: 102 | 103) {
    const first = `GET /interim?status=${status} HTTP/1.1\r\nHost: app.example\r\n\r\n`;
    const { socket, received } = await rawConversation(target, first, r => r.includes('final answer'));
    socket.write('GET /echo HTTP/1.1\r\nHost: app.example\r\n\r\n');
    const answered = (r: string) => r.includes('"url":"/echo"');
    // Directly, the answer comes at once; a stalled proxy gives nothing until the app closes.
    let next = await readUntil(socket, answered, 1500);
    const stalled = next === undefined;
    if (stalled) {
      // As the app's keep-alive timeout would, at a moment the test picks.
      hintsApp.server.closeAllConnections();
      next = await readUntil(socket, answered, 10_000);
    }
    socket.destroy();
    return { statusLines: received.split('\r\n').filter(l => l.startsWith('HTTP/1.1 ')), finalAnswer: received.endsWith('final answer'), stalled, next: next?.split('\r\n')[0] };
  }

  test('103 Early Hints', async () => {
    const result = await interimThenNext(103);
    expect(result.direct).toEqual({ statusLines: ['HTTP/1.1 103 Early Hints', 'HTTP/1.1 200 OK'], finalAnswer: true, stalled: false, next: 'HTTP/1.1 200 OK' });
    if (parses103) {
      // nginx 1.29.8+: the hint is dropped without early_hints (the test's configuration), nothing stalls.
      expect(result.proxy).toEqual({ statusLines: ['HTTP/1.1 200 OK'], finalAnswer: true, stalled: false, next: 'HTTP/1.1 200 OK' });
    } else {
      // EXPECTED DIFFERENCE with nginx < 1.29 (Debian's 1.22 here): the same bytes reach the
      // client, but the next request waits until the app closes its idle connection.
      expect(result.proxy).toEqual({ ...result.direct, stalled: true });
    }
  });

  test('102 Processing', async () => {
    const result = await interimThenNext(102);
    expect(result.direct).toEqual({ statusLines: ['HTTP/1.1 102 Processing', 'HTTP/1.1 200 OK'], finalAnswer: true, stalled: false, next: 'HTTP/1.1 200 OK' });
    // EXPECTED DIFFERENCE on every nginx version: the next request waits for the app to close.
    expect(result.proxy).toEqual({ ...result.direct, stalled: true });
  });
});

describe("nginx's own answers", () => {
  test('only when the app is down: 502', async () => {
    const closedPort = await freePort('127.0.0.1');
    const task = await NginxTask.start({ address: '127.0.2.4', appPort: closedPort });
    try {
      await expect(exchange({ name: 'direct', host: '127.0.0.1', port: closedPort }, { path: '/' })).rejects.toThrow(/ECONNREFUSED/);
      expect((await exchange({ name: 'proxy', host: task.address, port: task.options.proxyPort }, { path: '/' })).status).toBe(502);
      expect((await exchange({ name: 'proxy', host: task.address, port: task.options.proxyPort }, { method: 'POST', path: '/', body: [Buffer.from('x')] })).status).toBe(502);
    } finally {
      await task.stop();
    }
  });

  test('proxyTimeout and proxyMaxRequestBodySize take effect when set', async () => {
    const task = await NginxTask.start({
      address: '127.0.2.5',
      appPort: app.port,
      timeoutSeconds: 1,
      maxRequestBodyBytes: 1024,
    });
    try {
      const target: Target = { name: 'proxy', host: task.address, port: task.options.proxyPort };
      expect((await exchange(target, { path: '/slow?ms=3000' })).status).toBe(504);
      expect((await exchange(target, { method: 'POST', path: '/echo', body: [Buffer.alloc(1024)] })).status).toBe(200);
      expect((await exchange(target, { method: 'POST', path: '/echo', body: [Buffer.alloc(1025)] })).status).toBe(413);
    } finally {
      await task.stop();
    }
  });
});

describe('what the autoscaler reads', () => {
  test('stub_status counts every request once, whichever way it reaches the app', async () => {
    const status: Target = { name: 'proxy', host: ADDRESS, port: nginx.options.statusPort };
    const requests = async () => {
      const page = (await exchange(status, { path: STATUS_PATH })).body.toString();
      return Number(/\n\s*\d+\s+\d+\s+(\d+)\s*\n/.exec(page)![1]);
    };
    const before = await requests();
    await exchange(proxy, { path: '/echo' });
    await exchange(proxy, { method: 'POST', path: '/echo', body: [Buffer.from('x')] });
    await exchange(proxy, { method: 'DELETE', path: '/echo' });
    // Three proxied requests and the second status read.
    expect(await requests()).toBe(before + 4);
  });
});
