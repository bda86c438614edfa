import { ChildProcess, spawn, spawnSync, SpawnOptions } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';

const NETNS_DIR = '/run/netns';
const NETNS_PREFIX = 'fatask-';
const VETH_PREFIX = 'fat';
const VETH_NAME = /^fat\d+$/;
const TASK_INTERFACE = 'eth1';
const TEN_SLASH_8 = 10 * 2 ** 24;
/** The /30 blocks in 10.0.0.0/8. */
const BLOCKS = 2 ** 22;
/** Per module instance; collisions with other instances are caught by the kernel (veth names). */
let nextCandidate = 0;
let available: boolean | undefined;

/**
 * One emulated awsvpc task's network namespace. On Fargate every container of a task shares
 * one network namespace (the task's ENI), so a sidecar sees the app's sockets in
 * /proc/net/tcp and reaches it on localhost.
 * Here each task gets a real Linux network namespace with `lo` up and one veth pair to the
 * host namespace, on its own /30 in 10.0.0.0/8: the host side (.1) is where the host serves
 * what AWS would (the task metadata endpoint), the task side (.2) is the task's private IP
 * that the controller scrapes and load generators connect to.
 *
 * Nothing here routes anywhere else: the namespace has only its connected /30 and no default
 * route, so a process inside reaches the host side of its veth and nothing beyond, whatever
 * the host's ip_forward says.
 *
 * Names: netns `fatask-<pid>-<index>`, host veth `fat<index>` (interface names are at most
 * 15 characters), task side `eth1`, as Fargate platform 1.4 names the task ENI (the
 * `networks.eth1` of its /task/stats). The index picks the /30; the kernel refuses a second
 * `fat<index>`, so two jest workers or two jest runs never share an address, and the pid in
 * the netns name lets the next create remove what a killed process left behind.
 */
export class TaskNamespace {
  /** Creates the namespace: two `ip -batch` runs (host side, task side), a few milliseconds. */
  public static async create(): Promise<TaskNamespace> {
    await removeStaleNamespaces();
    const taken = foreignRoutes();
    for (let attempt = 0; attempt < 256; attempt++) {
      const index = (process.pid * 64 + nextCandidate++) % BLOCKS;
      const ns = new TaskNamespace(index);
      if (taken.some(r => r.start < ns.blockStart + 4 && ns.blockStart < r.end)) continue;
      if (fs.existsSync(`${NETNS_DIR}/${ns.name}`)) continue; // left by an earlier test file in this process
      const host = await ip(['-batch', '-'], [
        `netns add ${ns.name}`,
        `link add ${ns.hostInterface} type veth peer name ${TASK_INTERFACE} netns ${ns.name}`,
        `addr add ${ns.hostAddress}/30 dev ${ns.hostInterface}`,
        `link set ${ns.hostInterface} up`,
      ]);
      if (!host.ok) {
        await ip(['netns', 'del', ns.name]);
        // Another process holds this index (its veth exists): try the next one.
        if (/File exists/.test(host.stderr)) continue;
        throw new Error(`cannot create network namespace ${ns.name}: ${host.stderr.trim()}`);
      }
      const task = await ip(['-n', ns.name, '-batch', '-'], [
        'link set lo up',
        `addr add ${ns.address}/30 dev ${TASK_INTERFACE}`,
        `link set ${TASK_INTERFACE} up`,
      ]);
      if (!task.ok) {
        await ns.destroy();
        throw new Error(`cannot configure network namespace ${ns.name}: ${task.stderr.trim()}`);
      }
      return ns;
    }
    throw new Error('no free /30 in 10.0.0.0/8 for a task namespace after 256 attempts');
  }

  /** The netns name, for `ip netns exec` and `ip -n`. */
  public readonly name: string;
  /** The task's private IP (task side of the veth), reachable from the host namespace. */
  public readonly address: string;
  /** The host side of the veth, reachable from inside the namespace. */
  public readonly hostAddress: string;
  /** The host-side veth's name. */
  public readonly hostInterface: string;
  private readonly blockStart: number;
  private destroyed?: Promise<void>;

  private constructor(index: number) {
    this.name = `${NETNS_PREFIX}${process.pid}-${index}`;
    this.hostInterface = `${VETH_PREFIX}${index}`;
    this.blockStart = TEN_SLASH_8 + index * 4;
    this.hostAddress = dotted(this.blockStart + 1);
    this.address = dotted(this.blockStart + 2);
  }

  /**
   * Spawns `command` inside the namespace (`ip netns exec` execs it, so the child's pid is
   * the command's own), with child_process.spawn's options.
   */
  public spawn(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.name, command, ...args], options);
  }

  /**
   * Deletes the veth (both ends at once) and the namespace; idempotent. Callers stop their
   * processes first: a process still inside keeps the (now unconnected) namespace alive.
   */
  public destroy(): Promise<void> {
    this.destroyed ??= ip(['-force', '-batch', '-'], [`link del ${this.hostInterface}`, `netns del ${this.name}`]).then(() => undefined);
    return this.destroyed;
  }
}

/** Whether namespaces can be made here: root, and `ip netns` working. */
export function namespacesAvailable(): boolean {
  available ??= process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list'], { stdio: 'ignore' }).status === 0;
  return available;
}

/** Whether `address` is the host side of a task namespace's veth on this machine (any process's). */
export function isTaskNamespaceHostAddress(address: string): boolean {
  return Object.entries(os.networkInterfaces()).some(([name, addresses]) =>
    VETH_NAME.test(name) && (addresses ?? []).some(a => a.family === 'IPv4' && a.address === address));
}

function dotted(n: number): string {
  return [24, 16, 8, 0].map(shift => Math.floor(n / 2 ** shift) % 256).join('.');
}

/**
 * Address ranges this host already routes (other than the default route and our own veths):
 * a task's /30 must not shadow part of a real network, e.g. a CI machine's 10.x subnet.
 */
function foreignRoutes(): Array<{ start: number; end: number }> {
  let table = '';
  try {
    table = fs.readFileSync('/proc/net/route', 'utf8');
  } catch {
    return [];
  }
  // Columns: Iface Destination Gateway Flags RefCnt Use Metric Mask ...; addresses in little-endian hex.
  const be = (hex: string) => Buffer.from(hex, 'hex').readUInt32LE(0);
  return table.trim().split('\n').slice(1).map(line => line.trim().split(/\s+/))
    .filter(cols => cols.length >= 8 && !VETH_NAME.test(cols[0]) && be(cols[7]) !== 0)
    .map(cols => ({ start: be(cols[1]), end: be(cols[1]) + 2 ** 32 - be(cols[7]) }));
}

/**
 * Removes namespaces whose creating process is gone (a killed jest worker): first the
 * processes still running inside them (nothing else would ever stop them), then the veth
 * and the namespace. Another process may be cleaning at the same time: errors are ignored.
 */
async function removeStaleNamespaces(): Promise<void> {
  let names: string[];
  try {
    names = fs.readdirSync(NETNS_DIR);
  } catch {
    return;
  }
  const stale = names.map(n => new RegExp(`^${NETNS_PREFIX}(\\d+)-(\\d+)$`).exec(n))
    .filter((m): m is RegExpExecArray => m !== null && !processAlive(Number(m[1])));
  if (stale.length === 0) return;
  killProcessesIn(stale.map(m => m[0]));
  await ip(['-force', '-batch', '-'], stale.flatMap(m => [`link del ${VETH_PREFIX}${m[2]}`, `netns del ${m[0]}`]));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGKILLs every process whose network namespace is one of `names` (what `ip netns pids` finds). */
function killProcessesIn(names: string[]) {
  const inodes = new Set<string>();
  for (const name of names) {
    try {
      inodes.add(`net:[${fs.statSync(`${NETNS_DIR}/${name}`).ino}]`);
    } catch {
      // already gone
    }
  }
  for (const pid of fs.readdirSync('/proc').filter(d => /^\d+$/.test(d))) {
    try {
      if (inodes.has(fs.readlinkSync(`/proc/${pid}/ns/net`))) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
}

/** Runs `ip` with `lines` on stdin (for -batch -). */
function ip(args: string[], lines: string[] = []): Promise<{ ok: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', d => (stderr += d));
    child.once('error', reject);
    child.once('close', code => resolve({ ok: code === 0, stderr }));
    child.stdin?.end(lines.map(l => `${l}\n`).join(''));
  });
}
