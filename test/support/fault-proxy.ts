import * as http from 'http';
import { AddressInfo } from 'net';

/**
 * A loopback HTTP proxy in front of one AWS emulator (ECS, DynamoDB or SNS), that can make
 * chosen operations fail the way the service documents, while every other call passes
 * through untouched. The client under test keeps its real SDK and its real endpoint
 * configuration: only the endpoint's port is this proxy's.
 *
 * The operation is read as the services send it: `X-Amz-Target` for the JSON protocols
 * (ECS's AWS JSON 1.1, DynamoDB's 1.0), the `Action` form field for SNS's query protocol.
 */
export type ProxyProtocol = 'json1.1' | 'json1.0' | 'query';

export type ProxyEffect =
  /** Answers with the service's error of this name (throttling, a server fault, a failed condition). */
  | { readonly kind: 'error'; readonly error: string; readonly status: number }
  /** Never answers: the caller's own time limit ends the call. */
  | { readonly kind: 'hang' }
  /** Closes the connection without an answer (a reset). */
  | { readonly kind: 'reset' }
  /** Forwards at once, answers `ms` late: done on time, told late (a slow answer past the call's limit). */
  | { readonly kind: 'slow'; readonly ms: number }
  /** Forwards `ms` late: the call lands after the caller may have given up (and retried). */
  | { readonly kind: 'late'; readonly ms: number };

export interface ProxyRule {
  readonly id: string;
  /** The operations it applies to; all when absent. */
  readonly operations?: readonly string[];
  readonly effect: ProxyEffect;
}

/** One call as the proxy saw it, with what became of it. */
export interface ProxiedCall {
  readonly operation: string;
  readonly at: number;
  readonly body: string;
  /** The rule applied, if any. */
  readonly rule?: string;
  /** The backend's HTTP status, once answered (undefined: never forwarded, or no answer yet). */
  status?: number;
  answeredAt?: number;
}

export class FaultProxy {
  public static async start(target: string, protocol: ProxyProtocol): Promise<FaultProxy> {
    if (!/^http:\/\/127\./.test(target)) throw new Error(`refusing to proxy ${target}: stay inside 127.0.0.0/8`);
    const proxy = new FaultProxy(target, protocol);
    await new Promise<void>(resolve => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  public readonly calls: ProxiedCall[] = [];
  /** Called after the backend answered a forwarded call (e.g. to change the world between two calls). */
  public onAnswered?: (call: ProxiedCall) => void;
  private readonly rules = new Map<string, ProxyRule>();
  private readonly held = new Set<http.ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  private constructor(private readonly target: string, private readonly protocol: ProxyProtocol) {}

  public get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  public add(rule: ProxyRule): void {
    this.rules.set(rule.id, rule);
  }

  public remove(id: string): void {
    this.rules.delete(id);
  }

  public stop(): Promise<void> {
    this.timers.forEach(t => clearTimeout(t));
    this.held.forEach(r => r.destroy());
    this.server.closeAllConnections();
    this.agent.destroy();
    return new Promise(resolve => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const operation = this.operationOf(req, body);
      // The newest rule that applies wins: overlapping faults on one operation act as the latest one.
      const rule = [...this.rules.values()].reverse().find(r => !r.operations || r.operations.includes(operation));
      const call: ProxiedCall = { operation, at: Date.now(), body: body.toString('utf8'), rule: rule?.id };
      this.calls.push(call);
      const effect = rule?.effect;
      if (!effect) return this.forward(req, res, body, call, 0);
      switch (effect.kind) {
        case 'error': return this.answerError(res, effect.error, effect.status);
        case 'hang':
          this.held.add(res);
          res.on('close', () => this.held.delete(res));
          return;
        case 'reset': return req.socket.destroy();
        case 'slow': return this.forward(req, res, body, call, effect.ms, 'answer');
        case 'late': return this.later(effect.ms, () => this.forward(req, res, body, call, 0));
      }
    });
  }

  private operationOf(req: http.IncomingMessage, body: Buffer): string {
    if (this.protocol === 'query') return new URLSearchParams(body.toString('utf8')).get('Action') ?? '';
    return String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
  }

  /** Forwards the call; with `holdAnswer`, keeps the backend's answer `delayMs` before passing it on. */
  private forward(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, call: ProxiedCall, delayMs: number, holdAnswer?: 'answer') {
    const out = http.request(`${this.target}${req.url ?? '/'}`, { method: req.method, headers: req.headers, agent: this.agent }, answer => {
      const parts: Buffer[] = [];
      answer.on('data', c => parts.push(c));
      answer.on('end', () => {
        call.status = answer.statusCode;
        call.answeredAt = Date.now();
        try {
          this.onAnswered?.(call);
        } catch {
          // a hook's failure is the test's, not the call's
        }
        const pass = () => {
          if (res.destroyed) return;
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          res.end(Buffer.concat(parts));
        };
        if (holdAnswer) this.later(delayMs, pass);
        else pass();
      });
    });
    out.on('error', () => res.destroy());
    out.end(body);
  }

  private later(ms: number, fn: () => void) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** The service's own error shape: `__type` in JSON (DynamoDB's carries its namespace), an ErrorResponse in the query protocol. */
  private answerError(res: http.ServerResponse, error: string, status: number) {
    if (this.protocol === 'query') {
      res.writeHead(status, { 'content-type': 'text/xml' });
      res.end(`<ErrorResponse><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${error}</Code>`
        + `<Message>injected ${error}</Message></Error><RequestId>chaos</RequestId></ErrorResponse>`);
      return;
    }
    const type = this.protocol === 'json1.0' ? `com.amazonaws.dynamodb.v20120810#${error}` : error;
    res.writeHead(status, { 'content-type': `application/x-amz-${this.protocol === 'json1.0' ? 'json-1.0' : 'json-1.1'}` });
    res.end(JSON.stringify({ __type: type, message: `injected ${error}` }));
  }
}
