import { DescribeServicesCommand, DescribeServicesCommandOutput, ECSClient } from '@aws-sdk/client-ecs';
import { callOptions } from './call-limits';

/** What DescribeServices said of one service: its description, or its failure. */
export type ServiceDescription = Pick<DescribeServicesCommandOutput, 'services' | 'failures'>;

/** Describes one service of one cluster. */
export type DescribeService = (cluster: string, service: string, o: { abortAfterMs?: number; signal?: AbortSignal }) => Promise<ServiceDescription>;

/** One service's wait for its description. */
interface Ask {
  readonly service: string;
  readonly o: { abortAfterMs?: number; signal?: AbortSignal };
  resolve(d: ServiceDescription): void;
  reject(e: unknown): void;
}

/** DescribeServices takes at most this many services a call. */
export const SERVICES_PER_CALL = 10;

/**
 * One DescribeServices call for up to 10 services of a cluster, for every service of a loop
 * that asks in the same turn of the event loop: ECS throttles service reads per account and
 * region (20 a second sustained), and 50 services at a 1-second interval would ask 50 times a
 * second one by one. A batched call that fails (throttled, or denied because one service's
 * permission is missing) is made again service by service, so that one service's failure is
 * its own.
 */
export class ServiceDescriber {
  private pending = new Map<string, Ask[]>();
  private scheduled = false;
  /** DescribeServices calls made, for the figures. */
  public calls = 0;

  constructor(private readonly ecs: ECSClient) {}

  public readonly describe: DescribeService = (cluster, service, o) => new Promise((resolve, reject) => {
    const queue = this.pending.get(cluster) ?? [];
    queue.push({ service, o, resolve, reject });
    this.pending.set(cluster, queue);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  });

  private flush(): void {
    const batches = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    for (const [cluster, asks] of batches) {
      for (let i = 0; i < asks.length; i += SERVICES_PER_CALL) void this.call(cluster, asks.slice(i, i + SERVICES_PER_CALL));
    }
  }

  private async call(cluster: string, asks: Ask[]) {
    const one = async (ask: typeof asks[number]) => {
      try {
        this.calls++;
        ask.resolve(await this.ecs.send(new DescribeServicesCommand({ cluster, services: [ask.service] }), callOptions(ask.o.abortAfterMs, ask.o.signal)));
      } catch (err) {
        ask.reject(err);
      }
    };
    if (asks.length === 1) return one(asks[0]);
    let out: DescribeServicesCommandOutput;
    try {
      this.calls++;
      // The shortest of the askers' limits bounds the shared call.
      const limits = asks.flatMap(a => (a.o.abortAfterMs === undefined ? [] : [a.o.abortAfterMs]));
      out = await this.ecs.send(new DescribeServicesCommand({ cluster, services: asks.map(a => a.service) }),
        callOptions(limits.length > 0 ? Math.min(...limits) : undefined));
    } catch {
      await Promise.all(asks.map(one));
      return;
    }
    for (const ask of asks) {
      const found = out.services?.find(s => s.serviceName === ask.service || s.serviceArn === ask.service);
      const failure = out.failures?.find(f => f.arn === ask.service || f.arn?.endsWith(`/${ask.service}`));
      if (ask.o.signal?.aborted) ask.reject(ask.o.signal.reason);
      else ask.resolve({ services: found ? [found] : [], failures: failure ? [failure] : [] });
    }
  }
}
