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

/**
 * The loop's services: written inline in the loop's configuration (a FastAutoscaler's own
 * loop), or one SSM String parameter per service under `registryPath`, each written by the
 * service's own stack (a shared loop: the platform stack never names the services).
 * A bad entry is that service's error alone; SSM failing keeps the services last read.
 */
export class ServiceRegistry {
  private read?: { readonly at: number; readonly services: readonly RegisteredService[] };

  constructor(
    private readonly loop: LoopConfig, private readonly ssm?: SSMClient, private readonly callTimeoutMs?: number,
    private readonly now: () => number = Date.now,
  ) {}

  public async services(signal?: AbortSignal): Promise<{ services: readonly RegisteredService[]; stale?: string }> {
    if (this.loop.services) {
      this.read ??= { at: 0, services: this.loop.services.map((entry, i) => parseEntry(`services[${i}]`, entry, this.loop)) };
      return { services: this.read.services };
    }
    if (this.read && this.now() - this.read.at < REGISTRY_TTL_MS) return { services: this.read.services };
    try {
      const services = await this.fetch(signal);
      this.read = { at: this.now(), services };
      return { services };
    } catch (err) {
      // A cold instance has nothing to go on: the tick fails, and the run counts it.
      if (!this.read) throw err;
      const e = err as Error;
      return { services: this.read.services, stale: `SSM ${e.name}: ${e.message}` };
    }
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
