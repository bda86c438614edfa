import * as fc from 'fast-check';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { sumPrometheusSeries } from '../../src/controller/prometheus-text';

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

  test('a name or label that matches nothing is unread, never 0', async () => {
    const body = await exposition();
    expect(sumPrometheusSeries(body, { name: 'http_request_in_flight', labels: {} })).toMatchObject({ ok: false, reason: expect.stringMatching(/no sample http_request_in_flight/) });
    expect(sumPrometheusSeries(body, { name: 'http_requests_in_flight', labels: { route: '/nope' } })).toMatchObject({ ok: false });
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
