import { parseStubStatus } from '../../src/controller/read/stub-status';

// What nginx 1.22 (Debian nginx-light) prints, byte for byte, including trailing spaces.
const REAL = 'Active connections: 1 \nserver accepts handled requests\n 1 1 1 \nReading: 0 Writing: 1 Waiting: 0 \n';
const BUSY = 'Active connections: 291 \nserver accepts handled requests\n 16630948 16630948 31070465 \nReading: 6 Writing: 179 Waiting: 106 \n';

describe('parseStubStatus', () => {
  test('reads a real nginx page', () => {
    expect(parseStubStatus(REAL)).toEqual({
      ok: true,
      status: { active: 1, accepts: 1, handled: 1, requests: 1, reading: 0, writing: 1, waiting: 0 },
    });
  });

  test('reads a busy page', () => {
    expect(parseStubStatus(BUSY)).toEqual({
      ok: true,
      status: { active: 291, accepts: 16630948, handled: 16630948, requests: 31070465, reading: 6, writing: 179, waiting: 106 },
    });
  });

  test.each([
    ['empty', ''],
    ['truncated after the first line', 'Active connections: 3 \n'],
    ['truncated inside the counters', 'Active connections: 3 \nserver accepts handled requests\n 10 10 '],
    ['an HTML error page', '<html><body><h1>502 Bad Gateway</h1></body></html>'],
    ['negative figures', REAL.replace('Active connections: 1', 'Active connections: -1')],
    ['non-numeric figures', REAL.replace('Writing: 1', 'Writing: x')],
    ['an extra line', REAL + 'Extra: 1\n'],
    ['a number beyond 2^53', REAL.replace(' 1 1 1 ', ' 1 1 99999999999999999999 ')],
    ['the status request itself missing', REAL.replace('Writing: 1', 'Writing: 0')],
    ['no active connection at all', REAL.replace('Active connections: 1', 'Active connections: 0')],
    ['more handled than accepted', REAL.replace(' 1 1 1 ', ' 1 2 1 ')],
    ['more reading and writing than open', REAL.replace('Reading: 0', 'Reading: 5')],
  ])('rejects %s with a reason, never as zero', (_name, body) => {
    const result = parseStubStatus(body);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toMatch(/\w{4,}/);
  });
});
