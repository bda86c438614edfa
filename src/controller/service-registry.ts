import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { callOptions } from './call-limits';
import { ControllerConfig } from './controller-config';
import { LoopConfig, serviceConfigOf } from './loop-config';

/** One service of the loop: its configuration, or why its entry cannot be used. */
export type RegisteredService =
  | { readonly name: string; readonly config: ControllerConfig }
  | { readonly name: string; readonly error: string };

/**
 * How long a warm instance trusts the services it last read from SSM: a service that joins
 * or leaves is seen within this long (its stack's deployment is the change; a minute is the
 * schedule's own period), and a loop of any size reads SSM about once a minute.
 */
export const REGISTRY_TTL_MS = 60_000;
/** A refresh beside the ticks may take this long. */
const REFRESH_TIMEOUT_MS = 10_000;
/** After a failed refresh, the next is tried this much later. */
const RETRY_AFTER_FAILURE_MS = 15_000;

/**
 * The loop's services: written inline in the loop's configuration (a FastAutoscaler's own
 * loop), or one SSM String parameter per service under `registryPath`, each written by the
 * service's own stack (a shared loop: the platform stack never names the services).
 * A bad entry is that service's error alone; SSM failing keeps the services last read.
 */
export class ServiceRegistry {
  private read?: { readonly at: number; readonly services: readonly RegisteredService[] };
  private refreshing?: Promise<void>;
  /** Why the last refresh failed, while the list is the one read before it. */
  private failure?: string;

  constructor(
    private readonly loop: LoopConfig, private readonly ssm?: SSMClient, private readonly callTimeoutMs?: number,
    private readonly now: () => number = Date.now,
  ) {}

  public async services(signal?: AbortSignal): Promise<{ services: readonly RegisteredService[]; stale?: string }> {
    if (this.loop.services) {
      this.read ??= { at: 0, services: this.loop.services.map((entry, i) => parseEntry(`services[${i}]`, entry, this.loop)) };
      return { services: this.read.services };
    }
    // A cold instance has nothing to go on: it waits for the list (and a failure fails the tick).
    if (!this.read) {
      const services = await this.fetch(signal);
      this.read = { at: this.now(), services };
      return { services };
    }
    // A warm one ticks on the list it has and refreshes it beside the tick: SSM slow or failing
    // never delays a tick; after a failure it tries again a little later, not every tick.
    if (this.now() - this.read.at >= REGISTRY_TTL_MS && !this.refreshing) {
      const previous = this.read;
      this.refreshing = this.fetch(AbortSignal.timeout(REFRESH_TIMEOUT_MS))
        .then(services => {
          this.read = { at: this.now(), services };
          this.failure = undefined;
        }, (err: Error) => {
          this.read = { at: this.now() - REGISTRY_TTL_MS + RETRY_AFTER_FAILURE_MS, services: previous.services };
          this.failure = `SSM ${err.name}: ${err.message}`;
        })
        .finally(() => (this.refreshing = undefined));
    }
    return { services: this.read.services, ...(this.failure ? { stale: this.failure } : {}) };
  }

  private async fetch(signal?: AbortSignal): Promise<RegisteredService[]> {
    if (!this.ssm) throw new Error('no SSM client for the registry');
    const found: RegisteredService[] = [];
    let nextToken: string | undefined;
    // 10 a page (SSM's most): 5,000 services would be 500 pages; a loop's services are tens.
    for (let page = 0; page < 500; page++) {
      const out = await this.ssm.send(new GetParametersByPathCommand({
        Path: this.loop.registryPath, Recursive: false, MaxResults: 10, NextToken: nextToken,
      }), callOptions(this.callTimeoutMs, signal));
      for (const p of out.Parameters ?? []) {
        const name = p.Name ?? '(unnamed)';
        let entry: unknown;
        try {
          entry = JSON.parse(p.Value ?? '');
        } catch (err) {
          found.push({ name, error: `the parameter is not JSON: ${(err as Error).message}` });
          continue;
        }
        found.push(parseEntry(name, entry, this.loop));
      }
      nextToken = out.NextToken;
      if (!nextToken) break;
    }
    return found;
  }
}

function parseEntry(name: string, entry: unknown, loop: LoopConfig): RegisteredService {
  try {
    return { name, config: serviceConfigOf(entry, loop) };
  } catch (err) {
    return { name, error: (err as Error).message };
  }
}
