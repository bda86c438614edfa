import { createHash } from 'crypto';
import { EventEmitter } from 'events';
import * as http from 'http';
import { AddressInfo, Socket } from 'net';
import { URL } from 'url';

/** What /echo tells about the request it got. */
export interface EchoReply {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  /** Header lines as received, names in the case sent, in order. */
  readonly rawHeaders: string[];
  readonly bodyBytes: number;
  readonly bodySha256: string;
}

/**
 * A small app with the behaviours a proxy tends to break, for the transparency suite:
 * echo (headers and bodies, streamed), the app's own error pages, large response
 * headers, a server-sent event stream gated by the test, slow answers, WebSocket and
 * another Upgrade, and connections closed by the app just as a request arrives.
 *
 * - `/echo`: answers an EchoReply once the body ended; emits `body` (id, bytes so far)
 *   as body bytes arrive, the id being the request's `x-test-id` header.
 * - `/status/<code>`: that status, `x-app-error: yes` and the body `app says <code>`.
 * - `/headers?bytes=N&line=L`: about N bytes of response headers in lines of L bytes.
 * - `/events?id=X&n=N`: a text/event-stream; event i+1 is written only after the test
 *   calls `release(X)`, so a client can only see event i if the proxy passed it on.
 * - `/slow?ms=N`: answers after N ms of silence.
 * - `/interim?status=103|102`: a 103 Early Hints (a `Link` header) or a 102 Processing,
 *   then `final answer`.
 * - `/arm-drop`: answers, and marks its connection so that the next request on it is
 *   dropped unanswered (the app closing an idle keep-alive connection as it arrives).
 * - `/close-soon`: answers, then closes the connection 0-3 ms later if it is idle.
 * - Upgrade `websocket` on any path: a WebSocket that echoes text frames; any other
 *   Upgrade: 101, then every byte echoed.
 */
export class TransparencyApp extends EventEmitter {
  public static async start(o: { keepAliveTimeoutMs?: number } = {}): Promise<TransparencyApp> {
    const app = new TransparencyApp(o.keepAliveTimeoutMs ?? 80_000);
    await new Promise<void>(resolve => app.server.listen(0, '127.0.0.1', resolve));
    return app;
  }

  public readonly server: http.Server;
  /** Requests the app dropped unanswered because of /arm-drop. */
  public dropped = 0;
  /** The client port of every request's connection, in order: which connection served it. */
  public readonly connectionPorts: number[] = [];
  private readonly armed = new WeakSet<Socket>();
  private readonly gates = new Map<string, () => void>();
  /** Upgraded connections, which the HTTP server no longer tracks. */
  private readonly upgraded = new Set<Socket>();

  private constructor(keepAliveTimeoutMs: number) {
    super();
    // Room for the load balancer's 64 KB of request headers.
    this.server = http.createServer({ maxHeaderSize: 128 * 1024 }, (req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = keepAliveTimeoutMs;
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head));
  }

  public get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Lets /events?id=X write its next event. */
  public release(id: string): void {
    const gate = this.gates.get(id);
    this.gates.delete(id);
    gate?.();
  }

  public stop(): Promise<void> {
    this.server.closeAllConnections();
    this.upgraded.forEach(s => s.destroy());
    return new Promise(resolve => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const socket = req.socket;
    this.connectionPorts.push(socket.remotePort ?? 0);
    if (this.armed.has(socket)) {
      this.armed.delete(socket);
      this.dropped++;
      socket.destroy();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://app');
    const [, route, arg] = url.pathname.split('/');
    const id = String(req.headers['x-test-id'] ?? '');
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
      this.emit('body', id, bytes);
    });
    req.on('end', () => {
      switch (route) {
        case 'status':
          res.writeHead(Number(arg), { 'content-type': 'text/plain', 'x-app-error': 'yes' });
          return res.end(`app says ${arg}`);
        case 'headers': {
          const total = Number(url.searchParams.get('bytes'));
          const line = Number(url.searchParams.get('line') ?? 4000);
          const headers: Record<string, string> = {};
          for (let i = 0; i * line < total; i++) headers[`x-large-${i}`] = 'h'.repeat(line);
          res.writeHead(200, headers);
          return res.end('large headers');
        }
        case 'events':
          return this.events(url, res);
        case 'interim':
          if (url.searchParams.get('status') === '102') res.writeProcessing();
          else res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 12 });
          return res.end('final answer');
        case 'slow':
          return setTimeout(() => res.end('slow answer'), Number(url.searchParams.get('ms')));
        case 'arm-drop':
          this.armed.add(socket);
          return res.end('armed');
        case 'close-soon':
          res.end('ok');
          return setTimeout(() => {
            if (!socket.destroyed && !(socket as unknown as { _httpMessage?: unknown })._httpMessage) socket.destroy();
          }, Math.random() * 3);
        default: {
          const reply: EchoReply = {
            method: req.method ?? '',
            url: req.url ?? '',
            httpVersion: req.httpVersion,
            rawHeaders: req.rawHeaders,
            bodyBytes: bytes,
            bodySha256: hash.digest('hex'),
          };
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end(JSON.stringify(reply));
        }
      }
    });
  }

  private events(url: URL, res: http.ServerResponse) {
    const id = url.searchParams.get('id') ?? '';
    const n = Number(url.searchParams.get('n') ?? 3);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const write = (i: number): void => {
      res.write(`id: ${i}\ndata: event ${i}\n\n`);
      if (i + 1 === n) res.end();
      else this.gates.set(id, () => write(i + 1));
    };
    write(0);
  }

  private upgrade(req: http.IncomingMessage, socket: Socket, head: Buffer) {
    this.connectionPorts.push(socket.remotePort ?? 0);
    this.upgraded.add(socket);
    socket.on('close', () => this.upgraded.delete(socket));
    if (String(req.headers.upgrade).toLowerCase() === 'websocket') {
      const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      let buffered = head;
      socket.on('data', (data: Buffer) => {
        buffered = Buffer.concat([buffered, data]);
        let frame: { text: string; rest: Buffer } | undefined;
        while ((frame = readMaskedTextFrame(buffered))) {
          buffered = frame.rest;
          socket.write(textFrame(frame.text));
        }
      });
    } else {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade}\r\nConnection: Upgrade\r\n\r\n`);
      if (head.length > 0) socket.write(head);
      socket.pipe(socket);
    }
    socket.on('error', () => socket.destroy());
  }
}

// WebSocket framing is bit fields and XOR masks (RFC 6455, 5.2-5.3).
/* eslint-disable no-bitwise */

/** One client-to-server text frame (masked, short payload), or undefined until it is complete. */
function readMaskedTextFrame(b: Buffer): { text: string; rest: Buffer } | undefined {
  if (b.length < 2) return undefined;
  const length = b[1] & 0x7f;
  if (length >= 126) throw new Error('the test app reads short frames only');
  if (b.length < 6 + length) return undefined;
  const mask = b.subarray(2, 6);
  const payload = Buffer.from(b.subarray(6, 6 + length).map((byte, i) => byte ^ mask[i % 4]));
  return { text: payload.toString('utf8'), rest: b.subarray(6 + length) };
}

/** One server-to-client text frame (unmasked, short payload). */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
}
/* eslint-enable no-bitwise */
