import { STATUS_PATH } from '../controller/read/stub-status';

/**
 * The nginx configuration of the proxy sidecar. One renderer serves the task
 * definition and the local emulator, so the emulated tasks run exactly what a real
 * task runs; only where the process keeps its files and which address it binds differ.
 *
 * The proxy must be invisible to the app (see "What the proxy changes" in docs/metric-sources.md):
 * every nginx default that would change a request or a response is overridden here,
 * and test/proxy/transparency.test.ts sends each case both directly to an app and
 * through this configuration, requiring the same result.
 */

/**
 * The proxy's timeout unless told otherwise: longer than the longest idle timeout an
 * Application Load Balancer allows (4,000 s), so the load balancer, never the proxy,
 * decides when a quiet request or connection ends.
 */
export const DEFAULT_PROXY_TIMEOUT_SECONDS = 4200;

/**
 * How long the proxy keeps an idle connection to the app for reuse. Shorter than the
 * idle timeout of common app servers (gunicorn 2 s, Node.js, uvicorn and Apache 5 s), so
 * nginx, whose clock starts after the app's, normally closes first.
 */
export const APP_KEEPALIVE_TIMEOUT_SECONDS = 1;

export interface ProxyNginxConfigOptions {
  /** The port the load balancer sends traffic to. */
  readonly proxyPort: number;
  /** The port the controller reads stub_status from. */
  readonly statusPort: number;
  /** The app container's port, reached on 127.0.0.1 (tasks share a network namespace). */
  readonly appPort: number;
  /** Where the app listens. @default 127.0.0.1 */
  readonly appHost?: string;
  /**
   * How long the proxy waits for the next byte from the app or the client, and to send
   * to the client. @default DEFAULT_PROXY_TIMEOUT_SECONDS
   */
  readonly timeoutSeconds?: number;
  /** The largest request body accepted, in bytes; larger ones get nginx's 413. @default no limit */
  readonly maxRequestBodyBytes?: number;
  /** Bind only this address (the emulator gives each task its own loopback IP). @default all addresses */
  readonly listenAddress?: string;
  /** Where nginx keeps its pid and temporary files (a task volume: the root filesystem is read-only). @default the image's defaults */
  readonly runtimeDir?: string;
  /** Where nginx writes its errors. @default /dev/stderr (the container's log) */
  readonly errorLog?: string;
  /** @default auto */
  readonly workerProcesses?: number;
  /**
   * Pass the app's 103 Early Hints on to the client (the `early_hints` directive). Only
   * for nginx 1.30 or later: older nginx refuses to start with the directive. nginx 1.29.8
   * and later without it drop the hints and deliver the final response; before 1.29
   * nginx takes a 1xx for the final response and the connection stalls (see docs/metric-sources.md).
   * @default false
   */
  readonly earlyHints?: boolean;
}

/** Response headers nginx would act on itself (an internal redirect, a rate limit, buffering) or hide. */
const NGINX_CONTROL_HEADERS = ['X-Accel-Redirect', 'X-Accel-Expires', 'X-Accel-Limit-Rate', 'X-Accel-Buffering', 'X-Accel-Charset'];

export function renderProxyNginxConfig(o: ProxyNginxConfigOptions): string {
  const listen = (port: number) => (o.listenAddress ? `${o.listenAddress}:${port}` : `${port}`);
  const dir = o.runtimeDir;
  const timeout = `${o.timeoutSeconds ?? DEFAULT_PROXY_TIMEOUT_SECONDS}s`;
  const app = `${o.appHost ?? '127.0.0.1'}:${o.appPort}`;
  const lines = [
    `worker_processes ${o.workerProcesses ?? 'auto'};`,
    `error_log ${o.errorLog ?? '/dev/stderr'} warn;`,
    ...(dir ? [`pid ${dir}/nginx.pid;`] : []),
    'events {',
    // A proxied request holds two connections (load balancer and app).
    '  worker_connections 8192;',
    '}',
    'http {',
    '  access_log off;',
    '  server_tokens off;',
    ...(dir
      ? ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(t => `  ${t}_temp_path ${dir}/${t}_temp;`)
      : []),
    // Idle connections from the load balancer stay open longer than its longest idle
    // timeout (4,000 s): closing one the load balancer is about to reuse is a 502 there.
    `  keepalive_timeout ${DEFAULT_PROXY_TIMEOUT_SECONDS}s;`,
    // The app alone would serve any number of requests on one connection; nginx's default
    // closes it after 1,000. Memory is still freed when keepalive_time (1 h) ends it.
    '  keepalive_requests 10000;',
    // Request headers as the load balancer passes them: any name, and its limits
    // (16 KB a line, 64 KB in all; 32 KB buffers hold both with room for the ends of lines).
    '  underscores_in_headers on;',
    '  ignore_invalid_headers off;',
    '  large_client_header_buffers 8 32k;',
    `  client_max_body_size ${o.maxRequestBodyBytes ?? 0};`,
    `  client_header_timeout ${timeout};`,
    `  client_body_timeout ${timeout};`,
    `  send_timeout ${timeout};`,
    // Only an upgrade request asks the app to upgrade: an Upgrade header and the
    // "upgrade" token in Connection (any case), as the app itself would require
    // (RFC 9110, 7.8). Every other request leaves Connection empty where the connection
    // to the app is reused, and says "close" where it is not (the app then closes first
    // and keeps the TIME_WAIT, not nginx). The Upgrade header itself passes as sent.
    '  map $http_connection $fast_autoscaler_upgrade_token {',
    '    "~*(^|,)\\s*upgrade\\s*(,|$)" yes;',
    '    default no;',
    '  }',
    '  map "$fast_autoscaler_upgrade_token:$http_upgrade" $fast_autoscaler_connection {',
    '    "~^yes:." upgrade;',
    "    default '';",
    '  }',
    '  map "$fast_autoscaler_upgrade_token:$http_upgrade" $fast_autoscaler_connection_new {',
    '    "~^yes:." upgrade;',
    '    default close;',
    '  }',
    // Safe, body-less requests may reuse an idle connection to the app, because nginx
    // can resend them on a new one when the app closed the reused one in the meantime.
    // Everything else (a body, or a method that must not run twice) gets a new
    // connection, which the app cannot have closed as idle.
    '  map "$request_method:$http_content_length:$http_transfer_encoding" $fast_autoscaler_new_connection {',
    '    "~^(GET|HEAD|OPTIONS):0?:$" "";',
    '    default 1;',
    '  }',
    '  upstream fast_autoscaler_app_reused {',
    `    server ${app};`,
    // Idle connections kept per worker: enough that a busy task does not open and close
    // one per request (they are closed after a second of idleness anyway).
    '    keepalive 512;',
    `    keepalive_timeout ${APP_KEEPALIVE_TIMEOUT_SECONDS}s;`,
    '  }',
    '  upstream fast_autoscaler_app_new {',
    `    server ${app};`,
    '  }',
    '  server {',
    `    listen ${listen(o.proxyPort)} reuseport backlog=4096;`,
    '    proxy_http_version 1.1;',
    // The app's 103 Early Hints reach the client as they would directly.
    ...(o.earlyHints ? ['    early_hints 1;'] : []),
    // Host exactly as sent; X-Forwarded-For/-Proto/-Port and every other header pass
    // untouched (nginx only drops the hop-by-hop ones it handles itself).
    '    proxy_set_header Host $http_host;',
    '    proxy_set_header Connection $fast_autoscaler_connection;',
    '    proxy_set_header Upgrade $http_upgrade;',
    // Stream both ways: each byte reaches the other side when it arrives.
    '    proxy_buffering off;',
    // The whole response header must fit in proxy_buffer_size.
    '    proxy_buffer_size 64k;',
    '    proxy_buffers 4 64k;',
    `    proxy_read_timeout ${timeout};`,
    `    proxy_send_timeout ${timeout};`,
    '    proxy_redirect off;',
    '    proxy_intercept_errors off;',
    `    proxy_ignore_headers ${NGINX_CONTROL_HEADERS.join(' ')};`,
    ...['Date', 'Server', ...NGINX_CONTROL_HEADERS].map(h => `    proxy_pass_header ${h};`),
    '    location / {',
    '      error_page 418 = @new_connection;',
    '      if ($fast_autoscaler_new_connection) {',
    '        return 418;',
    '      }',
    // There is no body to buffer; "on" keeps the request resendable on every nginx version.
    '      proxy_request_buffering on;',
    '      proxy_next_upstream error;',
    '      proxy_pass http://fast_autoscaler_app_reused;',
    '    }',
    '    location @new_connection {',
    // The body streams to the app as it arrives; once sent it cannot be resent.
    '      proxy_request_buffering off;',
    '      proxy_next_upstream off;',
    // (proxy_set_header in a location replaces the server's whole list, hence all three.)
    '      proxy_set_header Host $http_host;',
    '      proxy_set_header Connection $fast_autoscaler_connection_new;',
    '      proxy_set_header Upgrade $http_upgrade;',
    '      proxy_pass http://fast_autoscaler_app_new;',
    '    }',
    '  }',
    // stub_status lives on its own port, which only the controller's security group may
    // reach: it is never served on the port the load balancer talks to.
    '  server {',
    `    listen ${listen(o.statusPort)};`,
    '    keepalive_timeout 75s;',
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
