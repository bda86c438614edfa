import { PrometheusSeries } from '../controller-config';

export type SeriesSum = { readonly ok: true; readonly value: number; readonly series: number } | { readonly ok: false; readonly reason: string };

/**
 * Sums the samples of one series family in a Prometheus text exposition (format 0.0.4, and
 * OpenMetrics text: exemplars after the value are skipped): every sample line named exactly
 * `series.name` whose labels include each of `series.labels`. Only those lines are parsed
 * (an app's exposition may hold thousands of others, and the controller reads thousands of
 * tasks a tick), and they strictly: a malformed matching line, a value (or the sum) that is
 * NaN, infinite or negative, leaves the task unread.
 *
 * No matching sample: 0 when the exposition declares the family (`# TYPE <name>`, or for a
 * counter `name_total` the OpenMetrics family `name`), as client libraries do for a labelled
 * series not yet used (an idle task); unread when it does not (a misspelt name must never
 * read as an idle task).
 */
export function sumPrometheusSeries(body: string, series: PrometheusSeries): SeriesSum {
  const wanted = Object.entries(series.labels);
  const families = new Set([series.name, ...(series.name.endsWith('_total') ? [series.name.slice(0, -'_total'.length)] : [])]);
  let declared = false;
  let sum = 0;
  let matched = 0;
  let start = 0;
  while (start < body.length) {
    let end = body.indexOf('\n', start);
    if (end < 0) end = body.length;
    const line = (body.charCodeAt(end - 1) === 13 ? body.slice(start, end - 1) : body.slice(start, end)).replace(/^[ \t]+/, '');
    start = end + 1;
    if (line.startsWith('#')) {
      const type = /^#\s+TYPE\s+(\S+)/.exec(line);
      if (type && families.has(type[1])) declared = true;
      continue;
    }
    if (!line.startsWith(series.name)) continue;
    const after = line.charAt(series.name.length);
    if (after !== '{' && after !== ' ' && after !== '\t') continue;
    const sample = parseSample(line, series.name.length);
    if (typeof sample === 'string') return { ok: false, reason: `${series.name}: ${sample}: ${JSON.stringify(line.slice(0, 120))}` };
    if (!wanted.every(([k, v]) => sample.labels.get(k) === v)) continue;
    if (!Number.isFinite(sample.value) || sample.value < 0) {
      return { ok: false, reason: `${series.name}: the value ${sample.raw} is not a finite number of 0 or more` };
    }
    sum += sample.value;
    matched++;
  }
  if (!Number.isFinite(sum)) return { ok: false, reason: `${series.name}: the sum of its samples is not finite` };
  if (matched === 0 && !declared) {
    const labels = wanted.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',');
    return { ok: false, reason: `no sample ${series.name}${labels ? `{${labels}}` : ''} in the exposition, and no # TYPE ${series.name}` };
  }
  return { ok: true, value: sum, series: matched };
}

/** Go's float syntax as Prometheus writes values (NaN and the infinities are read, then refused). */
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;
/** A timestamp: milliseconds (text format 0.0.4) or seconds with a fraction (OpenMetrics). */
const TIMESTAMP = /^-?\d+(?:\.\d+)?$/;

/** One sample line after its name: `{a="x",b="y"} value [timestamp] [# exemplar]`, or what is wrong with it. */
function parseSample(line: string, from: number): { labels: Map<string, string>; value: number; raw: string } | string {
  const labels = new Map<string, string>();
  const blank = (c: string | undefined) => c === ' ' || c === '\t';
  let i = from;
  while (blank(line[i])) i++;
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (blank(line[i])) i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i, i + 256))?.[0];
      if (!name) return 'a label name is malformed';
      i += name.length;
      while (blank(line[i])) i++;
      if (line[i] !== '=') return 'a label has no =';
      i++;
      while (blank(line[i])) i++;
      if (line[i] !== '"') return 'a label value is not quoted';
      i++;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) return 'a label value is not closed';
        i++;
        if (c === '"') break;
        if (c !== '\\') {
          value += c;
          continue;
        }
        const escaped = line[i++];
        if (escaped === 'n') value += '\n';
        else if (escaped === '\\' || escaped === '"') value += escaped;
        else return 'a label value has an unknown escape';
      }
      if (labels.has(name)) return `the label ${name} appears twice`;
      labels.set(name, value);
      while (blank(line[i])) i++;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') return 'labels are not separated by commas';
    }
  }
  // An OpenMetrics exemplar (` # {trace_id="..."} 1.0 [timestamp]`) follows the sample: not ours to read.
  let rest = line.slice(i);
  const exemplar = rest.indexOf(' # ');
  if (exemplar >= 0) rest = rest.slice(0, exemplar);
  const fields = rest.trim().split(/[ \t]+/);
  if (fields.length > 2 || fields[0] === '') return 'a sample needs a value and at most a timestamp';
  const raw = fields[0];
  if (!VALUE.test(raw)) return `the value ${raw} is not a number`;
  if (fields.length === 2 && !TIMESTAMP.test(fields[1])) return `the timestamp ${fields[1]} is not a number`;
  const value = raw.endsWith('Inf') ? (raw.startsWith('-') ? -Infinity : Infinity) : raw === 'NaN' ? NaN : Number(raw);
  return { labels, value, raw };
}
