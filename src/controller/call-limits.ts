/**
 * The options that bound one AWS SDK call: its own time limit and the caller's deadline
 * (the tick's), whichever comes first. Either may be absent.
 */
export function callOptions(timeoutMs?: number, deadline?: AbortSignal): { abortSignal?: AbortSignal } {
  const signals = [...(timeoutMs !== undefined ? [AbortSignal.timeout(timeoutMs)] : []), ...(deadline ? [deadline] : [])];
  if (signals.length === 0) return {};
  return { abortSignal: signals.length === 1 ? signals[0] : AbortSignal.any(signals) };
}
