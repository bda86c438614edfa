import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { callOptions } from '../call-limits';

/** The queue source's configuration, as the controller has it. */
export interface QueueSource {
  readonly queueUrl: string;
  readonly countInFlight: boolean;
  readonly countDelayed: boolean;
}

/** One read of a queue's counters. */
export type QueueReading =
  | {
    readonly ok: true;
    /** Messages available to receive. */
    readonly visible: number;
    /** Received and not yet deleted: a worker is busy with them. */
    readonly inFlight: number;
    /** Sent with a delay that has not passed. */
    readonly delayed: number;
    /** What the policy scales on: visible, plus in flight and delayed as configured. */
    readonly total: number;
  }
  | { readonly ok: false; readonly reason: string };

/** The counters, as SQS names them in GetQueueAttributes. */
const ATTRIBUTES = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;

/**
 * Reads the queue's counters with one GetQueueAttributes. A throttled, denied or timed-out
 * call, a queue that no longer exists (`QueueDoesNotExist`), or a counter that is missing,
 * negative or not a whole number: the reading is unread, never 0.
 */
export async function readQueue(sqs: SQSClient, source: QueueSource, abortAfterMs: number, signal?: AbortSignal): Promise<QueueReading> {
  let attributes: Record<string, string> | undefined;
  try {
    const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: source.queueUrl, AttributeNames: [...ATTRIBUTES] }),
      callOptions(abortAfterMs, signal));
    attributes = out.Attributes;
  } catch (err) {
    const e = err as Error;
    return { ok: false, reason: `GetQueueAttributes: ${e.name}: ${e.message}` };
  }
  return queueReadingOf(attributes, source);
}

/** The reading from GetQueueAttributes' attributes (strings of digits, as SQS sends them). */
export function queueReadingOf(attributes: Record<string, string> | undefined, source: QueueSource): QueueReading {
  const counts: number[] = [];
  for (const name of ATTRIBUTES) {
    const raw = attributes?.[name];
    if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw)) {
      return { ok: false, reason: `GetQueueAttributes gave ${name} ${JSON.stringify(raw)}, not a whole number of 0 or more` };
    }
    counts.push(Number(raw));
  }
  const [visible, inFlight, delayed] = counts;
  const total = visible + (source.countInFlight ? inFlight : 0) + (source.countDelayed ? delayed : 0);
  return { ok: true, visible, inFlight, delayed, total };
}
