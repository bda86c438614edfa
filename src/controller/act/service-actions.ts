import { ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { callOptions } from '../call-limits';
import { SCALE_CALL } from './scale-call-limits';

/** What became of one call: done, or failed with the error's name and message. */
export type CallOutcome = { readonly ok: true; readonly attempts: number; readonly ms: number }
| { readonly ok: false; readonly attempts: number; readonly ms: number; readonly error: string };

/**
 * The UpdateService errors that no retry can cure, as the ECS model names them. Every other
 * error is retried within the call's limits: throttling (`ThrottlingException`, which the
 * model does not declare), server faults, a call that hung.
 */
export const NON_RETRYABLE_SCALE_ERRORS: ReadonlySet<string> = new Set([
  'AccessDeniedException',
  'ClusterNotFoundException',
  'ServiceNotFoundException',
  'ServiceNotActiveException',
  'InvalidParameterException',
  'UnsupportedFeatureException',
  'PlatformUnknownException',
  'PlatformTaskDefinitionIncompatibilityException',
]);

/**
 * Sets a service's desired count: SCALE_CALL's attempts and backoff, each attempt within its
 * limit and every attempt before `until` (wall clock, epoch ms), so that one service whose
 * ECS hangs never holds up the loop. Setting the same count twice is harmless, so a call that
 * hung is tried again.
 */
export async function updateDesiredCount(
  ecs: ECSClient, cluster: string, service: string, desiredCount: number, until: number,
  sleep: (ms: number) => Promise<void> = ms => new Promise(r => setTimeout(r, ms)),
): Promise<CallOutcome> {
  const started = Date.now();
  let error = '';
  for (let attempt = 1; attempt <= SCALE_CALL.retries + 1; attempt++) {
    const left = until - Date.now();
    if (left <= 0) return { ok: false, attempts: attempt - 1, ms: Date.now() - started, error: error || 'no time left in the tick' };
    try {
      // Each attempt ends by `until`: none lands after the next tick may have decided.
      await ecs.send(new UpdateServiceCommand({ cluster, service, desiredCount }),
        callOptions(Math.min(SCALE_CALL.timeoutSeconds * 1000, left)));
      return { ok: true, attempts: attempt, ms: Date.now() - started };
    } catch (err) {
      const e = err as Error;
      error = `${e.name}: ${e.message}`;
      if (NON_RETRYABLE_SCALE_ERRORS.has(e.name)) return { ok: false, attempts: attempt, ms: Date.now() - started, error };
    }
    const delay = Math.min(SCALE_CALL.maxRetryDelaySeconds, SCALE_CALL.firstRetryDelaySeconds * SCALE_CALL.backoffRate ** (attempt - 1)) * 1000;
    // Full jitter, as the state machine's retriers had: peers that failed together retry apart.
    if (attempt <= SCALE_CALL.retries) await sleep(Math.min(Math.random() * delay, Math.max(0, until - Date.now())));
  }
  return { ok: false, attempts: SCALE_CALL.retries + 1, ms: Date.now() - started, error };
}

/** How long a notification may take before the loop goes on without it. */
export function notifyTimeoutMs(intervalSeconds: number): number {
  return Math.min(3, Math.max(1, intervalSeconds)) * 1000;
}

/** Tells the topic what was done, after it was done; once, within its limit: a lost notification never stops the loop. */
export async function publishNotification(
  sns: SNSClient, topicArn: string, subject: string, message: string, timeoutMs: number,
): Promise<CallOutcome> {
  const started = Date.now();
  try {
    await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message }), callOptions(timeoutMs));
    return { ok: true, attempts: 1, ms: Date.now() - started };
  } catch (err) {
    const e = err as Error;
    return { ok: false, attempts: 1, ms: Date.now() - started, error: `${e.name}: ${e.message}` };
  }
}
