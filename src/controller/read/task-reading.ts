import { parseAgentAnswer } from './agent-answer';
import { ControllerConfig, MetricName } from '../controller-config';
import { sumPrometheusSeries } from './prometheus-text';
import { parseStubStatus, STATUS_PATH } from './stub-status';
import { ReadOutcome } from './task-reading-outcome';

/** How the controller reads one source: what it sends each task and how it reads the answer's body. */
export interface TaskReader {
  /** The whole request, built once. */
  readonly request: Buffer;
  /** An answer's body longer than this is not the source's: the task is unread. */
  readonly maxBodyBytes: number;
  readonly parse: (body: string) => ReadOutcome;
}

/** stub_status pages are about 110 bytes; anything much larger is not one. */
const STUB_STATUS_MAX_BYTES = 1024;
/**
 * The agent's answer (a few KB of the metadata endpoint's JSON) and an app's exposition (tens
 * of KB for a typical client library's defaults): an answer larger than 1 MiB is not one.
 */
export const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * `Connection: close`: the status connection the page counts is only ever the request's own
 * (a kept-alive connection would be counted, idle, by every other reader, such as a second
 * Lambda instance during a run handover), and a Lambda may hold no more than 1,024
 * descriptors, far fewer than the tasks it reads.
 */
const STUB_STATUS_REQUEST = request('HTTP/1.1', STATUS_PATH, []);

/** The proxy's reader, also what a scrape reads unless told otherwise. */
export const STUB_STATUS_READER: TaskReader = {
  request: STUB_STATUS_REQUEST,
  maxBodyBytes: STUB_STATUS_MAX_BYTES,
  parse: body => {
    const parsed = parseStubStatus(body);
    return parsed.ok ? { ok: true, reading: { status: parsed.status } } : parsed;
  },
};

/** Readers already built, per configuration: the tick asks for one every few seconds. */
const readers = new WeakMap<object, TaskReader | undefined>();

/** The reader for the configured source and metric (a queue has none: its tasks are not read). */
export function readerFor(config: Pick<ControllerConfig, 'source' | 'policy'>): TaskReader | undefined {
  if (!readers.has(config)) readers.set(config, buildReader(config));
  return readers.get(config);
}

function buildReader(config: Pick<ControllerConfig, 'source' | 'policy'>): TaskReader | undefined {
  const source = config.source;
  const metric: MetricName = config.policy.metric;
  switch (source.type) {
    case 'nginxProxy':
      return STUB_STATUS_READER;
    case 'taskAgent':
      // HTTP/1.0: the answer ends where the connection does, never chunked.
      return { request: request('HTTP/1.0', '/', []), maxBodyBytes: MAX_ANSWER_BYTES, parse: body => parseAgentAnswer(body, metric) };
    case 'prometheus': {
      // The classic text format, which every client library serves (OpenMetrics' extra
      // `_created` samples and `# EOF` read the same way).
      const headers = ['Accept: text/plain;version=0.0.4;q=1,*/*;q=0.1'];
      return {
        request: request('HTTP/1.0', source.path, headers),
        maxBodyBytes: MAX_ANSWER_BYTES,
        parse: body => {
          const summed = sumPrometheusSeries(body, source.series);
          return summed.ok ? { ok: true, reading: { value: summed.value } } : summed;
        },
      };
    }
    case 'sqsQueue':
      return undefined;
  }
}

function request(version: string, path: string, headers: readonly string[]): Buffer {
  const lines = [`GET ${path} ${version}`, 'Host: fast-autoscaler', 'User-Agent: fast-autoscaler', ...headers, 'Connection: close'];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}
