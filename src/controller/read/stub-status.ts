/**
 * Strict parsing of nginx's stub_status page. A page that does not have exactly the
 * expected shape is an error with a reason, never a zero: deciding on a misread page
 * would scale in a loaded service.
 */

/** The path at which the proxy's status server answers (the construct renders it, the controller reads it). */
export const STATUS_PATH = '/nginx_status';

export interface StubStatus {
  /** Open client connections, including idle keep-alive ones and the status request itself. */
  readonly active: number;
  readonly accepts: number;
  readonly handled: number;
  /** Requests served since nginx started. */
  readonly requests: number;
  readonly reading: number;
  readonly writing: number;
  readonly waiting: number;
}

export type ParseResult = { readonly ok: true; readonly status: StubStatus } | { readonly ok: false; readonly reason: string };

const PATTERN =
  /^Active connections: (\d+) ?\nserver accepts handled requests\n (\d+) (\d+) (\d+) ?\nReading: (\d+) Writing: (\d+) Waiting: (\d+) ?\n?$/;

export function parseStubStatus(body: string): ParseResult {
  const m = PATTERN.exec(body);
  if (!m) {
    return { ok: false, reason: `not a stub_status page: ${JSON.stringify(body.slice(0, 80))}` };
  }
  const [active, accepts, handled, requests, reading, writing, waiting] = m.slice(1).map(Number);
  if (![active, accepts, handled, requests, reading, writing, waiting].every(Number.isSafeInteger)) {
    return { ok: false, reason: 'stub_status figure out of range' };
  }
  // The status request is itself an open connection being written to: a page that does
  // not count it was not produced by the nginx we are talking to.
  if (active < 1 || writing < 1) {
    return { ok: false, reason: `implausible stub_status: active ${active}, writing ${writing} (the status request itself is missing)` };
  }
  if (handled > accepts || reading + writing > active) {
    return { ok: false, reason: `inconsistent stub_status: accepts ${accepts}, handled ${handled}, active ${active}, reading ${reading}, writing ${writing}` };
  }
  return { ok: true, status: { active, accepts, handled, requests, reading, writing, waiting } };
}
