import { PolicyConfig } from '../controller-config';
import { WindowView } from './recommendation-history';

/**
 * The decision: a pure function of what one tick measured and what the controller
 * remembers. Scaling out is immediate and may follow from a lower bound of the load;
 * scaling in is slow, optional and only ever done on complete data.
 */

export type Action = 'SCALE_OUT' | 'SCALE_IN' | 'HOLD';

/** A scaling action another run took recently, which may not have reached ECS yet. */
export interface PeerAction {
  readonly runId: string;
  readonly action: Action;
  /** The desired count it set. */
  readonly to: number;
  /** How long ago it was decided, in seconds (negative when this tick's clock is behind). */
  readonly ageSeconds: number;
}

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
  /** Tasks that serve (desired RUNNING, last status RUNNING): the ones the failed share is about. */
  readonly scrapedTasks: number;
  /** Of those, how many gave no usable page (including tasks ECS listed but could not describe). */
  readonly failedScrapes: number;
  /** Of the good pages, how many cannot give a value yet (a rate's first reading). */
  readonly unknownValues: number;
  /**
   * Tasks being stopped that still run (desired STOPPED): their load is in `total` when
   * they answered; while any drains, nothing scales in. @default 0
   */
  readonly drainingTasks?: number;
  /** The metric summed over the tasks that gave a value: a lower bound of the true total. */
  readonly total: number;
  /**
   * The standard deviation of `total` as an estimate (rates counted over a few seconds are
   * noisy; connection counts are exact). Scale-out asks for the total less two of them,
   * scale-in for the total plus two: noise alone then moves the count about once in 40
   * ticks at worst in each direction, instead of ratcheting it up on every high reading.
   * @default 0
   */
  readonly totalStdDev?: number;
  /** The scale-in window, including this tick's recommendation. */
  readonly window: WindowView;
  /** Another run's action younger than about two intervals, if any. */
  readonly peerAction?: PeerAction;
  /**
   * Under the predictive policy, when the load rises beyond its noise: where it will be when
   * the tasks asked for now are ready. The policy asks for what that load needs as well as
   * for what the load needs now; never for less. @default - no rising trend
   */
  readonly projection?: LoadProjection;
}

/** The load's projection one start delay (and one interval) ahead, from its trend. */
export interface LoadProjection {
  /** How high the total load may be when new tasks would be ready (an upper prediction bound). */
  readonly total: number;
  /** How far ahead, in seconds. */
  readonly lookAheadSeconds: number;
  /** The trend's slope the projection follows (Sen's slope when sure at 99.99 %, else the lower end of its 99.5 % interval), per second. */
  readonly slopePerSecond: number;
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

/**
 * Relative tolerance for comparing sums of floating-point readings with whole task
 * counts: 21 connections at a target of 0.7 is 30.000000000000004 in binary, and must
 * ask for 30 tasks, not 31. One part in 10^9 is far below any meaningful load change.
 */
const RELATIVE_EPSILON = 1e-9;

function tolerance(x: number): number {
  return RELATIVE_EPSILON * Math.max(1, Math.abs(x));
}

/** The policy's raw answer for a total, before bounds. */
export function policyDesired(policy: PolicyConfig, total: number, minTasks: number): number {
  if (policy.type === 'targetTracking' || policy.type === 'predictive') {
    const exact = total / policy.targetPerTask;
    // A target so small that the quotient overflows asks for as many tasks as there can be.
    if (!Number.isFinite(exact)) return Number.MAX_SAFE_INTEGER;
    return Math.max(0, Math.ceil(exact - tolerance(exact)));
  }
  let desired = minTasks;
  for (const step of policy.steps) {
    if (total >= step.threshold - tolerance(step.threshold)) desired = step.desiredTasks;
  }
  return desired;
}

export function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}

/**
 * The recommendation the tick records for the scale-in window. Under the predictive policy
 * (and only when the tick projected the load) it is what the higher of the load now and the
 * projected load needs: never below plain target tracking's.
 */
export function recommend(i: Pick<DecisionInput, 'policy' | 'total' | 'minTasks' | 'maxTasks' | 'projection'>): number {
  return Math.min(i.maxTasks, askedTasks(i.policy, i.total, i.minTasks, i.projection?.total));
}

/**
 * What the policy asks for before `maxTasks` caps it: at least `minTasks`, for the higher of the
 * load now and (under the predictive policy) the projected load. The Recommendation metric
 * reports it uncapped, so that the "held at maxTasks" alarm sees how far past the ceiling it is.
 */
export function askedTasks(policy: PolicyConfig, total: number, minTasks: number, projectedTotal?: number): number {
  const load = policy.type === 'predictive' && projectedTotal !== undefined ? Math.max(total, projectedTotal) : total;
  return Math.max(minTasks, policyDesired(policy, load, minTasks));
}

/**
 * What the policy asks for, given the noise of the total: the least it surely asks for
 * (for scaling out) and the most it may ask for (for scaling in and the scale-in window).
 */
export function recommendationRange(
  i: Pick<DecisionInput, 'policy' | 'total' | 'totalStdDev' | 'minTasks' | 'maxTasks' | 'projection'>,
): { low: number; high: number } {
  const margin = 2 * (i.totalStdDev ?? 0);
  return {
    low: recommend({ ...i, total: Math.max(0, i.total - margin), projection: shift(i.projection, -margin) }),
    high: recommend({ ...i, total: i.total + margin, projection: shift(i.projection, margin) }),
  };
}

/** The projection moved by the total's noise margin: it was built from totals as noisy as this one. */
function shift(p: LoadProjection | undefined, by: number): LoadProjection | undefined {
  return p && { ...p, total: Math.max(0, p.total + by) };
}

/** Whether the tick saw every task's value. */
export function isComplete(i: Pick<DecisionInput, 'scrapedTasks' | 'failedScrapes' | 'unknownValues'>): boolean {
  return i.scrapedTasks > 0 && i.failedScrapes === 0 && i.unknownValues === 0;
}

/**
 * What the tick decides, before a peer run's recent action is taken into account.
 *
 * The order matters: a scale-out follows from any lower bound of the load (saturated
 * tasks are the ones whose status page times out), so the failed-share rule only guards
 * holding and scaling in.
 */
function decideAlone(i: DecisionInput): Decision {
  const current = i.desiredCount;
  const recommendation = recommend(i);
  const { low, high } = recommendationRange(i);
  const complete = isComplete(i);
  const hold = (reason: string): Decision => ({ action: 'HOLD', desiredCount: current, recommendation, complete, reason });
  const readValues = i.scrapedTasks - i.failedScrapes - i.unknownValues;
  const measured = readValues > 0 || (i.drainingTasks ?? 0) > 0;

  // Below minTasks: straight to what the load needs, at least minTasks.
  if (current < i.minTasks) {
    const desiredCount = Math.max(i.minTasks, Math.min(low, current + i.maxScaleOutStep, i.maxTasks));
    // (A queue that holds a message raises the floor to one task: then the load is the reason.)
    const reason = measured && i.total > 0 ? `load ${round(i.total)} asks for ${recommendation} tasks, ${current} desired` : `desired count ${current} is below minTasks ${i.minTasks}`;
    return { action: 'SCALE_OUT', desiredCount, recommendation, complete, reason };
  }

  if (measured && low > current) {
    const desiredCount = Math.min(low, current + i.maxScaleOutStep, i.maxTasks);
    const partial = complete ? '' : ` (a lower bound: ${describeGaps(i)})`;
    const noise = low < recommendation ? ` (at least ${low} allowing for the rate's noise)` : '';
    const p = i.policy.type === 'predictive' ? i.projection : undefined;
    const now = p ? recommend({ ...i, projection: undefined }) : recommendation;
    const ahead = p && now < recommendation
      ? `, rising ${round(p.slopePerSecond)}/s to ${round(p.total)} in ${round(p.lookAheadSeconds)} s (${now} for the load now)`
      : '';
    return {
      action: 'SCALE_OUT',
      desiredCount,
      recommendation,
      complete,
      reason: `load ${round(i.total)} asks for ${recommendation} tasks${ahead}${noise}, ${current} desired${partial}`,
    };
  }

  if (i.scrapedTasks === 0 && !measured) {
    return hold(current === 0 ? 'no tasks to measure' : 'no running task to measure yet');
  }
  const failedRatio = i.scrapedTasks > 0 ? i.failedScrapes / i.scrapedTasks : 0;
  if (failedRatio > i.maxFailedScrapeRatio) {
    return hold(`${i.failedScrapes} of ${i.scrapedTasks} scrapes failed, more than the allowed share ${i.maxFailedScrapeRatio}; the tasks read ask for no more than ${current}`);
  }
  if (!measured) {
    return hold(i.failedScrapes >= i.scrapedTasks ? 'nothing was read this tick' : 'first reading of the request counters: no rate yet');
  }
  if (high >= current) {
    return hold(high === recommendation
      ? `load ${round(i.total)} matches ${current} tasks`
      : `load ${round(i.total)} matches ${current} tasks within the rate's noise (${low} to ${high})`);
  }

  // The recommendation is lower (or the count is above maxTasks): scale in only when
  // every guard lets it, and then at most halving, whatever the bounds say.
  if (!i.scaleInEnabled) return hold(`load ${round(i.total)} asks for ${high} tasks; scale-in is disabled`);
  if (!complete) return hold(`scale-in waits for a tick that reads every task (${describeGaps(i)})`);
  if ((i.drainingTasks ?? 0) > 0) return hold(`scale-in waits for ${i.drainingTasks} stopping tasks to finish draining`);
  if (i.pendingCount > 0) return hold(`scale-in waits for ${i.pendingCount} pending tasks`);
  if (!i.window.complete) return hold('scale-in waits until the history covers the whole window');
  // Halving never reaches zero: a service that may run none (a queue's workers) goes there
  // when the whole window asked for none.
  const toZero = i.minTasks === 0 && i.window.max === 0;
  const target = toZero ? 0 : Math.max(i.window.max, Math.ceil(current / 2), i.minTasks);
  if (target >= current) return hold(`the window's highest recommendation (${i.window.max}) keeps ${current} tasks`);
  return {
    action: 'SCALE_IN',
    desiredCount: target,
    recommendation,
    complete,
    reason: current > i.maxTasks
      ? `desired count ${current} is above maxTasks ${i.maxTasks}: down by at most half a window`
      : toZero
        ? 'nothing to do for the whole window: no task needed'
        : `load stayed at or below ${i.window.max} tasks' worth for the whole window`,
  };
}

/**
 * Overlapping runs read ECS independently: a run that read the desired count before a
 * peer's UpdateService landed must not undo that action. Within the peer's freshness, a
 * scale-out goes to at least the peer's count, and a scale-in waits.
 */
export function decide(i: DecisionInput): Decision {
  const d = decideAlone(i);
  const peer = i.peerAction;
  if (!peer || peer.action === 'HOLD' || d.action === 'HOLD') return d;
  const ago = `${Math.max(0, Math.round(peer.ageSeconds))} s ago`;
  if (d.action === 'SCALE_IN') {
    return { ...d, action: 'HOLD', desiredCount: i.desiredCount, reason: `run ${peer.runId} set ${peer.to} tasks ${ago}: scale-in waits` };
  }
  // A peer under another configuration (a deployment between runs) may have used other bounds.
  const peerTo = clamp(peer.to, i.minTasks, i.maxTasks);
  if (d.desiredCount < peerTo) {
    return { ...d, desiredCount: peerTo, reason: `${d.reason}; run ${peer.runId} set ${peerTo} tasks ${ago}, which stands` };
  }
  return d;
}

function describeGaps(i: DecisionInput): string {
  const parts: string[] = [];
  if (i.failedScrapes > 0) parts.push(`${i.failedScrapes} of ${i.scrapedTasks} tasks unread`);
  if (i.unknownValues > 0) parts.push(`${i.unknownValues} without a rate yet`);
  return parts.length > 0 ? parts.join(', ') : 'no task read';
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
