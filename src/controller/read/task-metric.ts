import { MetricName } from '../controller-config';
import { TaskReading } from './task-reading-outcome';

/** A task's request counter as last read: [requests, epoch ms, the run whose tick read it]. */
export type Counter = readonly [number, number, string?];

export interface TaskSample extends TaskReading {
  readonly taskId: string;
  /** When the answer arrived, epoch ms. */
  readonly at: number;
}

/**
 * The counter a rate metric grows from: stub_status's request counter (which each read of
 * ours adds one to), or the app's own Prometheus counter (which our reads do not touch).
 */
function counterOf(sample: TaskSample): { value: number; countsOwnReads: boolean } | undefined {
  if (sample.status) return { value: sample.status.requests, countsOwnReads: true };
  if (sample.value !== undefined) return { value: sample.value, countsOwnReads: false };
  return undefined;
}

export interface TaskMetric {
  readonly taskId: string;
  /** The task's value, or undefined when it cannot be known (no usable baseline for a rate). */
  readonly value: number | undefined;
  /**
   * For a rate, the variance of its estimate: requests arrive as a Poisson process, so n
   * requests counted over g seconds estimate the rate n / g with variance n / g².
   * Zero for the instantaneous metrics, which are counts, not estimates.
   */
  readonly variance: number;
}

/**
 * Which gaps between two readings of a counter give a rate. A gap much shorter than the
 * interval is noise (a new run's first tick can follow the old run's last by 0.1 s: a
 * handful of Poisson arrivals over 0.1 s reads as a burst); a gap of several intervals is
 * an average over a past the decision should not act on.
 */
export interface RateGaps {
  readonly minMs: number;
  readonly maxMs: number;
}

/** Half an interval at least, four intervals at most. */
export function rateGaps(intervalSeconds: number): RateGaps {
  return { minMs: intervalSeconds * 500, maxMs: intervalSeconds * 4000 };
}

/**
 * One task's value of the metric; undefined when the reading cannot give it (no baseline for
 * a rate yet, a container's first second of stats, a source that does not read it).
 *
 * From stub_status, the status request is subtracted: it is an open connection being written
 * to, and it adds one to the request counter.
 *
 * A draining task (being stopped) gets no new connections from the load balancer; its
 * idle keep-alive ones ("Waiting") stay open until they time out while the same clients
 * open new ones on the remaining tasks, so for it only busy connections count: counting
 * the idle ones would scale out again after every scale-in and double the load during a
 * deployment. The agent cannot tell busy connections from idle ones, so a draining task's
 * connections count for nothing there (its CPU and memory count as measured).
 */
export function taskMetric(
  metric: MetricName, sample: TaskSample, previous: Counter | undefined, gaps: RateGaps, draining = false, runId?: string,
): TaskMetric {
  const s = sample.status;
  const known = (value: number | undefined): TaskMetric => ({ taskId: sample.taskId, value, variance: 0 });
  switch (metric) {
    case 'ACTIVE_CONNECTIONS':
      if (s) return known(Math.max(0, (draining ? s.reading + s.writing : s.active) - 1));
      return known(sample.connections === undefined ? undefined : draining ? 0 : sample.connections);
    case 'IN_FLIGHT_REQUESTS':
      return known(s ? Math.max(0, s.reading + s.writing - 1) : undefined);
    case 'CPU_UTILIZATION':
      return known(sample.cpuPercent);
    case 'MEMORY_UTILIZATION':
      return known(sample.memoryPercent);
    case 'PROMETHEUS_GAUGE':
      return known(sample.value);
    case 'QUEUE_MESSAGES':
      // A queue is read once for the service (see queue-reading.ts), never on a task.
      return known(undefined);
    case 'REQUESTS_PER_SECOND':
    case 'PROMETHEUS_COUNTER': {
      const counter = counterOf(sample);
      if (!previous || !counter) return known(undefined);
      const [prevRequests, prevAt] = previous;
      const gapMs = sample.at - prevAt;
      // A counter that went down means the process restarted inside the task: the rate since
      // the restart is unknown. A gap outside the usable range gives no rate either.
      if (counter.value < prevRequests || gapMs < gaps.minMs || gapMs > gaps.maxMs) return known(undefined);
      // Each stub_status reading adds one request of its own to the counter. A baseline another
      // run's tick left has one more read after it: the new run's first tick, which may have run
      // on another Lambda instance (a run handover, once a minute).
      const foreignReads = previous[2] !== undefined && runId !== undefined && previous[2] !== runId ? 1 : 0;
      const own = counter.countsOwnReads ? 1 + foreignReads : 0;
      const served = Math.max(0, counter.value - prevRequests - own);
      const seconds = gapMs / 1000;
      const rate = served / seconds;
      if (!Number.isFinite(rate)) return known(undefined);
      // Requests arrive as a Poisson process: n counted over g seconds have variance n / g².
      // An app's own counter may count anything (seconds of CPU, bytes): no noise model is known.
      return { taskId: sample.taskId, value: rate, variance: counter.countsOwnReads ? served / (seconds * seconds) : 0 };
    }
  }
}

/**
 * The request counters of the last usable reading, per task, kept in the warm Lambda
 * instance rather than in the state item: they change on every tick and grow with the
 * task count (at 5,000 tasks the item would be ~300 KB rewritten every 3 s, and past
 * ~6,500 tasks it would not fit DynamoDB's 400 KB item at all). A cold instance, or one
 * that was not used for several intervals, simply has no baseline: its first tick knows
 * no rate, which the decision treats as unknown (a lower bound), never as zero.
 */
export class RequestCounters {
  private readonly byTask = new Map<string, Counter>();
  private runId?: string;

  /** Called by each tick with its run: the baselines it takes are that run's. */
  public useFor(runId: string): void {
    this.runId = runId;
  }

  public get(taskId: string): Counter | undefined {
    return this.byTask.get(taskId);
  }

  public get size(): number {
    return this.byTask.size;
  }

  /**
   * After a tick: a reading replaces its task's baseline unless it came too soon after it
   * (then the older baseline stays, so that the next gap is long enough); tasks that were
   * listed but not read keep theirs; tasks no longer listed are forgotten.
   */
  public record(samples: readonly TaskSample[], listedTaskIds: Iterable<string>, gaps: RateGaps): void {
    const listed = new Set(listedTaskIds);
    for (const taskId of [...this.byTask.keys()]) {
      if (!listed.has(taskId)) this.byTask.delete(taskId);
    }
    for (const s of samples) {
      const counter = counterOf(s);
      if (!counter) continue;
      const previous = this.byTask.get(s.taskId);
      // A clock that stepped back (negative gap) starts a new baseline rather than keeping one from the "future".
      const gapMs = previous ? s.at - previous[1] : Infinity;
      const tooSoon = previous !== undefined && counter.value >= previous[0] && gapMs >= 0 && gapMs < gaps.minMs;
      if (!tooSoon) this.byTask.set(s.taskId, [counter.value, s.at, this.runId]);
      // The kept baseline now has one more status request of ours after it, which the
      // next rate must not count as the app's; it is this run's read, not a foreign one.
      else if (counter.countsOwnReads) this.byTask.set(s.taskId, [previous[0] + 1, previous[1], this.runId]);
    }
  }
}
