import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { ProxyNginxConfigOptions, renderProxyNginxConfig } from '../../src/metric-sources/proxy-nginx-config';

/** Debian's nginx-light; the test run installs it (see .ci/run). Missing nginx fails the test. */
export const NGINX_BINARY = process.env.NGINX_BINARY ?? '/usr/sbin/nginx';

export interface NginxTaskOptions {
  /** The task's own loopback address, 127.0.0.x. */
  readonly address: string;
  /** Where the proxy listens for the app's traffic. @default a free port on `address` (the kernel's pick, `freePort`) */
  readonly proxyPort?: number;
  /** Where nginx serves its stub_status page. @default a free port on `address` (the kernel's pick, `freePort`) */
  readonly statusPort?: number;
  /** The app the proxy forwards to. */
  readonly appPort: number;
  /** The proxy's timeout, as the construct's `proxyTimeout` renders it. @default the construct's default */
  readonly timeoutSeconds?: ProxyNginxConfigOptions['timeoutSeconds'];
  /** The request body limit, as the construct's `proxyMaxRequestBodySize` renders it. @default no limit */
  readonly maxRequestBodyBytes?: ProxyNginxConfigOptions['maxRequestBodyBytes'];
}

/** The options a started task runs with: its ports, the defaults' picks included. */
export type StartedNginxTaskOptions = NginxTaskOptions & { readonly proxyPort: number; readonly statusPort: number };

/**
 * One emulated task's proxy sidecar: a real nginx running the configuration the construct
 * puts in the task definition, bound to the task's own loopback address.
 */
export class NginxTask {
  public static async start(options: NginxTaskOptions): Promise<NginxTask> {
    assertLoopback(options.address);
    if (!fs.existsSync(NGINX_BINARY)) {
      throw new Error(`nginx not found at ${NGINX_BINARY}: install Debian's nginx-light (.ci/run does)`);
    }
    const o: StartedNginxTaskOptions = {
      ...options,
      proxyPort: options.proxyPort ?? await freePort(options.address),
      statusPort: options.statusPort ?? await freePort(options.address),
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `fast-autoscaler-nginx-${o.address}-`));
    const config = renderProxyNginxConfig({
      proxyPort: o.proxyPort,
      statusPort: o.statusPort,
      appPort: o.appPort,
      timeoutSeconds: o.timeoutSeconds,
      maxRequestBodyBytes: o.maxRequestBodyBytes,
      listenAddress: o.address,
      runtimeDir: dir,
      errorLog: path.join(dir, 'error.log'),
      workerProcesses: 1,
    });
    fs.writeFileSync(path.join(dir, 'nginx.conf'), config);
    const child = spawn(NGINX_BINARY, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', d => (stderr += d));
    const task = new NginxTask(o, dir, child);
    try {
      await waitForPort(o.address, o.statusPort, 5000, () => child.exitCode !== null);
    } catch (err) {
      await task.stop();
      throw new Error(`nginx on ${o.address} did not start: ${(err as Error).message} ${stderr}`);
    }
    return task;
  }

  private stopped?: Promise<void>;

  private constructor(public readonly options: StartedNginxTaskOptions, public readonly dir: string, private readonly child: ChildProcess) {}

  public get address(): string {
    return this.options.address;
  }

  /** The process ids of nginx's workers (children of the master), read from /proc. */
  public workerPids(): number[] {
    const master = this.child.pid;
    if (master === undefined) return [];
    const children = fs.readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim();
    return children ? children.split(/\s+/).map(Number) : [];
  }

  /** Stops nginx (fast shutdown) and removes its files; waits for the process to end. */
  public stop(): Promise<void> {
    this.stopped ??= new Promise<void>(resolve => {
      const done = () => {
        fs.rmSync(this.dir, { recursive: true, force: true });
        resolve();
      };
      if (this.child.exitCode !== null || this.child.signalCode !== null) return done();
      const killer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      this.child.once('exit', () => {
        clearTimeout(killer);
        done();
      });
      this.child.kill('SIGTERM');
    });
    return this.stopped;
  }
}

export function assertLoopback(address: string) {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address)) {
    throw new Error(`refusing to bind ${address}: tests and demos stay inside 127.0.0.0/8`);
  }
}

export async function waitForPort(host: string, port: number, timeoutMs: number, gaveUp: () => boolean = () => false) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>(resolve => {
      const socket = net.connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (gaveUp()) throw new Error('process exited');
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise(r => setTimeout(r, 20));
  }
}

/** A port nothing listens on at `address` right now (the kernel's pick), for a server started next. */
export async function freePort(address: string): Promise<number> {
  assertLoopback(address);
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, resolve);
  });
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>(resolve => server.close(() => resolve()));
  return port;
}

/** The local nginx's version, e.g. "1.22.1" ('' when it cannot tell). */
export function nginxVersion(): string {
  const out = spawnSync(NGINX_BINARY, ['-v'], { encoding: 'utf8' });
  return /nginx\/([\d.]+)/.exec(out.stderr)?.[1] ?? '';
}
