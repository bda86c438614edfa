import { MetricName } from '../controller-config';
import type { ReadOutcome, TaskReading } from './task-reading-outcome';

/**
 * The task agent's answer, checked strictly: anything but the expected shape leaves the task
 * unread (never 0), as a garbage stub_status page does.
 *
 * The agent answers `{"connections": N}` when the policy scales on connections, and
 * `{"stats": <task stats>, "task": <task metadata>}` for CPU and memory: the raw JSON of the
 * task metadata endpoint v4 (`${ECS_CONTAINER_METADATA_URI_V4}/task/stats` and `/task`, Fargate
 * platform 1.4.0 and later), which this module reads with the Docker stats semantics AWS
 * documents ("Amazon ECS task metadata endpoint version 4 for tasks on Fargate";
 * Docker Engine API v1.30, ContainerStats):
 * - CPU: per container, `cpu_stats.cpu_usage.total_usage` minus `precpu_stats.cpu_usage.total_usage`
 *   (nanoseconds of CPU) over `read` minus `preread` (the two samples' times), summed over the
 *   task's containers, as a percentage of the task-level `Limits.CPU` (vCPUs). A container in
 *   its first second has no previous sample (`preread` at Docker's zero time): the task's CPU
 *   is then unknown, not 0.
 * - Memory: per container, `memory_stats.usage` less its inactive file cache (`total_inactive_file`
 *   on cgroup v1, `inactive_file` on v2, as the Docker CLI computes it), summed, as a percentage
 *   of the task-level `Limits.Memory` (MiB).
 * A container whose stats are null (not running) adds nothing; a task none of whose
 * containers has stats is unknown.
 */
export function parseAgentAnswer(body: string, metric: MetricName): ReadOutcome {
  let answer: unknown;
  try {
    answer = JSON.parse(body);
  } catch {
    return { ok: false, reason: `not the agent's answer: ${JSON.stringify(body.slice(0, 80))}` };
  }
  if (!isObject(answer)) return { ok: false, reason: `not the agent's answer: ${JSON.stringify(body.slice(0, 80))}` };
  if (metric === 'ACTIVE_CONNECTIONS') {
    const n = answer.connections;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      return { ok: false, reason: `the agent's connection count is not a whole number of 0 or more: ${JSON.stringify(n)}` };
    }
    return { ok: true, reading: { connections: n } };
  }
  const limits = isObject(answer.task) && isObject(answer.task.Limits) ? answer.task.Limits : undefined;
  if (!isObject(answer.stats) || !limits) {
    return { ok: false, reason: 'the agent gave no task stats or no task limits (is the task metadata endpoint v4 there?)' };
  }
  const containers = Object.values(answer.stats).filter(s => s !== null);
  if (!containers.every(isObject)) return { ok: false, reason: 'the task stats are not a map of container stats' };
  if (metric === 'CPU_UTILIZATION') {
    const vcpus = limits.CPU;
    if (!isPositive(vcpus)) return { ok: false, reason: `the task's CPU limit is not a positive number: ${JSON.stringify(vcpus)}` };
    return readFigure(containers as Array<Record<string, unknown>>, containerCores, cores => ({ cpuPercent: (cores / vcpus) * 100 }));
  }
  if (metric === 'MEMORY_UTILIZATION') {
    const mib = limits.Memory;
    if (!isPositive(mib)) return { ok: false, reason: `the task's memory limit is not a positive number: ${JSON.stringify(mib)}` };
    const memoryPercent = (bytes: number) => ({ memoryPercent: (bytes / (mib * 1024 * 1024)) * 100 });
    return readFigure(containers as Array<Record<string, unknown>>, containerMemoryBytes, memoryPercent);
  }
  return { ok: false, reason: `the agent does not read ${metric}` };
}

/** A figure per container: a number, undefined while it cannot be known yet, or why the stats are wrong. */
type ContainerFigure = number | undefined | { readonly wrong: string };

function readFigure(
  containers: ReadonlyArray<Record<string, unknown>>, figure: (stats: Record<string, unknown>) => ContainerFigure,
  reading: (total: number) => TaskReading,
): ReadOutcome {
  let total = 0;
  let known = containers.length > 0;
  for (const stats of containers) {
    const f = figure(stats);
    if (typeof f === 'object') return { ok: false, reason: f.wrong };
    if (f === undefined) known = false;
    else total += f;
  }
  if (!Number.isFinite(total)) return { ok: false, reason: 'the task\'s stats add up to a number that is not finite' };
  // Unknown (a container's first second, no container running): the reading holds no figure.
  return { ok: true, reading: known ? reading(total) : {} };
}

/** The cores a container used between its two samples. */
function containerCores(stats: Record<string, unknown>): ContainerFigure {
  const now = usage(stats.cpu_stats);
  const before = usage(stats.precpu_stats);
  const read = nanos(stats.read);
  const preread = nanos(stats.preread);
  if (now === undefined || read === undefined) return { wrong: 'a container\'s stats have no cpu_stats.cpu_usage.total_usage or read time' };
  // Docker's zero time (year 1, before the epoch), or no previous sample: the container's
  // first second. (A previous total of 0 is a container that has not used the CPU yet.)
  if (before === undefined || preread === undefined || preread <= 0) return undefined;
  const elapsed = read - preread;
  // A counter that went back is a restarted container; two samples at one instant say nothing.
  if (elapsed <= 0 || now < before) return undefined;
  return (now - before) / elapsed;
}

/** A container's memory in use, less its inactive file cache. */
function containerMemoryBytes(stats: Record<string, unknown>): ContainerFigure {
  const memory = stats.memory_stats;
  if (!isObject(memory)) return { wrong: 'a container\'s stats have no memory_stats' };
  const used = memory.usage;
  // A container that has not reported its memory yet.
  if (used === undefined) return undefined;
  if (typeof used !== 'number' || !Number.isFinite(used) || used < 0) return { wrong: `a container's memory_stats.usage is not a number of 0 or more: ${JSON.stringify(used)}` };
  const detail = isObject(memory.stats) ? memory.stats : {};
  const inactive = [detail.total_inactive_file, detail.inactive_file].find(v => typeof v === 'number' && Number.isFinite(v) && v >= 0) as number | undefined;
  return inactive !== undefined && inactive < used ? used - inactive : used;
}

function usage(cpu: unknown): number | undefined {
  const total = isObject(cpu) && isObject(cpu.cpu_usage) ? cpu.cpu_usage.total_usage : undefined;
  return typeof total === 'number' && Number.isFinite(total) && total >= 0 ? total : undefined;
}

/**
 * An RFC 3339 time as Docker writes it (nanoseconds in the fraction) in nanoseconds since the
 * epoch, exact enough for a one-second difference; undefined when it is not such a time.
 */
export function nanos(time: unknown): number | undefined {
  if (typeof time !== 'string') return undefined;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return undefined;
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(seconds)) return undefined;
  return seconds * 1e6 + Number((m[2] ?? '').padEnd(9, '0'));
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPositive(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}
