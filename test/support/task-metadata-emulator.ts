import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import { isTaskNamespaceHostAddress } from './task-namespace';

/** One container of an emulated task: a name and the local processes that are its. */
export interface EmulatedContainer {
  readonly name: string;
  /** The container's processes now (their descendants are counted too). */
  readonly pids: () => number[];
  /** The container-level `cpu` of the task definition, in CPU units. @default 0 */
  readonly cpuUnits?: number;
  /** The container-level hard memory limit, MiB. @default none */
  readonly memoryMiB?: number;
}

export interface MetadataTask {
  readonly taskArn: string;
  /** vCPU: the task-level Limits.CPU. */
  readonly cpu: number;
  /** MiB: the task-level Limits.Memory. */
  readonly memoryMiB: number;
  readonly containers: readonly EmulatedContainer[];
  /** The task's awsvpc network, e.g. a TaskNamespace: fills Networks and the stats' network counters. @default none */
  readonly network?: { readonly address: string; readonly hostAddress: string };
  readonly family?: string;
  readonly serviceName?: string;
}

export type MetadataFault = 'garbage' | 'hang' | 'error';

export interface TaskMetadataEmulatorOptions {
  /** How often every container is sampled. @default 1000 */
  readonly sampleIntervalMs?: number;
}

const NS_PER_TICK = 10_000_000; // CLK_TCK (USER_HZ) is 100
const ZERO_TIME = '0001-01-01T00:00:00Z';
const NO_MEMORY_LIMIT = 9223372036854771712n;
const BIGINT_MARK = '__bigint:';
/** Wall clock in ns: Date.now() gives only ms, hrtime gives ns but no epoch. */
const EPOCH_OFFSET_NS = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

interface Sample {
  readonly at: bigint;
  readonly userTicks: number;
  readonly systemTicks: number;
  readonly systemCpuNs: bigint;
  readonly memory: { rss: number; file: number; shmem: number; faults: number; majorFaults: number };
  readonly networks?: Record<string, Record<string, number>>;
}

interface ContainerState {
  readonly spec: EmulatedContainer;
  readonly dockerId: string;
  readonly createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** CPU ticks per process ever seen (key pid:starttime), as a cgroup keeps counting them. */
  readonly ticks: Map<string, { user: number; system: number }>;
  samples: Sample[];
  maxUsage: number;
}

interface TaskState {
  readonly spec: MetadataTask;
  readonly id: string;
  readonly containers: ContainerState[];
  readonly pulledAt: string;
  readonly timer: NodeJS.Timeout;
  fault?: { kind: MetadataFault; remaining: number };
}

/**
 * The ECS task metadata endpoint version 4 as Fargate serves it, for emulated tasks whose
 * containers are real local processes. The JSON follows:
 * - "Amazon ECS task metadata v4 JSON response for tasks on Fargate",
 *   https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-fargate-response.html
 * - "Amazon ECS task metadata v4 examples for tasks on Fargate",
 *   https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-fargate-examples.html
 * - "Amazon ECS task metadata endpoint version 4 for tasks on Fargate" (paths, the ~1 s before stats),
 *   https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-fargate.html
 * - the Docker Engine API v1.30 ContainerStats they link,
 *   https://docs.docker.com/reference/api/engine/version/v1.30/#tag/Container/operation/ContainerStats
 * and, where the pages are silent, a capture from a real Fargate task (prometheus-community/ecs_exporter,
 * ecscollector/testdata/fixtures/fargate_task_*.json).
 *
 * Paths, per container URI (`http://host:port/v4/<DockerId>`, the ECS_CONTAINER_METADATA_URI_V4
 * value): `${uri}` (the container), `${uri}/task` (task-level Limits {CPU in vCPU, Memory in MiB}
 * and every container), `${uri}/stats` and `${uri}/task/stats` (a map DockerId → Docker stats).
 * A Fargate DockerId is the 32-hex task id, '-', and the FNV-1a 32-bit hash of the container
 * name (the documented example's "curl" is 2495160603, the capture's names match too; the
 * docs call it a 10-digit number, but whether Fargate zero-pads a smaller hash is unknown:
 * it is written unpadded here).
 *
 * Stats model: like the ECS agent, the emulator samples every container once a second in the
 * background, from the first sample taken at addTask; an answer gives the newest sample as
 * `read`/`cpu_stats`/`memory_stats` and the one before as `preread`/`precpu_stats`. A
 * container sampled only once has Docker's zero `precpu_stats` and `preread`
 * "0001-01-01T00:00:00Z": AWS documents that Fargate needs a container to run about 1 s
 * before it returns stats. (The Fargate capture has read and preread 10 s apart; pass
 * `sampleIntervalMs: 10_000` to model that.)
 * - `cpu_stats.cpu_usage.total_usage`: utime+stime (/proc/<pid>/stat, CLK_TCK 100) of the
 *   container's processes and their descendants, in ns, with usage_in_usermode/kernelmode.
 *   Like a cgroup's counter it never falls: a process's last sampled time stays counted after
 *   it exits (a process that lives less than one sample interval is missed). No percpu_usage.
 *   `system_cpu_usage` sums /proc/stat's first seven cpu columns as Docker does;
 *   `online_cpus` is os.cpus().length.
 * - `memory_stats.usage`: the live processes' RSS in bytes; `stats` has cgroup v1 keys
 *   (rss = RssAnon, cache = RssFile + RssShmem, inactive_file 0); `limit` is the
 *   container's hard limit, or, without one, the unlimited 9223372036854771712 the capture shows.
 * - `networks` (interface counters from the task's namespace, without lo) and
 *   `network_rate_stats` only for tasks given a `network`.
 * A container whose processes are all gone is KnownStatus STOPPED and its stats are null, as
 * the Fargate capture shows for a stopped container in /task/stats (the ECS agent on EC2
 * answers an empty object instead); null for its own /stats is our model.
 */
export class TaskMetadataEmulator {
  /** Listens on `host`, port 0: a loopback address or a TaskNamespace's hostAddress, nothing else. */
  public static async start(host: string, options: TaskMetadataEmulatorOptions = {}): Promise<TaskMetadataEmulator> {
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) && !isTaskNamespaceHostAddress(host)) {
      throw new Error(`refusing to serve task metadata on ${host}: only 127.0.0.0/8 or a task namespace's host address`);
    }
    const emulator = new TaskMetadataEmulator(host, options.sampleIntervalMs ?? 1000);
    await new Promise<void>((resolve, reject) => {
      emulator.server.once('error', reject);
      emulator.server.listen(0, host, resolve);
    });
    return emulator;
  }

  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private readonly tasks = new Map<string, TaskState>();
  private readonly byDockerId = new Map<string, { task: TaskState; container: ContainerState }>();

  private constructor(private readonly host: string, private readonly sampleIntervalMs: number) {}

  /** The base URL, http://host:port. */
  public get endpoint(): string {
    return `http://${this.host}:${(this.server.address() as AddressInfo).port}`;
  }

  /** Registers a task and takes its first sample; returns each container's ECS_CONTAINER_METADATA_URI_V4. */
  public addTask(task: MetadataTask): Record<string, string> {
    if (this.tasks.has(task.taskArn)) throw new Error(`task ${task.taskArn} is already registered`);
    const id = task.taskArn.split('/').pop() ?? task.taskArn;
    const containers: ContainerState[] = task.containers.map(spec => ({
      spec, dockerId: `${id}-${fnv1a32(spec.name)}`, createdAt: rfc3339(nowNs()), ticks: new Map(), samples: [], maxUsage: 0,
    }));
    const state: TaskState = {
      spec: task, id, containers, pulledAt: rfc3339(nowNs()), timer: setInterval(() => this.sampleTask(state), this.sampleIntervalMs),
    };
    state.timer.unref();
    this.tasks.set(task.taskArn, state);
    containers.forEach(container => this.byDockerId.set(container.dockerId, { task: state, container }));
    this.sampleTask(state);
    return Object.fromEntries(containers.map(c => [c.spec.name, `${this.endpoint}/v4/${c.dockerId}`]));
  }

  public removeTask(taskArn: string): void {
    const task = this.tasks.get(taskArn);
    if (!task) return;
    clearInterval(task.timer);
    task.containers.forEach(c => this.byDockerId.delete(c.dockerId));
    this.tasks.delete(taskArn);
  }

  /** The next `n` answers for this task (any path) are garbage (not JSON), hang (never answered) or error (500). */
  public injectFault(taskArn: string, kind: MetadataFault, n: number): void {
    const task = this.tasks.get(taskArn);
    if (!task) throw new Error(`task ${taskArn} is not registered`);
    task.fault = { kind, remaining: n };
  }

  public async stop(): Promise<void> {
    [...this.tasks.keys()].forEach(arn => this.removeTask(arn));
    this.server.closeAllConnections();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const match = /^\/v4\/([^/]+)(\/task)?(\/stats)?\/?$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    const found = match ? this.byDockerId.get(match[1]) : undefined;
    if (!match || !found) {
      return send(res, 404, JSON.stringify(`V4 handler: unable to get container from request: ${req.url}`));
    }
    const { task, container } = found;
    if (task.fault && task.fault.remaining > 0) {
      task.fault.remaining--;
      if (task.fault.kind === 'hang') return; // the socket stays open until the client gives up or stop()
      if (task.fault.kind === 'error') return send(res, 500, JSON.stringify('failed to get task metadata (injected fault)'));
      return send(res, 200, '<html><body>502 Bad Gateway</body></html>\n{"DockerId": ');
    }
    const [, , wholeTask, stats] = match;
    task.containers.forEach(c => this.refreshStatus(c));
    let body: unknown;
    if (wholeTask && stats) body = Object.fromEntries(task.containers.map(c => [c.dockerId, this.stats(c)]));
    else if (stats) body = this.stats(container);
    else if (wholeTask) body = this.taskMetadata(task);
    else body = this.containerMetadata(task, container);
    send(res, 200, toJson(body));
  }

  private sampleTask(task: TaskState) {
    for (const container of task.containers) {
      try {
        this.sample(task, container);
      } catch {
        // a process ended mid-read: the next sample sees it gone
      }
    }
  }

  private sample(task: TaskState, c: ContainerState) {
    const processes = withDescendants(c.spec.pids()).map(readProcess).filter((p): p is ProcessReading => p !== undefined);
    for (const p of processes) c.ticks.set(p.key, { user: p.user, system: p.system });
    const live = processes.filter(p => p.state !== 'Z');
    if (live.length === 0) {
      if (c.startedAt) c.finishedAt ??= rfc3339(nowNs());
      return;
    }
    c.startedAt ??= rfc3339(nowNs());
    const memory = { rss: 0, file: 0, shmem: 0, faults: 0, majorFaults: 0 };
    for (const p of live) {
      (Object.keys(memory) as Array<keyof typeof memory>).forEach(k => (memory[k] += p.memory[k]));
    }
    let userTicks = 0;
    let systemTicks = 0;
    c.ticks.forEach(t => {
      userTicks += t.user;
      systemTicks += t.system;
    });
    c.maxUsage = Math.max(c.maxUsage, memory.rss + memory.file + memory.shmem);
    const sample: Sample = {
      at: nowNs(),
      userTicks,
      systemTicks,
      systemCpuNs: systemCpuNs(),
      memory,
      networks: task.spec.network ? readNetDev(live[0].pid) : undefined,
    };
    c.samples = [c.samples[c.samples.length - 1], sample].filter((s): s is Sample => s !== undefined);
  }

  /** Status at answer time (the agent learns of starts and stops from container events at once); stats wait for a sample. */
  private refreshStatus(c: ContainerState) {
    if (c.finishedAt) return;
    const running = c.spec.pids().some(alive);
    if (running) c.startedAt ??= rfc3339(nowNs());
    else if (c.startedAt) c.finishedAt = rfc3339(nowNs());
  }

  private stats(c: ContainerState): unknown {
    const [pre, now] = c.samples.length === 2 ? c.samples : [undefined, c.samples[0]];
    if (!now || c.finishedAt) return null;
    const limit = c.spec.memoryMiB ? BigInt(c.spec.memoryMiB) * 1_048_576n : NO_MEMORY_LIMIT;
    const { rss, file, shmem, faults, majorFaults } = now.memory;
    // cgroup v1 keys, as in the Fargate capture; anonymous memory counts as inactive_anon there too.
    const memoryStats: Record<string, number> = {
      ...Object.fromEntries(['active_anon', 'dirty', 'inactive_file', 'pgpgin', 'pgpgout', 'rss_huge', 'unevictable', 'writeback'].map(k => [k, 0])),
      active_file: file + shmem,
      cache: file + shmem,
      inactive_anon: rss,
      mapped_file: file,
      pgfault: faults,
      pgmajfault: majorFaults,
      rss,
    };
    const seconds = pre ? Number(now.at - pre.at) / 1e9 : 0;
    const rate = (key: string) => (pre?.networks && now.networks && seconds > 0
      ? Object.keys(now.networks).reduce((sum, i) => sum + now.networks![i][key] - (pre.networks![i]?.[key] ?? 0), 0) / seconds : 0);
    return {
      read: rfc3339(now.at),
      preread: pre ? rfc3339(pre.at) : ZERO_TIME,
      pids_stats: {},
      blkio_stats: Object.fromEntries(['io_service_bytes_recursive', 'io_serviced_recursive', 'io_queue_recursive', 'io_service_time_recursive',
        'io_wait_time_recursive', 'io_merged_recursive', 'io_time_recursive', 'sectors_recursive'].map(k => [k, []])),
      num_procs: 0,
      storage_stats: {},
      cpu_stats: cpuStats(now),
      // Docker's zero CPUStats: system_cpu_usage and online_cpus are omitempty.
      precpu_stats: pre ? cpuStats(pre) : {
        cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
        throttling_data: noThrottling(),
      },
      memory_stats: {
        usage: rss + file + shmem,
        max_usage: c.maxUsage,
        stats: {
          ...memoryStats,
          hierarchical_memory_limit: limit,
          hierarchical_memsw_limit: NO_MEMORY_LIMIT,
          ...Object.fromEntries(Object.entries(memoryStats).map(([k, v]) => [`total_${k}`, v])),
        },
        limit,
      },
      name: c.spec.name,
      id: c.dockerId,
      ...(now.networks ? { networks: now.networks, network_rate_stats: { rx_bytes_per_sec: rate('rx_bytes'), tx_bytes_per_sec: rate('tx_bytes') } } : {}),
    };
  }

  private taskMetadata(task: TaskState): unknown {
    const { region, account, cluster } = arnParts(task.spec.taskArn);
    const stopped = task.containers.every(c => c.finishedAt);
    return {
      Cluster: `arn:aws:ecs:${region}:${account}:cluster/${cluster}`,
      TaskARN: task.spec.taskArn,
      Family: task.spec.family ?? 'local',
      Revision: '1',
      DesiredStatus: 'RUNNING',
      KnownStatus: stopped ? 'STOPPED' : 'RUNNING',
      Limits: { CPU: task.spec.cpu, Memory: task.spec.memoryMiB },
      PullStartedAt: task.pulledAt,
      PullStoppedAt: task.pulledAt,
      AvailabilityZone: `${region}a`,
      LaunchType: 'FARGATE',
      Containers: task.containers.map(c => this.containerMetadata(task, c)),
      ...(task.spec.serviceName ? { ServiceName: task.spec.serviceName } : {}),
      ClockDrift: { ClockErrorBound: 0.5, ReferenceTimestamp: `${new Date().toISOString().slice(0, 19)}Z`, ClockSynchronizationStatus: 'SYNCHRONIZED' },
      EphemeralStorageMetrics: { Utilized: 0, Reserved: 20496 },
    };
  }

  private containerMetadata(task: TaskState, c: ContainerState): unknown {
    const { region, account, cluster } = arnParts(task.spec.taskArn);
    const network = task.spec.network;
    const subnet = network ? `${network.address.split('.').slice(0, 3).join('.')}.${Number(network.address.split('.')[3]) - 2}` : '';
    return {
      DockerId: c.dockerId,
      Name: c.spec.name,
      DockerName: c.spec.name,
      Image: `local/${c.spec.name}:latest`,
      ImageID: `sha256:${createHash('sha256').update(c.spec.name).digest('hex')}`,
      Labels: {
        'com.amazonaws.ecs.cluster': `arn:aws:ecs:${region}:${account}:cluster/${cluster}`,
        'com.amazonaws.ecs.container-name': c.spec.name,
        'com.amazonaws.ecs.task-arn': task.spec.taskArn,
        'com.amazonaws.ecs.task-definition-family': task.spec.family ?? 'local',
        'com.amazonaws.ecs.task-definition-version': '1',
      },
      DesiredStatus: 'RUNNING',
      KnownStatus: c.finishedAt ? 'STOPPED' : c.startedAt ? 'RUNNING' : 'PENDING',
      Limits: { CPU: c.spec.cpuUnits ?? 0, Memory: c.spec.memoryMiB ?? 0 },
      CreatedAt: c.createdAt,
      ...(c.startedAt ? { StartedAt: c.startedAt } : {}),
      ...(c.finishedAt ? { FinishedAt: c.finishedAt } : {}),
      Type: 'NORMAL',
      ContainerARN: `arn:aws:ecs:${region}:${account}:container/${cluster}/${task.id}/${uuidFrom(c.dockerId)}`,
      ...(network ? {
        Networks: [{
          NetworkMode: 'awsvpc',
          IPv4Addresses: [network.address],
          AttachmentIndex: 0,
          MACAddress: `0a:fa:${network.address.split('.').map(o => Number(o).toString(16).padStart(2, '0')).join(':')}`,
          IPv4SubnetCIDRBlock: `${subnet}/30`,
          PrivateDNSName: `ip-${network.address.replace(/\./g, '-')}.${region}.compute.internal`,
          SubnetGatewayIpv4Address: `${network.hostAddress}/30`,
        }],
      } : {}),
      Snapshotter: 'overlayfs',
    };
  }
}

interface ProcessReading {
  readonly pid: number;
  readonly key: string;
  readonly state: string;
  readonly user: number;
  readonly system: number;
  readonly memory: { rss: number; file: number; shmem: number; faults: number; majorFaults: number };
}

/** One process's /proc/<pid>/stat and status, or undefined when it is gone. */
function readProcess(pid: number): ProcessReading | undefined {
  let stat: string;
  let status: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after "(comm)": state is field 3, so field n is at index n - 3.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return {
    pid,
    key: `${pid}:${f[22 - 3]}`,
    state: f[0],
    user: Number(f[14 - 3]),
    system: Number(f[15 - 3]),
    memory: {
      rss: kb('RssAnon'),
      file: kb('RssFile'),
      shmem: kb('RssShmem'),
      faults: Number(f[10 - 3]) + Number(f[12 - 3]),
      majorFaults: Number(f[12 - 3]),
    },
  };
}

/** The processes and all their descendants (from /proc/<pid>/task/<tid>/children). */
function withDescendants(roots: number[]): number[] {
  const found = new Set<number>();
  const queue = [...roots];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    if (found.has(pid)) continue;
    found.add(pid);
    try {
      for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
        const children = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
        if (children) queue.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      // gone
    }
  }
  return [...found];
}

function alive(pid: number): boolean {
  const state = readProcess(pid)?.state;
  return state !== undefined && state !== 'Z';
}

/** Docker's system_cpu_usage: the first seven columns of /proc/stat's cpu line, in ns. */
function systemCpuNs(): bigint {
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 8);
  return cpu.reduce((sum, ticks) => sum + BigInt(ticks), 0n) * BigInt(NS_PER_TICK);
}

/** Docker's networks entries, from /proc/<pid>/net/dev (the process's own network namespace), without lo. */
function readNetDev(pid: number): Record<string, Record<string, number>> | undefined {
  try {
    const lines = fs.readFileSync(`/proc/${pid}/net/dev`, 'utf8').trim().split('\n').slice(2);
    return Object.fromEntries(lines.map(line => line.trim().split(/[:\s]+/)).filter(cols => cols[0] !== 'lo').map(cols => {
      const n = cols.slice(1).map(Number);
      return [cols[0], {
        rx_bytes: n[0], rx_packets: n[1], rx_errors: n[2], rx_dropped: n[3], tx_bytes: n[8], tx_packets: n[9], tx_errors: n[10], tx_dropped: n[11],
      }];
    }));
  } catch {
    return undefined;
  }
}

function cpuStats(s: Sample) {
  return {
    cpu_usage: {
      total_usage: (s.userTicks + s.systemTicks) * NS_PER_TICK,
      usage_in_kernelmode: s.systemTicks * NS_PER_TICK,
      usage_in_usermode: s.userTicks * NS_PER_TICK,
    },
    system_cpu_usage: s.systemCpuNs,
    online_cpus: os.cpus().length,
    throttling_data: noThrottling(),
  };
}

function noThrottling() {
  return { periods: 0, throttled_periods: 0, throttled_time: 0 };
}

function nowNs(): bigint {
  return EPOCH_OFFSET_NS + process.hrtime.bigint();
}

/** RFC 3339 with the nanosecond fraction Go's time.RFC3339Nano writes (trailing zeros dropped). */
function rfc3339(ns: bigint): string {
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19)}${fraction ? `.${fraction}` : ''}Z`;
}

/** JSON with bigints written as exact integers (JSON.stringify refuses them; numbers past 2^53 would round). */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? `${BIGINT_MARK}${v}` : v))
    .replace(new RegExp(`"${BIGINT_MARK}(\\d+)"`, 'g'), '$1');
}

function send(res: http.ServerResponse, status: number, body: string) {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function arnParts(taskArn: string) {
  // arn:aws:ecs:<region>:<account>:task/<cluster>/<id> (the old form has no cluster)
  const [, , , region = 'eu-west-1', account = '123456789012', resource = ''] = taskArn.split(':');
  const path = resource.split('/');
  return { region, account, cluster: path.length === 3 ? path[1] : 'default' };
}

/** A stable UUID for a container ARN. */
function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** FNV-1a, 32 bits: the suffix Fargate puts after the task id in a DockerId. */
function fnv1a32(s: string): number {
  let hash = 0x811c9dc5;
  /* eslint-disable no-bitwise */
  for (const byte of Buffer.from(s, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash >>> 0;
  /* eslint-enable no-bitwise */
}
