/**
 * How long the service's new tasks took from created to carrying load: what a scale-out
 * really waits for. ECS says when a task is RUNNING (`startedAt`), but a load balancer sends
 * it nothing until its health checks pass (by default several checks some seconds apart),
 * and an app may warm up before it answers them. Those seconds are not in any ECS timestamp;
 * the controller sees them in its own scrapes, as the time from RUNNING until the task
 * carries a share of the load like the others.
 *
 * A new task counts as serving at the first reading in which it carries at least a quarter
 * of the mean load of the tasks already serving; before that, it was seen running but idle
 * while they carried load. Only tasks seen idle soon after they started are measured: a
 * Lambda instance that comes to a service of old tasks, one idle at the moment, must not take
 * its age for a start delay. A reading's moment is when its answer arrived, up to one
 * interval after the task began serving, so a measured delay is long by up to one interval:
 * the safe side for a look-ahead.
 *
 * What it cannot see: a new task that only gets new connections while old ones last (a
 * network load balancer, long-lived connections) reaches a quarter of the mean late, and
 * its delay is measured long, up to the bound the caller gives (the policy's `startDelay`).
 *
 * Kept in the warm Lambda instance (as the load history is); a new instance measures anew,
 * and until then the look-ahead uses the created-to-RUNNING times the catalog has.
 */

/** The share of the serving tasks' mean load from which a new task counts as serving. */
export const SERVING_SHARE = 0.25;

/** A task first seen idle later than this after it started is not measured (its start was not seen), at intervals up to 10 s. */
export const SEEN_IDLE_WITHIN_MS = 30_000;

/** What the catalog knows of a task's start, epoch ms. */
export interface TaskStart {
  readonly createdAt?: number;
  readonly startedAt?: number;
}

export interface TaskLoad {
  readonly taskId: string;
  /** This reading's value of the metric; undefined when unknown (a rate without a baseline). */
  readonly value: number | undefined;
  /** When the reading's answer arrived, epoch ms. */
  readonly at: number;
}

export interface ServeDelayLimits {
  /** The tick interval: a task is measured only if seen idle within max(30 s, three intervals) of its start. */
  readonly intervalMs: number;
  /** The longest delay worth measuring (the policy's bound): a task idle for longer is dropped. */
  readonly boundMs: number;
}

export class ServeDelays {
  /** Tasks seen running and idle soon after they started, by task id: when they were created. */
  private readonly idle = new Map<string, number>();
  /** Tasks seen serving, or too late to measure: never measured again. */
  private readonly settled = new Set<string>();
  /** Measured delays in ms, newest first. */
  private delays: number[] = [];

  /** @param maxKept the most delays kept (the look-ahead uses the newest five). */
  constructor(public readonly maxKept = 20) {}

  /**
   * Takes one tick's readings of the serving tasks (not the draining ones). `listedTaskIds`
   * are the tasks ECS lists (a task not read this tick is kept); `startOf` gives what the
   * catalog knows of a task's start.
   */
  public record(
    readings: readonly TaskLoad[], listedTaskIds: Iterable<string>, startOf: (taskId: string) => TaskStart | undefined, limits: ServeDelayLimits,
  ): void {
    const listed = new Set(listedTaskIds);
    // Forget tasks that left: both maps stay as large as the service.
    for (const id of this.idle.keys()) if (!listed.has(id)) this.idle.delete(id);
    for (const id of this.settled) if (!listed.has(id)) this.settled.delete(id);
    const known = readings.filter(r => r.value !== undefined && Number.isFinite(r.value) && r.value >= 0);
    // The serving tasks' mean, not every task's: a scale-out from 10 to 100 tasks must not
    // lower the bar to what health checks alone give a new task.
    const serving = known.filter(r => this.settled.has(r.taskId) && !this.idle.has(r.taskId));
    const mean = serving.reduce((sum, r) => sum + (r.value ?? 0), 0) / Math.max(1, serving.length);
    const seenIdleWithin = Math.max(SEEN_IDLE_WITHIN_MS, 3 * limits.intervalMs);
    for (const r of known) {
      if (this.settled.has(r.taskId)) continue;
      const createdAt = this.idle.get(r.taskId);
      if (createdAt !== undefined) {
        if (mean > 0 && (r.value ?? 0) >= SERVING_SHARE * mean) {
          this.settle(r.taskId);
          if (r.at >= createdAt) this.delays = [r.at - createdAt, ...this.delays].slice(0, this.maxKept);
        } else if (r.at - createdAt > limits.boundMs) {
          // Idle for longer than any delay the policy would use: a quiet service, not a start.
          this.settle(r.taskId);
        }
        continue;
      }
      const start = startOf(r.taskId);
      const measurable = start?.createdAt !== undefined && start.startedAt !== undefined && r.at - start.startedAt <= seenIdleWithin;
      // Idle while the others carry load: not in service yet. Anything else (serving already,
      // or no load anywhere, or started too long ago) is never measured.
      if (measurable && mean > 0 && (r.value ?? 0) < SERVING_SHARE * mean) {
        this.idle.set(r.taskId, start.createdAt!);
      } else {
        this.settled.add(r.taskId);
      }
    }
  }

  /** The measured delays from created to serving, in ms, newest first. */
  public newest(): number[] {
    return [...this.delays];
  }

  private settle(taskId: string): void {
    this.idle.delete(taskId);
    this.settled.add(taskId);
  }
}
