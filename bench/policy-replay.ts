import { PolicyConfig } from '../src/controller/controller-config';
import { learnedStartDelaySeconds, LoadHistory, loadProjectionOf } from '../src/controller/decide/load-trend';
import { Bucket, recordRecommendation, windowView } from '../src/controller/decide/recommendation-history';
import { decide, LoadProjection, recommend } from '../src/controller/decide/scaling-decision';

/**
 * A load trace replayed through the controller's decision (the pure module the Lambda runs):
 * ticks every INTERVAL seconds, a task serves START_DELAY seconds after the UpdateService that
 * asked for it, MIN–MAX tasks, scale-in on with a WINDOW-second window; a task carries TARGET.
 * What it costs is J: task-minutes (every task from its order to its stop, starting ones too)
 * plus one task-minute for every second short of capacity after the first JUDGED_AFTER seconds.
 */

export const TARGET = 100; // connections one task carries
export const START_DELAY = 45; // seconds from UpdateService to a task serving (Fargate: tens of seconds)
export const INTERVAL = 3;
export const WINDOW = 300;
export const MIN = 2;
export const MAX = 20;
/** Shortfalls in the first minute are every policy's (the service starts at MIN tasks): J leaves them out. */
export const JUDGED_AFTER = 60;

export interface Outcome {
  /** Seconds with more load than the serving tasks carry, after the first JUDGED_AFTER. */
  readonly underCapacitySeconds: number;
  readonly taskMinutes: number;
  readonly actions: number;
  readonly series: ReadonlyArray<{ readonly t: number; readonly load: number; readonly capacity: number }>;
}

/** J: task-minutes plus a task-minute for each second short. */
export function cost(o: Outcome): number {
  return o.taskMinutes + o.underCapacitySeconds;
}

export interface ReplayOptions {
  /** The original design's pause after every scale-out, seconds. @default 0 */
  readonly cooldownAfterScaleOut?: number;
  /** Until it has measured a task serve, the predictive policy's look-ahead is this much short (created → RUNNING). @default 0 */
  readonly learnedShortBy?: number;
  /** Replaces the predictive policy's projection (an experiment's). @default the controller's */
  readonly projector?: (readings: ReadonlyArray<{ at: number; total: number }>, lookAheadSeconds: number) => LoadProjection | undefined;
}

/** Replays one trace under one policy. */
export function simulate(load: readonly number[], policy: PolicyConfig, options: ReplayOptions = {}): Outcome {
  const cooldown = options.cooldownAfterScaleOut ?? 0;
  let desired = MIN;
  let tasks: number[] = Array(MIN).fill(-Infinity); // when each task became (or becomes) ready
  let history: Bucket[] = [];
  let pausedUntil = -1;
  let actions = 0;
  const loadHistory = new LoadHistory();
  const all: Array<{ at: number; total: number }> = [];
  // Every task serves START_DELAY after it was created, the service's first ones too: the
  // controller measured that delay (created to carrying load, src/controller/decide/serve-delays.ts)
  // before the trace begins; here tasks serve at a tick's moment, so the measure is exact.
  const lookAheadSeconds = policy.type === 'predictive'
    ? learnedStartDelaySeconds([(START_DELAY - (options.learnedShortBy ?? 0)) * 1000], policy.startDelaySeconds) + INTERVAL : 0;
  let under = 0;
  let taskSeconds = 0;
  const series: Array<Outcome['series'][number]> = [];
  for (let t = 0; t < load.length; t++) {
    const ready = tasks.filter(r => r <= t).length;
    if (t >= JUDGED_AFTER && load[t] > ready * TARGET) under++;
    taskSeconds += tasks.length;
    series.push({ t, load: load[t] / TARGET, capacity: ready });
    if (t % INTERVAL !== 0 || t < pausedUntil) continue;
    const pending = tasks.length - ready;
    let projection: LoadProjection | undefined;
    if (policy.type === 'predictive') {
      loadHistory.record(t * 1000, load[t]);
      all.push({ at: t * 1000, total: load[t] });
      projection = options.projector ? options.projector(all, lookAheadSeconds) : loadProjectionOf(loadHistory.recent(t * 1000), lookAheadSeconds);
    }
    const rec = recommend({ policy, total: load[t], minTasks: MIN, maxTasks: MAX, projection });
    history = recordRecommendation(history, t + 1e6, rec, INTERVAL, WINDOW);
    // Every running task is read: the load of a second is what the tasks hold at once.
    const d = decide({
      policy,
      minTasks: MIN,
      maxTasks: MAX,
      maxScaleOutStep: MAX,
      scaleInEnabled: true,
      maxFailedScrapeRatio: 0.5,
      desiredCount: desired,
      pendingCount: pending,
      scrapedTasks: Math.max(1, ready),
      failedScrapes: 0,
      unknownValues: 0,
      total: load[t],
      window: windowView(history, t + 1e6, INTERVAL, WINDOW),
      projection,
    });
    if (d.action === 'HOLD') continue;
    actions++;
    if (d.desiredCount > desired) {
      tasks = [...tasks, ...Array(d.desiredCount - desired).fill(t + START_DELAY)];
      pausedUntil = t + cooldown;
    } else {
      tasks = [...tasks].sort((a, b) => a - b).slice(0, d.desiredCount);
    }
    desired = d.desiredCount;
  }
  return { underCapacitySeconds: under, taskMinutes: taskSeconds / 60, actions, series };
}

/**
 * Perfect foresight, a lower bound no real policy reaches on a sudden step: every capacity level
 * k is ordered START_DELAY before each stretch of seconds whose load needs k tasks, and kept
 * through gaps shorter than START_DELAY (a stop and a new start would cost more); never fewer
 * than MIN, never more than MAX (short only above MAX).
 */
export function oracle(load: readonly number[]): Outcome {
  const need = load.map(l => Math.min(MAX, Math.max(MIN, Math.ceil(l / TARGET))));
  const held = Array<number>(load.length).fill(MIN); // tasks alive (ordered or serving) each second
  const serving = Array<number>(load.length).fill(MIN);
  for (let k = MIN + 1; k <= MAX; k++) {
    const seconds = need.map((n, t) => (n >= k ? t : -1)).filter(t => t >= 0);
    let i = 0;
    while (i < seconds.length) {
      let end = seconds[i];
      let j = i + 1;
      while (j < seconds.length && seconds[j] - end <= START_DELAY) end = seconds[j++];
      const start = seconds[i];
      for (let t = Math.max(0, start - START_DELAY); t <= end; t++) held[t]++;
      for (let t = start; t <= end; t++) serving[t]++;
      i = j;
    }
  }
  let under = 0;
  let actions = 0;
  for (let t = 0; t < load.length; t++) {
    if (t >= JUDGED_AFTER && load[t] > serving[t] * TARGET) under++;
    if (t > 0 && held[t] !== held[t - 1]) actions++;
  }
  return {
    underCapacitySeconds: under,
    taskMinutes: held.reduce((a, b) => a + b, 0) / 60,
    actions,
    series: load.map((l, t) => ({ t, load: l / TARGET, capacity: serving[t] })),
  };
}
