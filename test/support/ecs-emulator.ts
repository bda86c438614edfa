import { randomUUID } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';
import { NginxTask } from './nginx-task';

/**
 * An ECS control plane on loopback, speaking the real wire protocol (AWS JSON 1.1) for the
 * four calls the autoscaler makes: ListTasks, DescribeTasks, DescribeServices and
 * UpdateService. Every task is a real nginx on its own loopback address, started and
 * stopped as the desired count changes, after a start delay, going
 * PROVISIONING → PENDING → RUNNING like Fargate's.
 *
 * Stopping follows ECS's documented task lifecycle: the task's desired status becomes
 * STOPPED at once (ListTasks lists it under desiredStatus STOPPED from then on) while its
 * last status stays RUNNING through the load balancer's deregistration delay, with its
 * containers, and their open connections, still up; then DEACTIVATING → STOPPED.
 */

const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';

/**
 * ECS throttles each account and Region with token buckets per group of actions
 * ("Request throttling for the Amazon ECS API", Amazon ECS API Reference): the bucket's
 * size is the burst, its refill the sustained rate. Task reads (ListTasks and
 * DescribeTasks share one bucket): 100 and 20 a second, as documented. DescribeServices
 * is modelled with the same figures (service reads); UpdateService is not throttled here.
 */
export const ECS_BUCKETS: Record<string, { readonly group: string; readonly burst: number; readonly perSecond: number }> = {
  ListTasks: { group: 'task reads', burst: 100, perSecond: 20 },
  DescribeTasks: { group: 'task reads', burst: 100, perSecond: 20 },
  DescribeServices: { group: 'service reads', burst: 100, perSecond: 20 },
};

/** A token bucket: `burst` tokens at most, refilled at `perSecond`. */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();
  constructor(private readonly burst: number, private readonly perSecond: number) {
    this.tokens = burst;
  }

  public take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

export type TaskStatus = 'PROVISIONING' | 'PENDING' | 'RUNNING' | 'DEACTIVATING' | 'STOPPED';

/** One emulated task's running containers, whatever runs them. */
export interface TaskContainers {
  /** Where the task is reached: the controller reads it there, load arrives there. */
  readonly address: string;
  stop(): Promise<void>;
}

/**
 * What runs an emulated task's containers. The default is one real nginx proxy on the task's
 * own loopback address; a test of another metric source gives its own (an app and the task
 * agent in a network namespace of their own, say).
 */
export interface TaskRuntime {
  start(task: { readonly id: string; readonly arn: string; readonly address: string }): Promise<TaskContainers>;
}

export interface EmulatedTask {
  readonly id: string;
  readonly arn: string;
  /** The task's private address (a runtime may give it another when the task starts). */
  address: string;
  /** The task's last status. */
  status: TaskStatus;
  /** RUNNING until ECS is told to stop the task. */
  desiredStatus: 'RUNNING' | 'STOPPED';
  readonly createdAt: number;
  /** When it became RUNNING. */
  startedAt?: number;
  containers?: TaskContainers;
}

export interface EcsCall {
  readonly operation: string;
  readonly at: number;
  readonly input: any;
  /** The error answered, if any. */
  readonly error?: string;
}

export interface EcsEmulatorOptions {
  readonly clusterName?: string;
  readonly serviceName?: string;
  /** The proxy configuration every task runs. */
  readonly proxyPort: number;
  readonly statusPort: number;
  readonly appPort: number;
  /** Second octet of the tasks' addresses, 127.N.x.y: one per emulator, so that clusters never collide. */
  readonly addressBlock: number;
  /** How long a new task takes to run, like Fargate's tens of seconds. @default 2000 */
  readonly startDelayMs?: number;
  readonly initialDesiredCount: number;
  /**
   * How long a stopping task keeps running (the target group's deregistration delay,
   * 300 s by default on an ALB). @default 0
   */
  readonly drainMs?: number;
  /**
   * Tasks that stopped before the emulator started (a deployment within the last hour):
   * ECS keeps listing them under desiredStatus STOPPED. @default 0
   */
  readonly stoppedTasks?: number;
  /** How long each call takes to answer, like the real API's tens of milliseconds. @default 0 */
  readonly latencyMs?: number;
  /** Throttle calls with ECS's documented token buckets (see ECS_BUCKETS). @default false */
  readonly throttling?: boolean;
  /**
   * Start one nginx per task. Off for the scrape benchmark, where one shared nginx
   * listens on every task's address instead. @default true
   */
  readonly sidecars?: boolean;
  /** What runs each task's containers. @default one nginx proxy per task, as `proxyPort`, `statusPort` and `appPort` say */
  readonly runtime?: TaskRuntime;
}

export class EcsEmulator {
  public static async start(o: EcsEmulatorOptions): Promise<EcsEmulator> {
    const emulator = new EcsEmulator(o);
    await new Promise<void>(resolve => emulator.server.listen(0, '127.0.0.1', resolve));
    await emulator.reconcile(true);
    emulator.addStoppedTasks(o.stoppedTasks ?? 0);
    return emulator;
  }

  public readonly clusterName: string;
  public readonly serviceName: string;
  public readonly clusterArn: string;
  public readonly serviceArn: string;
  public readonly calls: EcsCall[] = [];
  public readonly tasks: EmulatedTask[] = [];
  public desiredCount: number;
  public serviceStatus: 'ACTIVE' | 'DRAINING' | 'INACTIVE' = 'ACTIVE';
  /** Answers the next N calls of an operation with this error. */
  private readonly faults = new Map<string, { error: string; message: string; remaining: number }>();
  private readonly server: http.Server;
  /** Pending start delays: stopping the emulator ends them at once. */
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private nextAddress = 0;
  private stopping = false;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly runtime: TaskRuntime;

  private constructor(private readonly o: EcsEmulatorOptions) {
    this.clusterName = o.clusterName ?? 'local';
    this.serviceName = o.serviceName ?? 'web';
    this.clusterArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${this.clusterName}`;
    this.serviceArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${this.clusterName}/${this.serviceName}`;
    this.desiredCount = o.initialDesiredCount;
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.runtime = o.runtime ?? {
      start: ({ address }) => NginxTask.start({ address, proxyPort: o.proxyPort, statusPort: o.statusPort, appPort: o.appPort }),
    };
  }

  public get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Tasks that are not on their way out. */
  public get liveTasks(): EmulatedTask[] {
    return this.tasks.filter(t => t.desiredStatus === 'RUNNING' && t.status !== 'DEACTIVATING' && t.status !== 'STOPPED');
  }

  /** Tasks that serve: the load balancer sends them traffic. */
  public get runningTasks(): EmulatedTask[] {
    return this.tasks.filter(t => t.status === 'RUNNING' && t.desiredStatus === 'RUNNING');
  }

  /** Tasks told to stop whose containers still run (deregistration delay). */
  public get drainingTasks(): EmulatedTask[] {
    return this.tasks.filter(t => t.desiredStatus === 'STOPPED' && t.status !== 'STOPPED');
  }

  public callsOf(operation: string): EcsCall[] {
    return this.calls.filter(c => c.operation === operation);
  }

  /** Makes the next `times` calls of `operation` fail with `error` (e.g. ThrottlingException). */
  public injectFault(operation: string, error: string, times: number, message = 'Rate exceeded') {
    this.faults.set(operation, { error, message, remaining: times });
  }

  public async stop(): Promise<void> {
    this.stopping = true;
    this.timers.forEach((resolve, t) => {
      clearTimeout(t);
      resolve();
    });
    this.timers.clear();
    await Promise.allSettled([...this.pending]);
    await Promise.all(this.tasks.map(t => t.containers?.stop()));
    this.server.closeAllConnections();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
      let input: any = {};
      try {
        input = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      } catch {
        return this.error(res, operation, input, 'SerializationException', 'body is not JSON', 400);
      }
      const answer = () => this.answer(res, operation, input);
      if (this.o.latencyMs) setTimeout(answer, this.o.latencyMs);
      else answer();
    });
  }

  private answer(res: http.ServerResponse, operation: string, input: any) {
    if (this.o.throttling && this.bucketFor(operation)?.take() === false) {
      return this.error(res, operation, input, 'ThrottlingException', 'Rate exceeded', 400);
    }
    const fault = this.faults.get(operation);
    if (fault && fault.remaining > 0) {
      fault.remaining--;
      return this.error(res, operation, input, fault.error, fault.message, 400);
    }
    let output: unknown;
    try {
      output = this.dispatch(operation, input);
    } catch (err) {
      const e = err as { name: string; message: string };
      return this.error(res, operation, input, e.name, e.message, 400);
    }
    this.calls.push({ operation, at: Date.now(), input });
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify(output));
  }

  /** The documented bucket of an action (one per group), or undefined when it is not throttled. */
  private bucketFor(operation: string): TokenBucket | undefined {
    const spec = ECS_BUCKETS[operation];
    if (!spec) return undefined;
    let bucket = this.buckets.get(spec.group);
    if (!bucket) {
      bucket = new TokenBucket(spec.burst, spec.perSecond);
      this.buckets.set(spec.group, bucket);
    }
    return bucket;
  }

  private error(res: http.ServerResponse, operation: string, input: any, type: string, message: string, status: number) {
    this.calls.push({ operation, at: Date.now(), input, error: type });
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify({ __type: type, message }));
  }

  private dispatch(operation: string, input: any): unknown {
    switch (operation) {
      case 'DescribeServices': return this.describeServices(input);
      case 'ListTasks': return this.listTasks(input);
      case 'DescribeTasks': return this.describeTasks(input);
      case 'UpdateService': return this.updateService(input);
      default: throw named('InvalidAction', `operation ${operation} is not emulated`);
    }
  }

  private checkCluster(cluster: string | undefined) {
    if (cluster !== undefined && cluster !== this.clusterArn && cluster !== this.clusterName) {
      throw named('ClusterNotFoundException', 'Cluster not found.');
    }
  }

  private isService(name: string | undefined) {
    return name === this.serviceName || name === this.serviceArn;
  }

  private serviceView() {
    return {
      serviceArn: this.serviceArn,
      serviceName: this.serviceName,
      clusterArn: this.clusterArn,
      status: this.serviceStatus,
      desiredCount: this.desiredCount,
      runningCount: this.runningTasks.length,
      pendingCount: this.tasks.filter(t => t.status === 'PROVISIONING' || t.status === 'PENDING').length,
      launchType: 'FARGATE',
    };
  }

  private describeServices(input: { cluster?: string; services?: string[] }) {
    this.checkCluster(input.cluster);
    const services: unknown[] = [];
    const failures: unknown[] = [];
    for (const name of input.services ?? []) {
      if (this.isService(name) && this.serviceStatus !== 'INACTIVE') services.push(this.serviceView());
      else failures.push({ arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${this.clusterName}/${name}`, reason: 'MISSING' });
    }
    return { services, failures };
  }

  private listTasks(input: { cluster?: string; serviceName?: string; desiredStatus?: string; maxResults?: number; nextToken?: string }) {
    this.checkCluster(input.cluster);
    if (input.serviceName && !this.isService(input.serviceName)) throw named('ServiceNotFoundException', 'Service not found.');
    // ListTasks filters on the desired status: a draining task is listed under STOPPED.
    const wanted = this.tasks.filter(t => t.desiredStatus === (input.desiredStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING'));
    const pageSize = Math.min(input.maxResults ?? 100, 100);
    const start = input.nextToken ? Number(Buffer.from(input.nextToken, 'base64').toString()) : 0;
    const page = wanted.slice(start, start + pageSize);
    const next = start + pageSize < wanted.length ? Buffer.from(String(start + pageSize)).toString('base64') : undefined;
    return { taskArns: page.map(t => t.arn), ...(next ? { nextToken: next } : {}) };
  }

  private describeTasks(input: { cluster?: string; tasks?: string[] }) {
    this.checkCluster(input.cluster);
    if (!input.tasks || input.tasks.length === 0 || input.tasks.length > 100) {
      throw named('InvalidParameterException', 'Tasks cannot be empty and may hold 100 tasks at most.');
    }
    const tasks: unknown[] = [];
    const failures: unknown[] = [];
    for (const ref of input.tasks) {
      const task = this.tasks.find(t => t.arn === ref || t.id === ref);
      if (!task) {
        failures.push({ arn: ref, reason: 'MISSING' });
        continue;
      }
      tasks.push({
        taskArn: task.arn,
        clusterArn: this.clusterArn,
        group: `service:${this.serviceName}`,
        lastStatus: task.status,
        desiredStatus: task.desiredStatus,
        launchType: 'FARGATE',
        createdAt: task.createdAt / 1000,
        ...(task.startedAt ? { startedAt: task.startedAt / 1000 } : {}),
        attachments: [{
          id: randomUUID(),
          type: 'ElasticNetworkInterface',
          status: task.status === 'PROVISIONING' ? 'PRECREATED' : 'ATTACHED',
          details: [
            { name: 'subnetId', value: 'subnet-0local' },
            { name: 'networkInterfaceId', value: `eni-${task.id.slice(0, 17)}` },
            { name: 'privateIPv4Address', value: task.address },
          ],
        }],
      });
    }
    return { tasks, failures };
  }

  private updateService(input: { cluster?: string; service?: string; desiredCount?: number }) {
    this.checkCluster(input.cluster);
    if (!this.isService(input.service) || this.serviceStatus !== 'ACTIVE') throw named('ServiceNotFoundException', 'Service not found.');
    if (input.desiredCount !== undefined) {
      if (!Number.isInteger(input.desiredCount) || input.desiredCount < 0) throw named('InvalidParameterException', 'desiredCount must be 0 or more');
      this.desiredCount = input.desiredCount;
      this.track(this.reconcile(false));
    }
    return { service: this.serviceView() };
  }

  private track<T>(p: Promise<T>) {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Starts or stops tasks until the live ones match the desired count. */
  private async reconcile(immediately: boolean): Promise<void> {
    const live = this.liveTasks;
    if (live.length < this.desiredCount) {
      const starts: Array<Promise<void>> = [];
      for (let i = live.length; i < this.desiredCount; i++) starts.push(this.launch(immediately));
      await Promise.all(starts);
    } else if (live.length > this.desiredCount) {
      // Like ECS, stop the newest tasks first: they carry the least warm state.
      const victims = [...live].sort((a, b) => b.createdAt - a.createdAt).slice(0, live.length - this.desiredCount);
      await Promise.all(victims.map(t => this.retire(t)));
    }
  }

  private nextTaskAddress(): string {
    return taskAddress(this.o.addressBlock, this.nextAddress++);
  }

  private async launch(immediately: boolean): Promise<void> {
    const id = randomUUID().replace(/-/g, '');
    const task: EmulatedTask = {
      id,
      arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${this.clusterName}/${id}`,
      address: this.nextTaskAddress(),
      status: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      createdAt: Date.now(),
    };
    this.tasks.push(task);
    const delay = immediately ? 0 : this.o.startDelayMs ?? 2000;
    await this.sleep(delay / 3);
    if (this.stopping || task.status !== 'PROVISIONING' || task.desiredStatus !== 'RUNNING') return;
    task.status = 'PENDING';
    await this.sleep((2 * delay) / 3);
    if (this.stopping || task.status !== 'PENDING' || task.desiredStatus !== 'RUNNING') return;
    if (this.o.sidecars ?? true) {
      const containers = await this.runtime.start(task);
      task.containers = containers;
      task.address = containers.address;
      if (this.stopping || task.status !== 'PENDING' || task.desiredStatus !== 'RUNNING') {
        await containers.stop();
        return;
      }
    }
    task.status = 'RUNNING';
    task.startedAt = Date.now();
  }

  private async retire(task: EmulatedTask): Promise<void> {
    task.desiredStatus = 'STOPPED';
    if (task.status === 'RUNNING' && (this.o.drainMs ?? 0) > 0) await this.sleep(this.o.drainMs ?? 0);
    task.status = 'DEACTIVATING';
    await task.containers?.stop();
    task.status = 'STOPPED';
  }

  /**
   * Stops one task as a deployment or a failed health check does: it drains (stays
   * RUNNING, desired STOPPED) for the deregistration delay, and the service starts a
   * replacement at once. Resolves when the task has stopped.
   */
  public stopTask(task: EmulatedTask): Promise<void> {
    const stopped = this.retire(task);
    this.track(stopped);
    this.track(this.reconcile(false));
    return stopped;
  }

  private addStoppedTasks(n: number) {
    for (let i = 0; i < n; i++) {
      const id = randomUUID().replace(/-/g, '');
      this.tasks.push({
        id,
        arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${this.clusterName}/${id}`,
        address: this.nextTaskAddress(),
        status: 'STOPPED',
        desiredStatus: 'STOPPED',
        createdAt: Date.now() - 3_600_000,
      });
    }
  }

  /** Sets the desired count through the same path as UpdateService (tasks start after the start delay). */
  public scaleTo(desired: number): void {
    this.desiredCount = desired;
    this.track(this.reconcile(false));
  }

  /** Sets the desired count directly (not through the API) and waits until the live tasks match it. */
  public async resetTo(desired: number): Promise<void> {
    this.desiredCount = desired;
    await this.reconcile(true);
  }

  /** Stops one running task's containers without telling ECS (a crashed sidecar). */
  public async killSidecar(task: EmulatedTask) {
    await task.containers?.stop();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise(resolve => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.set(t, resolve);
    });
  }
}

/** The n-th task's loopback address in a block: 127.block.x.y. */
export function taskAddress(block: number, n: number): string {
  return `127.${block}.${Math.floor(n / 250)}.${(n % 250) + 1}`;
}

function named(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}
