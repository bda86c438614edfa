import * as http from 'http';
import { AddressInfo } from 'net';
import { ECS_BUCKETS, TokenBucket } from './ecs-emulator';

/** What the router does to one cluster's calls. */
export type ClusterFault =
  /** Never answers: calls hang until the caller gives up. */
  | { readonly kind: 'hang' }
  /** Answers every call (or one operation's) with this ECS error. */
  | { readonly kind: 'error'; readonly error: string; readonly operation?: string };

/**
 * One ECS endpoint for many emulated clusters, as a region's ECS is: each call goes to the
 * emulator of the cluster it names (every task and service action names its cluster), so
 * that a shared loop reads many services through one client. Faults are set per cluster: a
 * denied, throttled or hanging cluster beside healthy ones.
 */
export class EcsRouter {
  /**
   * @param throttling throttle every cluster's calls together with ECS's documented token
   *   buckets (ECS_BUCKETS), as the account and region share them
   */
  public static async start(clusters: Record<string, string>, throttling = false): Promise<EcsRouter> {
    const router = new EcsRouter(clusters, throttling);
    await new Promise<void>(resolve => router.server.listen(0, '127.0.0.1', resolve));
    return router;
  }

  private readonly faults = new Map<string, ClusterFault>();
  private readonly hanging = new Set<http.ServerResponse>();
  private readonly server = http.createServer((req, res) => this.route(req, res));
  private readonly buckets = new Map<string, TokenBucket>();
  /** Calls the shared buckets refused, by action. */
  public readonly throttled: Record<string, number> = {};

  /** @param clusters each cluster's name → its emulator's endpoint */
  private constructor(private readonly clusters: Record<string, string>, private readonly throttling: boolean) {}

  public get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  public setFault(cluster: string, fault: ClusterFault | undefined): void {
    if (fault) this.faults.set(cluster, fault);
    else this.faults.delete(cluster);
  }

  public stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    return new Promise(resolve => this.server.close(() => resolve()));
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let cluster = '';
      try {
        cluster = String(JSON.parse(body.toString('utf8') || '{}').cluster ?? '');
      } catch {
        // the emulator answers a body that is not JSON
      }
      // A cluster ARN or name, as ECS accepts either.
      const name = cluster.replace(/^arn:[^:]+:ecs:[^:]*:[^:]*:cluster\//, '');
      const target = this.clusters[name];
      const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
      const fault = this.faults.get(name);
      if (fault?.kind === 'hang') {
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return;
      }
      if (fault?.kind === 'error' && (!fault.operation || fault.operation === operation)) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: fault.error, message: `injected ${fault.error}` }));
        return;
      }
      const spec = this.throttling ? ECS_BUCKETS[operation] : undefined;
      if (spec) {
        let bucket = this.buckets.get(spec.group);
        if (!bucket) this.buckets.set(spec.group, bucket = new TokenBucket(spec.burst, spec.perSecond));
        if (!bucket.take()) {
          this.throttled[operation] = (this.throttled[operation] ?? 0) + 1;
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
          return;
        }
      }
      if (!target) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'ClusterNotFoundException', message: `Cluster not found: ${cluster}` }));
        return;
      }
      const forward = http.request(`${target}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, answer => {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
      });
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  }
}
