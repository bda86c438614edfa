import { StubStatus } from './stub-status';

/**
 * What one read of a task gave, whichever source answered: each field is there only when
 * the source reads it. A figure the source could not know yet (the agent's CPU in a
 * container's first second) is absent, and the task's value is then unknown, never 0.
 */
export interface TaskReading {
  /** The proxy's nginx stub_status page. */
  readonly status?: StubStatus;
  /** The agent: established inbound connections on the app's ports. */
  readonly connections?: number;
  /** The agent: the task's CPU use, percent of its task-level CPU limit. */
  readonly cpuPercent?: number;
  /** The agent: the task's memory use (less inactive file cache), percent of its task-level memory. */
  readonly memoryPercent?: number;
  /** Prometheus: the matching series summed (a gauge's level, or a counter's total). */
  readonly value?: number;
}

export type ReadOutcome = { readonly ok: true; readonly reading: TaskReading } | { readonly ok: false; readonly reason: string };
