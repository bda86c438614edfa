/**
 * The sidecar's health check command, run by /bin/sh as ECS runs CMD-SHELL, against a
 * real nginx with the rendered configuration, in images with wget, with curl, or with
 * neither (PATH holds only what the image would have).
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { STATUS_PATH } from '../../src/controller/read/stub-status';
import { proxyHealthCheckCommand } from '../../src/metric-sources/proxy-sidecar';
import { freePort, NginxTask } from '../support/nginx-task';

const TOOLS: Record<string, string[]> = {
  'an Alpine image (wget)': ['wget', 'grep'],
  'a Debian-based image (curl, no wget)': ['curl', 'grep'],
  'an image with neither': ['grep'],
};

const dirs: string[] = [];
/** A PATH with only these binaries, linked from the host's. */
function pathWith(binaries: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fast-autoscaler-path-'));
  dirs.push(dir);
  for (const b of binaries) {
    const real = ['/usr/bin', '/bin'].map(d => path.join(d, b)).find(p => fs.existsSync(p));
    if (!real) throw new Error(`${b} is not installed on this machine`);
    fs.symlinkSync(real, path.join(dir, b));
  }
  return dir;
}
afterAll(() => dirs.forEach(d => fs.rmSync(d, { recursive: true, force: true })));

function runCheck(statusPort: number, binaries: string[]): Promise<number> {
  return new Promise(resolve => {
    execFile('/bin/sh', ['-c', proxyHealthCheckCommand(statusPort)], { env: { PATH: pathWith(binaries) }, timeout: 10_000 }, err => {
      resolve(err ? (typeof err.code === 'number' ? err.code : 1) : 0);
    });
  });
}

describe.each(Object.entries(TOOLS))('in %s', (_image, binaries) => {
  test('healthy while nginx serves the status page, unhealthy once it stopped', async () => {
    // Nothing listens on the app's port: the check reads only the status page.
    const task = await NginxTask.start({ address: '127.0.0.1', appPort: await freePort('127.0.0.1') });
    const { statusPort } = task.options;
    try {
      expect(await runCheck(statusPort, binaries)).toBe(0);
    } finally {
      await task.stop();
    }
    expect(await runCheck(statusPort, binaries)).not.toBe(0);
  });
});

test.each([['wget'], ['curl']])('with %s, a port that answers but not with the status page is unhealthy', async tool => {
  const statusPort = await freePort('127.0.0.1');
  const server = http.createServer((req, res) => {
    res.statusCode = req.url === STATUS_PATH ? 500 : 404;
    res.end();
  });
  await new Promise<void>(resolve => server.listen(statusPort, '127.0.0.1', resolve));
  try {
    expect(await runCheck(statusPort, [tool, 'grep'])).not.toBe(0);
  } finally {
    await new Promise(resolve => server.close(resolve));
  }
});
