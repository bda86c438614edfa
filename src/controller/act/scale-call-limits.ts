/**
 * The limits of a scale call (ecs:UpdateService, made by the controller right after its
 * decision), shared with the peer-run rule: a decided action may land at any time until the
 * last attempt has ended, and a peer run must treat it as binding until then. Kept short on
 * purpose: a scale call that cannot land within a few seconds is stale, and the next tick
 * decides again on fresh data.
 */
export const SCALE_CALL = {
  /** Each attempt's limit. UpdateService answers in well under a second. */
  timeoutSeconds: 4,
  /** Retries after the first attempt. */
  retries: 2,
  firstRetryDelaySeconds: 1,
  backoffRate: 2,
  maxRetryDelaySeconds: 2,
} as const;

/** The longest from a decision to the moment its UpdateService can no longer land, in seconds. */
export function scaleCallWorstCaseSeconds(): number {
  let delays = 0;
  for (let i = 0; i < SCALE_CALL.retries; i++) {
    delays += Math.min(SCALE_CALL.maxRetryDelaySeconds, SCALE_CALL.firstRetryDelaySeconds * SCALE_CALL.backoffRate ** i);
  }
  return (SCALE_CALL.retries + 1) * SCALE_CALL.timeoutSeconds + delays;
}
