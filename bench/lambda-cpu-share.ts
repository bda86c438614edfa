import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/**
 * A Lambda function's CPU share, enforced on a process of this machine with a cgroup (v1)
 * CPU quota. AWS: "Lambda allocates CPU power in proportion to the amount of memory
 * configured... at 1,769 MB, a function has the equivalent of one vCPU". So a function
 * of M MB gets M / 1769 of a CPU: a quota of 100,000 × M / 1769 µs every 100,000 µs.
 */
const MB_PER_VCPU = 1769;

const CGROUP_ROOT = '/sys/fs/cgroup/cpu';

export function vcpuShare(memoryMb: number): number {
  return memoryMb / MB_PER_VCPU;
}

export class CpuQuota {
  /** Creates a cgroup limited to the share of a `memoryMb` function; throws with the reason when it cannot. */
  public static create(memoryMb: number): CpuQuota {
    if (!fs.existsSync(path.join(CGROUP_ROOT, 'cpu.cfs_quota_us'))) {
      throw new Error(`no cgroup v1 CPU controller at ${CGROUP_ROOT}: this benchmark needs one (and root) to enforce a Lambda's CPU share`);
    }
    const dir = path.join(CGROUP_ROOT, `fast-autoscaler-bench-${process.pid}-${memoryMb}`);
    fs.mkdirSync(dir, { recursive: true });
    const period = 100_000;
    fs.writeFileSync(path.join(dir, 'cpu.cfs_period_us'), String(period));
    fs.writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), String(Math.round(period * vcpuShare(memoryMb))));
    return new CpuQuota(dir, memoryMb);
  }

  private readonly pids = new Set<number>();

  private constructor(public readonly dir: string, public readonly memoryMb: number) {}

  /** Moves a process (all its threads) into the quota. Only ever our own children. */
  public add(pid: number): void {
    fs.writeFileSync(path.join(this.dir, 'cgroup.procs'), String(pid));
    this.pids.add(pid);
  }

  /** Moves what is left back to the root group and removes the cgroup. */
  public remove(): void {
    for (const pid of this.pids) {
      try {
        fs.writeFileSync(path.join(CGROUP_ROOT, 'cgroup.procs'), String(pid));
      } catch {
        // the process has ended
      }
    }
    try {
      fs.rmdirSync(this.dir);
    } catch {
      // a process still inside (it ends with the benchmark); nothing else to do
    }
  }
}

/** User + system CPU time of a process so far, in ms (from /proc, 10 ms resolution). */
export function processCpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100;
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

/**
 * Checks that the quota gives a CPU-bound process the share it should: the same busy loop,
 * once free and once inside the quota, each reporting its wall and CPU time. A free loop
 * gets a whole CPU (cpu/wall ≈ 1, less on a busy machine); a limited one cpu/wall ≈ the
 * share. The ratio of their wall times is the slowdown (expected: 1769 / memoryMb).
 */
export function checkQuota(memoryMb: number): { share: number; free: LoopRun; limited: LoopRun; slowdown: number } {
  const script = 'const t=Date.now(),c=process.cpuUsage();let x=0;for(let i=0;i<2e8;i++)x+=i%7;'
    + 'const u=process.cpuUsage(c);process.stdout.write(JSON.stringify({wallMs:Date.now()-t,cpuMs:(u.user+u.system)/1000,x}))';
  const run = (out: string): LoopRun => {
    const r = JSON.parse(out) as { wallMs: number; cpuMs: number };
    return { wallMs: r.wallMs, cpuMs: Math.round(r.cpuMs), cpuPerWall: r.cpuMs / r.wallMs };
  };
  const free = run(spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' }).stdout);
  const quota = CpuQuota.create(memoryMb);
  try {
    // A shell that joins the cgroup first, then becomes the same loop.
    const limited = run(spawnSync('sh', ['-c', `echo $$ > ${quota.dir}/cgroup.procs && exec "${process.execPath}" -e '${script}'`], { encoding: 'utf8' }).stdout);
    return { share: vcpuShare(memoryMb), free, limited, slowdown: limited.wallMs / free.wallMs };
  } finally {
    quota.remove();
  }
}

export interface LoopRun {
  readonly wallMs: number;
  readonly cpuMs: number;
  /** The share of one CPU the loop got. */
  readonly cpuPerWall: number;
}
