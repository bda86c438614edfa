import * as net from 'net';
import { ScrapeSlots } from './scrape-slots';
import { STUB_STATUS_READER, TaskReader } from './task-reading';
import { ReadOutcome, TaskReading } from './task-reading-outcome';

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
  | ({ readonly taskId: string; readonly ok: true; readonly ms: number; readonly at: number } & TaskReading)
  | { readonly taskId: string; readonly ok: false; readonly reason: string; readonly ms: number; readonly at: number };

export interface ScrapeOptions {
  readonly port: number;
  /** Each request's own limit. */
  readonly requestTimeoutMs: number;
  /** The whole scrape's limit: what has not answered by then has failed. */
  readonly deadlineMs: number;
  /** Requests under way at once. */
  readonly concurrency: number;
  /** What to ask each task and how to read its answer. @default the proxy's stub_status */
  readonly reader?: TaskReader;
  /** Slots shared with other services' scrapes (a loop's): each read holds one. @default - `concurrency` alone limits */
  readonly slots?: ScrapeSlots;
}

/** A status answer has a handful of short headers. */
const MAX_HEAD_BYTES = 4096;

/**
 * Reads every target's load concurrently. Each read is a bare TCP exchange: one
 * write, a few hundred bytes back (a few KB from the agent or an app's exposition), the server closes. Node's HTTP client costs about 1.8
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
      const give = o.slots ? await o.slots.take(deadline) : () => undefined;
      try {
        const remaining = deadline - Date.now();
        results[i] = remaining <= 0 || !give
          ? { taskId: target.taskId, ok: false, reason: 'scrape deadline passed before the request was sent', ms: 0, at: Date.now() }
          : await scrapeOne(target, o.port, Math.min(o.requestTimeoutMs, remaining), o.reader);
      } finally {
        give?.();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, targets.length) }, worker));
  return results;
}

export function scrapeOne(target: ScrapeTarget, port: number, timeoutMs: number, reader: TaskReader = STUB_STATUS_READER): Promise<ScrapeResult> {
  const started = Date.now();
  return new Promise(resolve => {
    let settled = false;
    const chunks: Buffer[] = [];
    let size = 0;
    const socket = net.connect({ host: target.address, port });
    const finish = (r: ReadOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const at = Date.now();
      resolve(r.ok ? { ...r.reading, ok: true, taskId: target.taskId, ms: at - started, at } : { ...r, taskId: target.taskId, ms: at - started, at });
    };
    const timer = setTimeout(() => finish({ ok: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.once('connect', () => socket.end(reader.request));
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_HEAD_BYTES + reader.maxBodyBytes) {
        finish({ ok: false, reason: `answer longer than ${reader.maxBodyBytes} bytes` });
        return;
      }
      chunks.push(chunk);
      // A whole answer (its Content-Length reached) is enough: a server that keeps the
      // connection open, or resets it, after answering is not a failed read.
      const sofar = chunks.length === 1 ? chunk : Buffer.concat(chunks);
      if (chunks.length > 1) chunks.splice(0, chunks.length, sofar);
      if (isWholeAnswer(sofar)) finish(readAnswer(sofar, reader));
    });
    socket.once('end', () => finish(readAnswer(Buffer.concat(chunks), reader)));
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

/** The source's reading from a whole HTTP/1.x answer, or why it is not one. */
function readAnswer(answer: Buffer, reader: TaskReader): ReadOutcome {
  const headEnd = answer.indexOf('\r\n\r\n');
  if (headEnd < 0) return { ok: false, reason: answer.length === 0 ? 'empty answer' : 'response aborted (truncated)' };
  const head = answer.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
  if (!status) return { ok: false, reason: `not an HTTP answer: ${JSON.stringify(head[0].slice(0, 40))}` };
  if (status[1] !== '200') return { ok: false, reason: `HTTP ${status[1]}` };
  const bodyBytes = answer.length - headEnd - 4;
  if (bodyBytes > reader.maxBodyBytes) return { ok: false, reason: `answer longer than ${reader.maxBodyBytes} bytes` };
  const length = head.map(h => /^content-length:\s*(\d+)\s*$/i.exec(h)).find(m => m)?.[1];
  if (length !== undefined && Number(length) !== bodyBytes) return { ok: false, reason: 'response aborted (truncated)' };
  if (head.some(h => /^transfer-encoding:/i.test(h))) return { ok: false, reason: 'a chunked answer (the request is HTTP/1.0 where the source allows)' };
  return reader.parse(answer.subarray(headEnd + 4).toString('utf8'));
}
