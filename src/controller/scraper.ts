import * as http from 'http';
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

/**
 * Reads every target's stub_status concurrently, each request on its own connection
 * (`Connection: close`) so that the status connection the page counts is only ever
 * the request's own.
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
    const finish = (r: { ok: true; status: StubStatus } | { ok: false; reason: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      const at = Date.now();
      resolve({ ...r, taskId: target.taskId, ms: at - started, at });
    };
    const req = http.request(
      { host: target.address, port, path: STATUS_PATH, method: 'GET', agent: false, headers: { Connection: 'close' } },
      res => {
        if (res.statusCode !== 200) {
          res.resume();
          finish({ ok: false, reason: `HTTP ${res.statusCode}` });
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            finish({ ok: false, reason: `answer longer than ${MAX_BODY_BYTES} bytes` });
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          const parsed = parseStubStatus(Buffer.concat(chunks).toString('utf8'));
          finish(parsed.ok ? { ok: true, status: parsed.status } : { ok: false, reason: parsed.reason });
        });
        res.on('error', err => finish({ ok: false, reason: `response: ${err.message}` }));
        res.on('aborted', () => finish({ ok: false, reason: 'response aborted (truncated)' }));
      },
    );
    const timer = setTimeout(() => finish({ ok: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
    req.on('error', err => finish({ ok: false, reason: `request: ${(err as NodeJS.ErrnoException).code ?? err.message}` }));
    req.end();
  });
}
