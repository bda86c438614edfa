import * as http from 'http';
import * as net from 'net';

/** Where a request goes: straight to the app, or to the proxy in front of it. */
export interface Target {
  readonly name: 'direct' | 'proxy';
  readonly host: string;
  readonly port: number;
}

export interface Exchange {
  readonly status: number;
  readonly statusMessage: string;
  /** Response header lines as received, in order. */
  readonly rawHeaders: string[];
  readonly body: Buffer;
}

export interface ExchangeOptions {
  readonly method?: string;
  readonly path: string;
  /** Header lines in order; a name may repeat. */
  readonly headers?: Array<[string, string]>;
  /** Written in this order; `between` runs after each part but the last (e.g. to wait for the app). */
  readonly body?: Buffer[];
  readonly between?: (index: number) => Promise<void>;
  /** Sends the body chunked instead of with a Content-Length. */
  readonly chunked?: boolean;
  readonly agent?: http.Agent;
}

/** One request, with full control of its header lines, and its whole response. */
export function exchange(target: Target, o: ExchangeOptions): Promise<Exchange> {
  return new Promise<Exchange>((resolve, reject) => {
    const headers = [...(o.headers ?? [])];
    const body = o.body ?? [];
    const length = body.reduce((n, b) => n + b.length, 0);
    if (!headers.some(([name]) => name.toLowerCase() === 'host')) headers.unshift(['Host', `${target.host}:${target.port}`]);
    if (o.chunked) headers.push(['Transfer-Encoding', 'chunked']);
    else if (body.length > 0) headers.push(['Content-Length', String(length)]);
    const req = http.request({
      host: target.host,
      port: target.port,
      method: o.method ?? 'GET',
      path: o.path,
      headers: headers.flat(),
      setHost: false,
      agent: o.agent ?? false,
      maxHeaderSize: 256 * 1024,
    }, res => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    void (async () => {
      for (let i = 0; i < body.length; i++) {
        req.write(body[i]);
        if (i < body.length - 1) await o.between?.(i);
      }
      req.end();
    })().catch(reject);
  });
}

/** Hop-by-hop headers: they describe one connection, not the message (RFC 9110, 7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

/**
 * Header lines as [name, value] pairs without the hop-by-hop ones, grouped by name
 * (lower case) in a stable order: lines of one name keep their order, which matters.
 */
export function endToEnd(rawHeaders: string[], drop: string[] = []): Array<[string, string]> {
  const skip = new Set([...HOP_BY_HOP, ...drop]);
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (!skip.has(rawHeaders[i].toLowerCase())) pairs.push([rawHeaders[i], rawHeaders[i + 1]]);
  }
  return pairs.sort((a, b) => (a[0].toLowerCase() < b[0].toLowerCase() ? -1 : a[0].toLowerCase() > b[0].toLowerCase() ? 1 : 0));
}

/**
 * What a client can observe of a response, less what legitimately differs per connection:
 * hop-by-hop headers, how the body was framed (chunked or not) and the Date's second.
 * Response header names compare case-insensitively (nginx writes well-known ones its own way).
 */
export function observable(e: Exchange) {
  return {
    status: e.status,
    statusMessage: e.statusMessage,
    headers: endToEnd(e.rawHeaders, ['transfer-encoding', 'date']).map(([n, v]) => [n.toLowerCase(), v]),
    hasDate: e.rawHeaders.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'date'),
    body: e.body.toString('utf8'),
  };
}

/** Sends raw bytes on a new connection and collects what comes back until `done` says so. */
export function rawConversation(
  target: Target, request: string, done: (received: string) => boolean, timeoutMs = 10_000,
): Promise<{ socket: net.Socket; received: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port });
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${target.name}: no complete answer after ${timeoutMs} ms, got ${JSON.stringify(received.slice(0, 300))}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      received += d.toString('latin1');
      if (done(received)) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve({ socket, received });
      }
    };
    socket.on('data', onData);
    socket.on('error', err => {
      clearTimeout(timer);
      reject(err);
    });
    socket.write(request);
  });
}

/**
 * Collects what arrives next on an open connection until `done` says so, or gives up after
 * `timeoutMs` and resolves with `undefined` (the caller asserts what waiting means). Call it
 * before the data can arrive: bytes that come with no listener are lost.
 */
export function readUntil(socket: net.Socket, done: (received: string) => boolean, timeoutMs: number): Promise<string | undefined> {
  return new Promise(resolve => {
    let received = '';
    const finish = (result: string | undefined) => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(result);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    const onData = (d: Buffer) => {
      received += d.toString('latin1');
      if (done(received)) finish(received);
    };
    socket.on('data', onData);
  });
}

/**
 * The body of the first response in `received`, once it is whole (by Content-Length or
 * chunked framing); a 1xx head counts as whole with an empty body. `undefined` until then.
 */
export function responseBody(received: string): string | undefined {
  const end = received.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  if (/^HTTP\/1\.1 1\d\d /.test(received)) return '';
  const head = received.slice(0, end + 2);
  let rest = received.slice(end + 4);
  const length = /\r\ncontent-length: *(\d+)\r\n/i.exec(head);
  if (length) return rest.length >= Number(length[1]) ? rest.slice(0, Number(length[1])) : undefined;
  if (!/\r\ntransfer-encoding: *chunked\r\n/i.test(head)) return undefined;
  let body = '';
  for (;;) {
    const line = rest.indexOf('\r\n');
    if (line < 0) return undefined;
    const size = parseInt(rest.slice(0, line), 16);
    if (size === 0) return rest.includes('\r\n\r\n') ? body : undefined;
    if (rest.length < line + 2 + size + 2) return undefined;
    body += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 2 + size + 2);
  }
}
