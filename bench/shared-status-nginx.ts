/**
 * One nginx answering stub_status on many loopback addresses: the benchmarks' stand-in for
 * thousands of tasks' sidecars (one process, ~7 MB, where one per address would not fit).
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NGINX_BINARY, waitForPort } from '../test/support/nginx-task';

export async function sharedStatusNginx(statusPort: number, addresses: string[]): Promise<{ stop(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fast-autoscaler-bench-'));
  const listens = addresses.map(a => `    listen ${a}:${statusPort};`).join('\n');
  fs.writeFileSync(path.join(dir, 'nginx.conf'), [
    'worker_processes 1;', `error_log ${dir}/error.log warn;`, `pid ${dir}/nginx.pid;`, 'worker_rlimit_nofile 16384;',
    'events { worker_connections 8192; }',
    'http {', '  access_log off;', `  client_body_temp_path ${dir}/cb;`, `  proxy_temp_path ${dir}/p;`, `  fastcgi_temp_path ${dir}/f;`,
    `  uwsgi_temp_path ${dir}/u;`, `  scgi_temp_path ${dir}/s;`,
    '  server {', listens, '    location = /nginx_status { stub_status; }', '  }', '}', '',
  ].join('\n'));
  const child: ChildProcess = spawn(NGINX_BINARY, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  await waitForPort(addresses[addresses.length - 1], statusPort, 20_000);
  return {
    stop: () => new Promise<void>(resolve => {
      child.once('exit', () => {
        fs.rmSync(dir, { recursive: true, force: true });
        resolve();
      });
      child.kill('SIGTERM');
    }),
  };
}
