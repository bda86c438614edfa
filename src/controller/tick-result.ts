import type { Decision } from './decide/scaling-decision';
import type { QueueCounts } from './read/measurement';
import type { TaskMetric } from './read/task-metric';

/** The shapes a tick takes in and gives back, and the notice's subject line. */

/** What the state machine passes to each tick. */
export interface TickEvent {
  /** The execution's name: one run of the loop. */
  readonly runId: string;
  /** The execution's start, ISO 8601. */
  readonly runStartedAt: string;
  /**
   * When this tick's state was entered, ISO 8601 (`$$.State.EnteredTime`), by Step Functions'
   * clock: the clock its Wait reads the next tick's time with. The function's own clock may
   * stand seconds apart; naming the next tick on it would stretch (or shrink) the loop's period
   * by that much. @default - the function's clock (events from before this field)
   */
  readonly tickEnteredAt?: string;
}

/**
 * What a service's tick returns: the loop hands `desiredCount` to UpdateService and
 * `subject`/`message` to SNS; the state machine goes on while `continue`.
 */
export interface TickResult {
  readonly action: Decision['action'];
  readonly desiredCount: number;
  readonly previousDesiredCount: number;
  readonly reason: string;
  /** Whether the run ticks again (false: past its deadline, lease lost, or service gone). */
  readonly continue: boolean;
  /** Whether to publish `message` (every real action; a dry run's only when it changes). */
  readonly notify: boolean;
  readonly subject: string;
  readonly message: string;
  readonly figures: TickFigures;
}

export interface TickFigures {
  readonly total: number;
  readonly perTask: number;
  readonly recommendation: number;
  readonly running: number;
  readonly starting: number;
  /** Tasks being stopped that may still serve (their load is in the total when read). */
  readonly draining: number;
  readonly scraped: number;
  readonly failed: number;
  readonly scrapeMs: number;
  /** ECS calls the discovery made, by action. */
  readonly ecsCalls: Readonly<Record<string, number>>;
  /** Under the queue source, when read: its counters (in flight counts against scaling to zero, counted or not). */
  readonly queue?: QueueCounts;
  /** Under the predictive policy, when the load rises: the total projected `lookAheadSeconds` ahead. */
  readonly projectedTotal?: number;
  readonly lookAheadSeconds?: number;
}

/** Everything a tick saw, for the log line and the metrics. */
export interface TickReport {
  readonly result: TickResult;
  readonly perTask: readonly TaskMetric[];
  readonly failures: ReadonlyArray<{ readonly taskId: string; readonly reason: string; readonly draining?: true }>;
}

/** The figures of a tick that read nothing. */
export const ZERO_FIGURES: TickFigures = {
  total: 0, perTask: 0, recommendation: 0, running: 0, starting: 0, draining: 0, scraped: 0, failed: 0, scrapeMs: 0, ecsCalls: {},
};

/** SNS subjects must be shorter than 100 characters. */
export const MAX_SUBJECT_LENGTH = 99;

/** A subject SNS accepts: shorter than 100 characters, printable ASCII only. */
export function subjectLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= MAX_SUBJECT_LENGTH ? ascii : `${ascii.slice(0, MAX_SUBJECT_LENGTH - 3)}...`;
}
