import autocannon from 'autocannon';
import { EcsEmulator, EmulatedTask } from './ecs-emulator';

/**
 * Real load from autocannon against the running tasks' proxies, spread evenly as a load
 * balancer would: whenever the set of running tasks or the wanted load changes, the
 * connections are dealt out again. A task gets load once it has run for `healthyAfterMs`
 * (a load balancer's health checks).
 */
export class LoadGenerator {
  private connections = 0;
  private instances: autocannon.Instance[] = [];
  private dealtTo = '';
  private restart?: NodeJS.Timeout;
  private stopped = false;
  /** One promise per running autocannon instance, resolved when it has finished. */
  private finishing: Array<Promise<void>> = [];
  /** The same, for instances stopped but perhaps not finished yet. */
  private closing: Array<Promise<void>> = [];
  /** When the connections were last dealt out: when a load change actually reached the tasks. */
  public lastDealtAt = 0;
  private readonly watcher: NodeJS.Timeout;

  /**
   * @param healthyAfterMs how long a task runs before it gets load: a load balancer's health
   *   checks pass some seconds after the task is RUNNING. @default 0
   */
  constructor(private readonly ecs: EcsEmulator, private readonly proxyPort: number, private readonly healthyAfterMs = 0) {
    this.watcher = setInterval(() => this.rebalance(), 200);
  }

  /** Keeps `n` connections open, each with one request in flight at a time. */
  public setConnections(n: number) {
    this.connections = n;
    this.rebalance();
  }

  public get openConnections(): number {
    return this.connections;
  }

  public stop() {
    this.stopped = true;
    clearTimeout(this.restart);
    clearInterval(this.watcher);
    this.stopInstances();
  }

  private stopInstances() {
    this.instances.forEach(i => i.stop());
    this.instances = [];
    this.closing.push(...this.finishing);
    this.finishing = [];
  }

  /** Resolves once the stopped instances have finished (their connections closed), or after 2 s at most. */
  private async stoppedFinished(): Promise<void> {
    const closing = this.closing;
    this.closing = [];
    await Promise.race([Promise.all(closing), new Promise(resolve => setTimeout(resolve, 2000))]);
  }

  private rebalance() {
    const now = Date.now();
    const tasks = this.ecs.runningTasks.filter(t => (t.startedAt ?? 0) <= now - this.healthyAfterMs);
    const key = `${this.connections}:${tasks.map(t => t.address).join(',')}`;
    if (key === this.dealtTo) return;
    this.dealtTo = key;
    this.stopInstances();
    if (this.connections === 0 || tasks.length === 0) return;
    // Deal the connections out again only once nginx has seen the old ones close: a load
    // balancer moves load, it never doubles it, and neither may this.
    clearTimeout(this.restart);
    this.restart = setTimeout(() => void this.stoppedFinished().then(() => {
      if (this.dealtTo === key) this.deal(tasks);
    }), 300);
  }

  private deal(tasks: EmulatedTask[]) {
    if (this.stopped) return;
    this.lastDealtAt = Date.now();
    tasks.forEach((task, i) => {
      const share = Math.floor(this.connections / tasks.length) + (i < this.connections % tasks.length ? 1 : 0);
      if (share === 0) return;
      let finished!: () => void;
      this.finishing.push(new Promise<void>(resolve => (finished = resolve)));
      const instance = autocannon({
        url: `http://${task.address}:${this.proxyPort}/`,
        connections: share,
        pipelining: 1,
        duration: 3600,
        timeout: 30,
      }, () => finished());
      // A task that goes away mid-run only ends its own share.
      instance.on('error', () => undefined);
      this.instances.push(instance);
    });
  }
}
