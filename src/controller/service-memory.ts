import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ecsCallTimeoutMs } from './call-limits';
import { ControllerConfig } from './controller-config';
import { LoadHistory } from './decide/load-trend';
import { ServeDelays } from './decide/serve-delays';
import { serviceKeyOf } from './loop-config';
import { TaskCatalog } from './read/task-catalog';
import { RequestCounters } from './read/task-metric';
import { StateStore } from './state-store';

/**
 * What a warm instance remembers of one service between ticks: its state item as last read or
 * written, its request counters, its tasks as last listed and described, its recent totals and
 * serve delays. Kept per service, so that nothing one service does reaches another's.
 */
export class ServiceMemory {
  public readonly store: StateStore;
  public readonly counters = new RequestCounters();
  public readonly catalog = new TaskCatalog();
  public readonly loadHistory = new LoadHistory();
  public readonly serveDelays = new ServeDelays();
  /** The tick of this service still under way, if one outlived its loop tick's cutoff. */
  public busySince?: number;

  constructor(ddb: DynamoDBClient, config: ControllerConfig) {
    this.store = new StateStore(ddb, config.table, serviceKeyOf(config), ecsCallTimeoutMs(config), true);
  }
}

/** Every service's memory in this instance, by state key; a service's memory is made on its first tick. */
export class ServiceMemories {
  private readonly byKey = new Map<string, { readonly fingerprint: string; readonly memory: ServiceMemory }>();

  constructor(private readonly ddb: DynamoDBClient) {}

  /** The memory of a service; a service whose configuration changed starts afresh (its counters may mean something else now). */
  public of(config: ControllerConfig): ServiceMemory {
    const key = serviceKeyOf(config);
    // What the service's memory depends on: not which metrics it publishes or where it notifies.
    const { publishMetrics: _p, topicArn: _t, ...reading } = config;
    const fingerprint = JSON.stringify(reading);
    const known = this.byKey.get(key);
    if (known && known.fingerprint === fingerprint) return known.memory;
    const memory = new ServiceMemory(this.ddb, config);
    this.byKey.set(key, { fingerprint, memory });
    return memory;
  }

  /** Forgets the services that left the loop. */
  public keepOnly(keys: ReadonlySet<string>): void {
    for (const key of [...this.byKey.keys()]) if (!keys.has(key)) this.byKey.delete(key);
  }
}
