import type { ControllerConfig } from './controller-config';

/**
 * The options that bound one AWS SDK call: its own time limit and the caller's deadline
 * (the tick's), whichever comes first. Either may be absent.
 */
export function callOptions(timeoutMs?: number, deadline?: AbortSignal): { abortSignal?: AbortSignal } {
  const signals = [...(timeoutMs !== undefined ? [AbortSignal.timeout(timeoutMs)] : []), ...(deadline ? [deadline] : [])];
  if (signals.length === 0) return {};
  return { abortSignal: signals.length === 1 ? signals[0] : AbortSignal.any(signals) };
}

/**
 * Each ECS call (its retries included) is abandoned after this long: a hung connection
 * must cost one tick's discovery, not the Lambda's whole timeout.
 */
export function ecsCallTimeoutMs(config: Pick<ControllerConfig, 'intervalSeconds'>): number {
  return Math.min(2500, Math.max(1000, config.intervalSeconds * 500));
}

/**
 * The AWS clients' own limits on each attempt. `throwOnRequestTimeout` makes the request
 * timeout throw (by default it only logs a warning); the per-call abort signal above
 * bounds the whole call where the runtime's SDK predates that option.
 */
export function awsClientTimeouts(config: Pick<ControllerConfig, 'intervalSeconds'>) {
  const call = ecsCallTimeoutMs(config);
  return { connectionTimeout: Math.min(1000, call), requestTimeout: call, throwOnRequestTimeout: true };
}

/**
 * The whole tick's limit for its AWS calls and its scrape, however the calls add up (a
 * slow ECS answering each of many pages just inside its own limit must not stretch a
 * tick to the Lambda's timeout). A little over the interval at short intervals, so that a
 * cold instance's first listing of thousands of tasks fits; well inside the Lambda's timeout.
 */
export function tickBudgetMs(config: ControllerConfig): number {
  return Math.max(3000, config.intervalSeconds * 1500);
}

/**
 * DynamoDB's throttling errors ("Error handling with DynamoDB": ProvisionedThroughputExceeded,
 * RequestLimitExceeded, ThrottlingException), which its model does not mark retryable.
 */
const DYNAMODB_THROTTLING = new Set(['ProvisionedThroughputExceededException', 'RequestLimitExceeded']);

/** Errors of the network itself, which pass as the next tick's calls go out. */
const NETWORK_ERRORS = new Set(['AbortError', 'TimeoutError', 'RequestTimeout', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE']);

/**
 * Throttling, server-side faults and calls that hung or broke: the tick holds and the
 * next one tries again.
 */
export function isTransientAwsError(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $fault?: string; $retryable?: unknown };
  return e?.name === 'ThrottlingException' || e?.name === 'ServerException' || e?.$fault === 'server' || !!e?.$retryable
    || DYNAMODB_THROTTLING.has(e?.name ?? '')
    || NETWORK_ERRORS.has(e?.name ?? '') || NETWORK_ERRORS.has(e?.code ?? '');
}
