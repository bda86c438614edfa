import * as http2 from 'http2';
import { EcsEmulator } from './ecs-emulator';

/**
 * HTTP/2 load, as a load balancer sends a gRPC or HTTP/2 target group's: one connection per
 * running task, `streams` requests in flight on each at all times (each answered, then sent
 * again). The app burns CPU per stream, so that the load shows in CPU, not in connections.
 */
export class Http2Load {
  private streams = 0;
  private readonly sessions = new Map<string, { session: http2.ClientHttp2Session; inFlight: number }>();
  private readonly watcher: NodeJS.Timeout;
  private stopped = false;
  /** Streams answered so far. */
  public answered = 0;

  constructor(private readonly ecs: EcsEmulator, private readonly port: number) {
    this.watcher = setInterval(() => this.rebalance(), 200);
  }

  /** Keeps `n` streams in flight on every running task. */
  public setStreamsPerTask(n: number): void {
    this.streams = n;
    this.rebalance();
  }

  public stop(): void {
    this.stopped = true;
    clearInterval(this.watcher);
    this.sessions.forEach(s => s.session.destroy());
    this.sessions.clear();
  }

  private rebalance(): void {
    if (this.stopped) return;
    const running = new Set(this.ecs.runningTasks.map(t => t.address));
    for (const [address, s] of this.sessions) {
      if (!running.has(address) || s.session.destroyed) {
        s.session.destroy();
        this.sessions.delete(address);
      }
    }
    for (const address of running) {
      if (!this.sessions.has(address)) {
        const session = http2.connect(`http://${address}:${this.port}`);
        session.on('error', () => undefined);
        this.sessions.set(address, { session, inFlight: 0 });
      }
      this.fill(address);
    }
  }

  private fill(address: string): void {
    const s = this.sessions.get(address);
    if (!s || this.stopped) return;
    while (s.inFlight < this.streams && !s.session.destroyed) {
      s.inFlight++;
      const request = s.session.request({ ':path': '/' });
      request.on('error', () => undefined);
      request.resume();
      request.on('close', () => {
        s.inFlight--;
        this.answered++;
        setImmediate(() => this.fill(address));
      });
      request.end();
    }
  }
}
