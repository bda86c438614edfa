import { MetricName } from './controller-config';
import { StubStatus } from './stub-status';

/** A task's request counter as last read: [requests, epoch ms]. */
export type Counter = readonly [number, number];

export interface TaskSample {
  readonly taskId: string;
  readonly status: StubStatus;
  /** When the page was read, epoch ms. */
  readonly at: number;
}

export interface TaskMetric {
  readonly taskId: string;
  /** The task's value, or undefined when it cannot be known yet (first reading of a request counter). */
  readonly value: number | undefined;
}

/**
 * One task's value of the metric. The status request is subtracted: it is an open
 * connection being written to, and it adds one to the request counter.
 */
export function taskMetric(metric: MetricName, sample: TaskSample, previous: Counter | undefined): TaskMetric {
  const s = sample.status;
  switch (metric) {
    case 'ACTIVE_CONNECTIONS':
      return { taskId: sample.taskId, value: Math.max(0, s.active - 1) };
    case 'IN_FLIGHT_REQUESTS':
      return { taskId: sample.taskId, value: Math.max(0, s.reading + s.writing - 1) };
    case 'REQUESTS_PER_SECOND': {
      if (!previous) return { taskId: sample.taskId, value: undefined };
      const [prevRequests, prevAt] = previous;
      const seconds = (sample.at - prevAt) / 1000;
      // A counter that went down means nginx restarted inside the task: the rate since
      // the restart is unknown, so this reading only sets the new baseline.
      if (s.requests < prevRequests || seconds <= 0) return { taskId: sample.taskId, value: undefined };
      // Each reading adds one request of its own to the counter.
      return { taskId: sample.taskId, value: Math.max(0, s.requests - prevRequests - 1) / seconds };
    }
  }
}

/** The counters to remember for the next tick: only tasks read this time, so stopped tasks drop out. */
export function nextCounters(samples: readonly TaskSample[]): Record<string, Counter> {
  const counters: Record<string, Counter> = {};
  for (const s of samples) counters[s.taskId] = [s.status.requests, s.at];
  return counters;
}
