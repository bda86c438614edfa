import * as fc from 'fast-check';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { sumPrometheusSeries } from '../../src/controller/read/prometheus-text';

/** A real exposition from prom-client, with default metrics around ours as an app has them. */
async function exposition(): Promise<string> {
  const registry = new Registry();
  const inFlight = new Gauge({ name: 'http_requests_in_flight', help: 'Requests being served', labelNames: ['route'], registers: [registry] });
  const served = new Counter({ name: 'http_requests_total', help: 'Requests served', labelNames: ['route', 'code'], registers: [registry] });
  const latency = new Histogram({ name: 'http_requests_in_flight_seconds', help: 'A name our gauge begins', registers: [registry] });
  inFlight.set({ route: '/api' }, 7);
  inFlight.set({ route: '/static' }, 3);
  served.inc({ route: '/api', code: '200' }, 1200);
  served.inc({ route: '/api', code: '500' }, 5);
  served.inc({ route: '/a"b\\c\nd', code: '200' }, 2);
  latency.observe(0.2);
  return registry.metrics();
}

describe('sumPrometheusSeries on a real exposition', () => {
  test('sums a gauge over every matching series, and only its name (not one that begins with it)', async () => {
    const body = await exposition();
    expect(sumPrometheusSeries(body, { name: 'http_requests_in_flight', labels: {} })).toEqual({ ok: true, value: 10, series: 2 });
    expect(sumPrometheusSeries(body, { name: 'http_requests_in_flight', labels: { route: '/api' } })).toEqual({ ok: true, value: 7, series: 1 });
  });

  test('a counter by its labels, escaped label values included', async () => {
    const body = await exposition();
    expect(sumPrometheusSeries(body, { name: 'http_requests_total', labels: { code: '200' } })).toMatchObject({ ok: true, value: 1202 });
    expect(sumPrometheusSeries(body, { name: 'http_requests_total', labels: { route: '/a"b\\c\nd' } })).toMatchObject({ ok: true, value: 2 });
  });

  test('a name the exposition does not declare is unread, never 0; labels no series has yet read 0 (the family is declared)', async () => {
    const body = await exposition();
    expect(sumPrometheusSeries(body, { name: 'http_request_in_flight', labels: {} })).toMatchObject({ ok: false, reason: expect.stringMatching(/no sample http_request_in_flight/) });
    expect(sumPrometheusSeries(body, { name: 'http_requests_in_flight', labels: { route: '/nope' } })).toEqual({ ok: true, value: 0, series: 0 });
  });
});

describe('sumPrometheusSeries refuses what is not a usable value', () => {
  const series = { name: 'busy', labels: {} };
  test.each([
    ['NaN', 'busy NaN\n'],
    ['+Inf', 'busy +Inf\n'],
    ['a negative value', 'busy -1\n'],
    ['not a number', 'busy twelve\n'],
    ['an unclosed label value', 'busy{a="x} 1\n'],
    ['a label without quotes', 'busy{a=x} 1\n'],
    ['an unknown escape', 'busy{a="\\q"} 1\n'],
    ['trailing garbage', 'busy 1 2 3\n'],
    ['no value', 'busy{a="x"}\n'],
    ['an HTML page', '<html><body>busy</body></html>'],
  ])('%s', (_name, body) => {
    expect(sumPrometheusSeries(body, series).ok).toBe(false);
  });

  test('reads timestamps, exponents, CRLF line ends and comments', () => {
    expect(sumPrometheusSeries('# HELP busy x\n# TYPE busy gauge\nbusy{a="1",} 1.5e1 1700000000000\r\nbusy 2\n# EOF\n', series)).toEqual({ ok: true, value: 17, series: 2 });
  });

  test('never throws, whatever the body (fast-check)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), body => {
      const r = sumPrometheusSeries(`busy${body}`, series);
      return r.ok ? Number.isFinite(r.value) && r.value >= 0 : typeof r.reason === 'string';
    }), { numRuns: 2000 });
  });
});

describe('review findings', () => {
  test('a declared family with no sample yet (a labelled series not used: an idle task) reads 0; an undeclared name stays unread', async () => {
    const registry = new Registry();
    new Gauge({ name: 'http_requests_in_flight', help: 'x', labelNames: ['route'], registers: [registry] });
    new Counter({ name: 'jobs_total', help: 'x', labelNames: ['queue'], registers: [registry] });
    const body = await registry.metrics();
    expect(sumPrometheusSeries(body, { name: 'http_requests_in_flight', labels: { route: '/api' } })).toEqual({ ok: true, value: 0, series: 0 });
    expect(sumPrometheusSeries(body, { name: 'jobs_total', labels: {} })).toEqual({ ok: true, value: 0, series: 0 });
    // OpenMetrics names a counter's family without _total.
    expect(sumPrometheusSeries('# TYPE jobs counter\n# EOF\n', { name: 'jobs_total', labels: {} })).toMatchObject({ ok: true, value: 0 });
    expect(sumPrometheusSeries(body, { name: 'http_request_in_flight', labels: {} }).ok).toBe(false);
  });

  test('OpenMetrics exemplars are skipped; blanks before and inside labels read as Prometheus reads them', () => {
    const series = { name: 'foo_total', labels: { a: '1' } };
    expect(sumPrometheusSeries('foo_total{a="1"} 5 # {trace_id="abc"} 1.0 1700000000.1\n', series)).toMatchObject({ ok: true, value: 5 });
    expect(sumPrometheusSeries('  foo_total {a="1"} 3\nfoo_total{ a = "1" ,\tb="2" } 4 1700000000000\n', series)).toMatchObject({ ok: true, value: 7 });
  });

  test('a garbage timestamp, a repeated label and a sum that overflows are unread', () => {
    const series = { name: 'busy', labels: {} };
    expect(sumPrometheusSeries('busy 3 banana\n', series).ok).toBe(false);
    expect(sumPrometheusSeries('busy{a="1",a="2"} 3\n', series).ok).toBe(false);
    expect(sumPrometheusSeries('busy{a="1"} 1e308\nbusy{a="2"} 1e308\n', series)).toMatchObject({ ok: false, reason: expect.stringMatching(/not finite/) });
  });
});
