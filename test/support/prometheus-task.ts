import * as http from 'http';
import { Counter, Gauge, Registry } from 'prom-client';
import { TaskContainers, TaskRuntime } from './ecs-emulator';
import { assertLoopback } from './nginx-task';

export const IN_FLIGHT_GAUGE = 'http_requests_in_flight';
export const REQUESTS_COUNTER = 'http_requests_total';

/**
 * Emulated tasks whose app exposes its own Prometheus metrics, with nothing in front of it:
 * each task is an HTTP app on the task's own loopback address and the app port (it answers
 * after `delayMs`, so that requests stay in flight), and a real prom-client exposition on the
 * metrics port, whose in-flight gauge and request counter the app keeps as it serves.
 */
export function prometheusTasks(o: PrometheusTaskOptions): TaskRuntime {
  return { start: ({ address }) => startPrometheusTask(address, o) };
}

interface PrometheusTaskOptions {
  readonly appPort: number;
  readonly metricsPort: number;
  readonly metricsPath: string;
  readonly delayMs: number;
}

async function startPrometheusTask(address: string, o: PrometheusTaskOptions): Promise<TaskContainers> {
  assertLoopback(address);
  const registry = new Registry();
  const inFlight = new Gauge({ name: IN_FLIGHT_GAUGE, help: 'Requests being served', labelNames: ['route'], registers: [registry] });
  const served = new Counter({ name: REQUESTS_COUNTER, help: 'Requests served', labelNames: ['route'], registers: [registry] });
  inFlight.set({ route: '/' }, 0);
  served.inc({ route: '/' }, 0);
  const app = http.createServer((req, res) => {
    req.resume();
    inFlight.inc({ route: '/' });
    setTimeout(() => {
      res.end('ok\n');
      inFlight.dec({ route: '/' });
      served.inc({ route: '/' });
    }, o.delayMs);
  });
  app.keepAliveTimeout = 80_000;
  const metrics = http.createServer((req, res) => {
    if (req.url !== o.metricsPath) {
      res.writeHead(404).end();
      return;
    }
    void registry.metrics().then(text => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
  });
  const listen = (server: http.Server, port: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, resolve);
  });
  await listen(app, o.appPort);
  if (o.metricsPort !== o.appPort) await listen(metrics, o.metricsPort);
  const close = (server: http.Server) => new Promise<void>(resolve => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return {
    address,
    stop: async () => {
      await close(app);
      if (o.metricsPort !== o.appPort) await close(metrics);
    },
  };
}
