import { PolicyConfig } from './controller-config';
import { WindowView } from './recommendation-history';

/**
 * The decision: a pure function of what one tick measured and what the controller
 * remembers. Scaling out is immediate; scaling in is slow, optional and only ever done on
 * complete data.
 */

export type Action = 'SCALE_OUT' | 'SCALE_IN' | 'HOLD';

export interface DecisionInput {
  readonly policy: PolicyConfig;
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly maxScaleOutStep: number;
  readonly scaleInEnabled: boolean;
  readonly maxFailedScrapeRatio: number;
  /** The service's desired count now: running and pending tasks are capacity already asked for. */
  readonly desiredCount: number;
  readonly pendingCount: number;
  /** Tasks that were RUNNING and so were scraped. */
  readonly scrapedTasks: number;
  /** Of those, how many gave no usable page. */
  readonly failedScrapes: number;
  /** Of the good pages, how many cannot give a value yet (a rate's first reading). */
  readonly unknownValues: number;
  /** The metric summed over the tasks that gave a value: a lower bound of the true total. */
  readonly total: number;
  /** The scale-in window, including this tick's recommendation. */
  readonly window: WindowView;
}

export interface Decision {
  readonly action: Action;
  readonly desiredCount: number;
  /** What the policy asks for now, within [minTasks, maxTasks]. */
  readonly recommendation: number;
  /** Whether this tick saw every task (the only kind of tick scale-in may follow). */
  readonly complete: boolean;
  readonly reason: string;
}

/** The policy's raw answer for a total, before bounds. */
export function policyDesired(policy: PolicyConfig, total: number, minTasks: number): number {
  if (policy.type === 'targetTracking') {
    return Math.ceil(total / policy.targetPerTask);
  }
  let desired = minTasks;
  for (const step of policy.steps) {
    if (total >= step.threshold) desired = step.desiredTasks;
  }
  return desired;
}

export function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}

/** The recommendation the tick records for the scale-in window. */
export function recommend(i: Pick<DecisionInput, 'policy' | 'total' | 'minTasks' | 'maxTasks'>): number {
  return clamp(policyDesired(i.policy, i.total, i.minTasks), i.minTasks, i.maxTasks);
}

/** Whether the tick saw every running task's value. */
export function isComplete(i: Pick<DecisionInput, 'scrapedTasks' | 'failedScrapes' | 'unknownValues'>): boolean {
  return i.scrapedTasks > 0 && i.failedScrapes === 0 && i.unknownValues === 0;
}

export function decide(i: DecisionInput): Decision {
  const current = i.desiredCount;
  const recommendation = recommend(i);
  const complete = isComplete(i);
  const hold = (reason: string): Decision => ({ action: 'HOLD', desiredCount: current, recommendation, complete, reason });

  // Bounds first: they hold whatever the load says.
  if (current < i.minTasks) {
    return { action: 'SCALE_OUT', desiredCount: i.minTasks, recommendation, complete, reason: `desired count ${current} is below minTasks ${i.minTasks}` };
  }
  if (current > i.maxTasks && i.scaleInEnabled) {
    return { action: 'SCALE_IN', desiredCount: i.maxTasks, recommendation, complete, reason: `desired count ${current} is above maxTasks ${i.maxTasks}` };
  }
  if (i.scrapedTasks === 0) {
    return hold(current === 0 ? 'no tasks to measure' : 'no running task to measure yet');
  }
  const failedRatio = i.failedScrapes / i.scrapedTasks;
  if (failedRatio > i.maxFailedScrapeRatio) {
    return hold(`${i.failedScrapes} of ${i.scrapedTasks} scrapes failed, more than the allowed share ${i.maxFailedScrapeRatio}`);
  }
  if (i.unknownValues === i.scrapedTasks - i.failedScrapes) {
    return hold('first reading of the request counters: no rate yet');
  }

  if (recommendation > current) {
    const desiredCount = Math.min(recommendation, current + i.maxScaleOutStep, i.maxTasks);
    const partial = complete ? '' : ' (measured on part of the tasks: a lower bound)';
    return {
      action: 'SCALE_OUT',
      desiredCount,
      recommendation,
      complete,
      reason: `load ${round(i.total)} asks for ${recommendation} tasks, ${current} desired${partial}`,
    };
  }
  if (recommendation === current) return hold(`load ${round(i.total)} matches ${current} tasks`);

  // The recommendation is lower: scale in only when every guard lets it.
  if (!i.scaleInEnabled) return hold(`load ${round(i.total)} asks for ${recommendation} tasks; scale-in is disabled`);
  if (!complete) return hold('scale-in waits for a tick that reads every task');
  if (i.pendingCount > 0) return hold(`scale-in waits for ${i.pendingCount} pending tasks`);
  if (!i.window.complete) return hold('scale-in waits until the history covers the whole window');
  const target = Math.max(i.window.max, Math.ceil(current / 2), i.minTasks);
  if (target >= current) return hold(`the window's highest recommendation (${i.window.max}) keeps ${current} tasks`);
  return {
    action: 'SCALE_IN',
    desiredCount: target,
    recommendation,
    complete,
    reason: `load stayed at or below ${i.window.max} tasks' worth for the whole window`,
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
