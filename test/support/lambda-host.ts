import { ChildProcess, fork } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { DEAD_LOOPBACK_ENDPOINT } from './aws-loopback';

/** The controller as built: projen's bundle of src/controller/tick.lambda.ts. */
export const TICK_BUNDLE = path.join(__dirname, '..', '..', 'assets', 'controller', 'tick.lambda', 'index.js');

export interface LambdaHostOptions {
  readonly bundle: string;
  /** The function's environment from the template, resolved. */
  readonly environment: Record<string, string>;
  /** Loopback endpoints per service, as AWS_ENDPOINT_URL_<SERVICE>. */
  readonly endpoints: Record<string, string>;
  /** Receives each line the function writes to stdout (its logs and EMF records). */
  readonly onLog?: (line: string) => void;
}

/**
 * A Lambda function on this machine: the bundle runs in its own Node.js process, like a
 * Lambda instance, and keeps its module state between invocations as a warm instance does.
 */
export class LambdaHost {
  public static async start(o: LambdaHostOptions): Promise<LambdaHost> {
    if (!fs.existsSync(o.bundle)) {
      throw new Error(`${o.bundle} is missing: run \`npx projen bundle\` (the build does) first`);
    }
    for (const [service, endpoint] of Object.entries(o.endpoints)) {
      if (!/^http:\/\/127\./.test(endpoint)) throw new Error(`refusing ${service} endpoint ${endpoint}: stay inside 127.0.0.0/8`);
    }
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      LAMBDA_BUNDLE: o.bundle,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST',
      AWS_SECRET_ACCESS_KEY: 'local-test-secret',
      // Any client without its own endpoint fails on a closed loopback port.
      AWS_ENDPOINT_URL: DEAD_LOOPBACK_ENDPOINT,
      AWS_LAMBDA_FUNCTION_NAME: 'fast-autoscaler-tick',
      ...o.environment,
    };
    for (const [service, endpoint] of Object.entries(o.endpoints)) env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] = endpoint;
    const child = fork(path.join(__dirname, 'lambda-host.worker.js'), [], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const host = new LambdaHost(child, o.onLog);
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', code => reject(new Error(`the function failed to load (exit ${code}): ${host.stderr}`)));
    });
    return host;
  }

  public stderr = '';
  private nextId = 0;
  /** What an invocation under way fails with when the process ends: a crash is the function's error, as Lambda reports it. */
  private exitError = 'Lambda.ServiceException';
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();

  private constructor(private readonly child: ChildProcess, onLog?: (line: string) => void) {
    let buffered = '';
    child.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      lines.filter(l => l.trim()).forEach(l => onLog?.(l));
    });
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString('utf8')));
    child.on('message', (m: { id?: number; result?: unknown; error?: { name: string; message: string } }) => {
      if (m.id === undefined) return;
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.error) w?.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
      else w?.resolve(m.result);
    });
    child.on('exit', () => {
      this.waiting.forEach(w => w.reject(Object.assign(new Error('the function process ended'), { name: this.exitError })));
      this.waiting.clear();
    });
  }

  /** The function's process, e.g. to give it a Lambda's CPU share (bench/scrape-scale.ts). */
  public get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Invocations under way. */
  public get inFlight(): number {
    return this.waiting.size;
  }

  public get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Kills the process at once, as a function that crashes mid-invocation (out of memory, a
   * native fault): Lambda answers the invocations under way with the function error
   * `Runtime.ExitError` ("Runtime exited ...", Lambda's runtime errors) and the next
   * invocation starts a new instance (a cold start). Resolves when the process has ended.
   */
  public crash(): Promise<void> {
    this.exitError = 'Runtime.ExitError';
    if (!this.alive) return Promise.resolve();
    return new Promise(resolve => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL');
    });
  }

  /** Moves the function's clock (its Date.now) by `offsetMs` from the machine's: a clock that steps. */
  public setClockOffset(offsetMs: number): void {
    if (this.child.connected) this.child.send({ clockOffsetMs: offsetMs });
  }

  /** The process's resident memory, in kB, from /proc/<pid>/status (undefined once it has ended). */
  public rssKb(): number | undefined {
    try {
      const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
      return m ? Number(m[1]) : undefined;
    } catch {
      return undefined;
    }
  }

  public invoke(event: unknown): Promise<any> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (!this.child.connected) {
        // An aborted execution may still reach its next Tick after the host stopped.
        reject(Object.assign(new Error('the function process has ended'), { name: 'Lambda.ServiceException' }));
        return;
      }
      this.waiting.set(id, { resolve, reject });
      this.child.send({ id, event }, err => {
        if (!err) return;
        this.waiting.delete(id);
        reject(Object.assign(err, { name: 'Lambda.ServiceException' }));
      });
    });
  }

  public stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise(resolve => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}
