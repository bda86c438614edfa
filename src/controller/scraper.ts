import * as net from 'net';
import { parseStubStatus, StubStatus } from './stub-status';
import { STATUS_PATH } from '../proxy-nginx-config';

export interface ScrapeTarget {
  readonly taskId: string;
  readonly address: string;
}

/**
 * One task's answer. `at` is when the answer arrived (epoch ms): the time a counter was
 * read, which for a request queued behind the concurrency limit is well after the scrape
 * started. `ms` is the request's own duration.
 */
export type ScrapeResult =
  | { readonly taskId: string; readonly ok: true; readonly status: StubStatus; readonly ms: number; readonly at: number }
  | { readonly taskId: string; readonly ok: false; readonly reason: string; readonly ms: number; readonly at: number };

export interface ScrapeOptions {
  readonly port: number;
  /** Each request's own limit. */
  readonly requestTimeoutMs: number;
  /** The whole scrape's limit: what has not answered by then has failed. */
  readonly deadlineMs: number;
  /** Requests under way at once. */
  readonly concurrency: number;
}

/** stub_status pages are about 110 bytes; anything much larger is not one. */
const MAX_BODY_BYTES = 1024;
/** nginx's status answer has a handful of short headers. */
const MAX_HEAD_BYTES = 4096;

/**
 * The whole request, built once. `Connection: close`: the status connection the page
 * counts is only ever the request's own (a kept-alive connection would be counted, idle,
 * by every other reader, such as a second Lambda instance during a run handover), and a
 * Lambda may hold no more than 1,024 descriptors, far fewer than the tasks it reads.
 */
const REQUEST = Buffer.from(`GET ${STATUS_PATH} HTTP/1.1\r\nHost: fast-autoscaler\r\nUser-Agent: fast-autoscaler\r\nConnection: close\r\n\r\n`, 'latin1');

/**
 * Reads every target's stub_status concurrently. Each read is a bare TCP exchange: one
 * write, a few hundred bytes back, the server closes. Node's HTTP client costs about 1.8
 * times the CPU per read (agent, parser and header objects; bench/RESULTS.md, "Status read
 * cost"), which on a Lambda's fraction of a vCPU decides whether thousands of tasks fit in
 * one tick.
 */
export async function scrapeAll(targets: readonly ScrapeTarget[], o: ScrapeOptions): Promise<ScrapeResult[]> {
  const started = Date.now();
  const deadline = started + o.deadlineMs;
  const results: ScrapeResult[] = new Array(targets.length);
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const i = next++;
      const target = targets[i];
      const remaining = deadline - Date.now();
      results[i] = remaining <= 0
        ? { taskId: target.taskId, ok: false, reason: 'scrape deadline passed before the request was sent', ms: 0, at: Date.now() }
        : await scrapeOne(target, o.port, Math.min(o.requestTimeoutMs, remaining));
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, targets.length) }, worker));
  return results;
}

export function scrapeOne(target: ScrapeTarget, port: number, timeoutMs: number): Promise<ScrapeResult> {
  const started = Date.now();
  return new Promise(resolve => {
    let settled = false;
    const chunks: Buffer[] = [];
    let size = 0;
    const socket = net.connect({ host: target.address, port });
    const finish = (r: { ok: true; status: StubStatus } | { ok: false; reason: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const at = Date.now();
      resolve({ ...r, taskId: target.taskId, ms: at - started, at });
    };
    const timer = setTimeout(() => finish({ ok: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.once('connect', () => socket.end(REQUEST));
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_HEAD_BYTES + MAX_BODY_BYTES) {
        finish({ ok: false, reason: `answer longer than ${MAX_BODY_BYTES} bytes` });
        return;
      }
      chunks.push(chunk);
      // A whole answer (its Content-Length reached) is enough: a server that keeps the
      // connection open, or resets it, after answering is not a failed read.
      const sofar = Buffer.concat(chunks);
      if (isWholeAnswer(sofar)) finish(readAnswer(sofar));
    });
    socket.once('end', () => finish(readAnswer(Buffer.concat(chunks))));
    socket.once('error', err => finish({ ok: false, reason: `request: ${(err as NodeJS.ErrnoException).code ?? err.message}` }));
  });
}

/** Whether an answer holds its head and as many body bytes as its Content-Length says. */
function isWholeAnswer(answer: Buffer): boolean {
  const headEnd = answer.indexOf('\r\n\r\n');
  if (headEnd < 0) return false;
  const length = /\r\ncontent-length:\s*(\d+)\s*\r\n/i.exec(answer.subarray(0, headEnd + 2).toString('latin1'));
  return length !== null && answer.length - headEnd - 4 >= Number(length[1]);
}

/** The status page from a whole HTTP/1.x answer, or why it is not one. */
function readAnswer(answer: Buffer): { ok: true; status: StubStatus } | { ok: false; reason: string } {
  const text = answer.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) return { ok: false, reason: answer.length === 0 ? 'empty answer' : 'response aborted (truncated)' };
  const head = text.slice(0, headEnd).split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
  if (!status) return { ok: false, reason: `not an HTTP answer: ${JSON.stringify(head[0].slice(0, 40))}` };
  if (status[1] !== '200') return { ok: false, reason: `HTTP ${status[1]}` };
  const body = text.slice(headEnd + 4);
  if (body.length > MAX_BODY_BYTES) return { ok: false, reason: `answer longer than ${MAX_BODY_BYTES} bytes` };
  const length = head.map(h => /^content-length:\s*(\d+)\s*$/i.exec(h)).find(m => m)?.[1];
  if (length !== undefined && Number(length) !== body.length) return { ok: false, reason: 'response aborted (truncated)' };
  const parsed = parseStubStatus(body);
  return parsed.ok ? { ok: true, status: parsed.status } : { ok: false, reason: parsed.reason };
}
