/**
 * The nginx configuration of the proxy sidecar. One renderer serves the task
 * definition and the local emulator, so the emulated tasks run exactly what a real
 * task runs; only where the process keeps its files and which address it binds differ.
 */

/** The path at which the status server answers. */
export const STATUS_PATH = '/nginx_status';

export interface ProxyNginxConfigOptions {
  /** The port the load balancer sends traffic to. */
  readonly proxyPort: number;
  /** The port the controller reads stub_status from. */
  readonly statusPort: number;
  /** The app container's port, reached on 127.0.0.1 (tasks share a network namespace). */
  readonly appPort: number;
  /** Where the app listens. @default 127.0.0.1 */
  readonly appHost?: string;
  /** Bind only this address (the emulator gives each task its own loopback IP). @default all addresses */
  readonly listenAddress?: string;
  /** Where nginx keeps its pid and temporary files (the emulator runs unprivileged). @default the image's defaults */
  readonly runtimeDir?: string;
  /** @default auto */
  readonly workerProcesses?: number;
}

export function renderProxyNginxConfig(o: ProxyNginxConfigOptions): string {
  const listen = (port: number) => (o.listenAddress ? `${o.listenAddress}:${port}` : `${port}`);
  const dir = o.runtimeDir;
  const lines = [
    `worker_processes ${o.workerProcesses ?? 'auto'};`,
    `error_log ${dir ? `${dir}/error.log` : '/dev/stderr'} warn;`,
    ...(dir ? [`pid ${dir}/nginx.pid;`] : []),
    'events {',
    '  worker_connections 8192;',
    '}',
    'http {',
    '  access_log off;',
    '  server_tokens off;',
    ...(dir
      ? ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(t => `  ${t}_temp_path ${dir}/${t}_temp;`)
      : []),
    // Longer than the load balancer's 60 s idle timeout, so that the proxy never closes
    // a connection the load balancer is about to reuse.
    '  keepalive_timeout 75s;',
    '  upstream app {',
    `    server ${o.appHost ?? '127.0.0.1'}:${o.appPort};`,
    '    keepalive 64;',
    '  }',
    '  server {',
    `    listen ${listen(o.proxyPort)} reuseport backlog=4096;`,
    '    location / {',
    '      proxy_pass http://app;',
    '      proxy_http_version 1.1;',
    '      proxy_set_header Connection "";',
    '      proxy_set_header Host $host;',
    '      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '      proxy_set_header X-Forwarded-Proto $http_x_forwarded_proto;',
    '    }',
    '  }',
    // stub_status lives on its own port, which only the controller's security group may
    // reach: it is never served on the port the load balancer talks to.
    '  server {',
    `    listen ${listen(o.statusPort)};`,
    `    location = ${STATUS_PATH} {`,
    '      stub_status;',
    '    }',
    '    location / {',
    '      return 404;',
    '    }',
    '  }',
    '}',
  ];
  return lines.join('\n') + '\n';
}
