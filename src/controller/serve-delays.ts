/**
 * How long the service's new tasks took from created to carrying load: what a scale-out
 * really waits for. ECS says when a task is RUNNING (`startedAt`), but a load balancer sends
 * it nothing until its health checks pass (by default several checks some seconds apart),
 * and an app may warm up before it answers them. Those seconds are not in any ECS timestamp;
 * the controller sees them in its own scrapes, as the time from RUNNING until the task
 * carries a share of the load like the others.
 *
 * A new task counts as serving at the first tick at which its load is at least a quarter of
 * the mean task's; before that, it was seen running but idle while the others carried load.
 * Only tasks seen idle soon after they started are measured: a Lambda instance that comes
 * to a service of old tasks, one idle at the moment, must not take its age for a start delay.
 * A tick's moment is up to one interval after the task began serving, so a measured delay
 * is long by up to one interval: the safe side for a look-ahead.
 *
 * Kept in the warm Lambda instance (as the load history is); a new instance measures anew,
 * and until then the look-ahead uses the created-to-RUNNING times the catalog has.
 */

/** The share of the mean task's load from which a new task counts as serving. */
export const SERVING_SHARE = 0.25;

/** A task first seen idle later than this after it started is not measured (its start was not seen). */
export const SEEN_IDLE_WITHIN_MS = 30_000;

/** What the catalog knows of a task's start, epoch ms. */
export interface TaskStart {
  readonly createdAt?: number;
  readonly startedAt?: number;
}

export interface TaskLoad {
  readonly taskId: string;
  /** This tick's value of the metric; undefined when unknown (a rate without a baseline). */
  readonly value: number | undefined;
}

export class ServeDelays {
  /** Tasks seen running and idle soon after they started, by task id: when they were created. */
  private readonly idle = new Map<string, number>();
  /** Tasks seen carrying load, or too late to measure: never measured again. */
  private readonly settled = new Set<string>();
  /** Measured delays in ms, newest first. */
  private delays: number[] = [];

  /** @param maxKept the most delays kept (the look-ahead uses the newest five). */
  constructor(public readonly maxKept = 20) {}

  /**
   * Takes one tick's readings of the serving tasks (not the draining ones). `startOf` gives
   * what the catalog knows of a task's start.
   */
  public record(readings: readonly TaskLoad[], startOf: (taskId: string) => TaskStart | undefined, at: number): void {
    const listed = new Set(readings.map(r => r.taskId));
    // Forget tasks that left (stopped, or draining): both maps stay as large as the service.
    for (const id of this.idle.keys()) if (!listed.has(id)) this.idle.delete(id);
    for (const id of this.settled) if (!listed.has(id)) this.settled.delete(id);
    const known = readings.filter(r => r.value !== undefined && Number.isFinite(r.value) && r.value >= 0);
    const mean = known.reduce((sum, r) => sum + (r.value ?? 0), 0) / Math.max(1, known.length);
    // Without load anywhere nothing tells a task not yet in service from an idle one.
    if (!(mean > 0)) return;
    const serving = SERVING_SHARE * mean;
    for (const r of known) {
      if (this.settled.has(r.taskId)) continue;
      const createdAt = this.idle.get(r.taskId);
      if ((r.value ?? 0) >= serving) {
        this.settled.add(r.taskId);
        this.idle.delete(r.taskId);
        if (createdAt !== undefined && at >= createdAt) this.delays = [at - createdAt, ...this.delays].slice(0, this.maxKept);
        continue;
      }
      if (createdAt !== undefined) continue;
      const start = startOf(r.taskId);
      if (start?.createdAt === undefined || start.startedAt === undefined || at - start.startedAt > SEEN_IDLE_WITHIN_MS) {
        this.settled.add(r.taskId);
      } else {
        this.idle.set(r.taskId, start.createdAt);
      }
    }
  }

  /** The measured delays from created to serving, in ms, newest first. */
  public newest(): number[] {
    return [...this.delays];
  }
}
