import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { callOptions } from './call-limits';
import { Bucket } from './decide/recommendation-history';
import { Action } from './decide/scaling-decision';

/**
 * What the controller remembers between ticks and across runs: one item per service,
 * whose size does not grow with the task count (per-task memory stays in the warm
 * Lambda instance, see RequestCounters).
 */
export interface ControllerState {
  /** The run that drives the service: the newest one. */
  readonly lease?: { readonly runId: string; readonly startedAt: number };
  readonly history: Bucket[];
  /** The last scaling action: peers that read ECS before it landed must not undo it. */
  readonly lastAction?: {
    /** The run that took it. */
    readonly runId?: string;
    readonly action: Action;
    readonly from: number;
    readonly to: number;
    readonly at: number;
    readonly reason: string;
  };
}

export interface StoredState {
  readonly state: ControllerState;
  /** The version the next write must find, or 0 when there is no item yet. */
  readonly version: number;
}

/** Another run wrote the item since this tick read it. */
export class StateConflictError extends Error {
  constructor(key: string) {
    super(`the state of ${key} changed since it was read`);
    this.name = 'StateConflictError';
  }
}

export const EMPTY_STATE: ControllerState = { history: [] };

/**
 * The item is { pk, version, state }: the state as one JSON string, so that it is read and
 * written whole, and a version number for optimistic concurrency.
 */
export class StateStore {
  /**
   * @param callTimeoutMs each call, its retries included, is abandoned after this long:
   *   a hung connection costs one tick, not the Lambda's whole timeout
   */
  /** The item as this instance last read or wrote it, when `cached`. */
  private known?: StoredState;

  /**
   * @param cached keep the item as last read or written, and read it again only after a
   *   conflict: a write from another instance (a peer run) fails its condition, so a stale
   *   copy can never act, and a loop of many services reads each item once, not every tick
   */
  constructor(
    private readonly ddb: DynamoDBClient, private readonly table: string, private readonly key: string,
    private readonly callTimeoutMs?: number, private readonly cached = false,
  ) {}

  public async load(signal?: AbortSignal): Promise<StoredState> {
    if (this.known) return this.known;
    const loaded = await this.read(signal);
    if (this.cached) this.known = loaded;
    return loaded;
  }

  private async read(signal?: AbortSignal): Promise<StoredState> {
    const out = await this.ddb.send(new GetItemCommand({
      TableName: this.table,
      Key: { pk: { S: this.key } },
      ConsistentRead: true,
    }), callOptions(this.callTimeoutMs, signal));
    if (!out.Item) return { state: EMPTY_STATE, version: 0 };
    const stored = parseState(out.Item.state?.S, this.key);
    return {
      // Only the known fields: an item written by an older version may carry more.
      state: { lease: stored.lease, history: stored.history ?? [], lastAction: stored.lastAction },
      version: Number(out.Item.version?.N ?? 0),
    };
  }

  /** Writes the state if nobody else wrote since `expectedVersion` was read; returns the new version. */
  public async save(state: ControllerState, expectedVersion: number, signal?: AbortSignal): Promise<number> {
    const version = expectedVersion + 1;
    try {
      await this.ddb.send(new PutItemCommand({
        TableName: this.table,
        Item: { pk: { S: this.key }, version: { N: String(version) }, state: { S: JSON.stringify(state) } },
        ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :expected',
        ExpressionAttributeValues: expectedVersion === 0 ? undefined : { ':expected': { N: String(expectedVersion) } },
      }), callOptions(this.callTimeoutMs, signal));
    } catch (err) {
      // Whatever happened, the copy may be stale now: the next load reads the item.
      this.known = undefined;
      if (err instanceof ConditionalCheckFailedException || (err as Error).name === 'ConditionalCheckFailedException') {
        throw new StateConflictError(this.key);
      }
      throw err;
    }
    if (this.cached) this.known = { state, version };
    return version;
  }
}

/** The stored JSON, checked: a corrupt item fails its own service's tick with a clear reason, never a TypeError later. */
function parseState(raw: string | undefined, key: string): Partial<ControllerState> {
  let stored: unknown;
  try {
    stored = JSON.parse(raw ?? '{}');
  } catch (err) {
    throw new Error(`the state item ${key} is not JSON: ${(err as Error).message}`);
  }
  const s = stored as Partial<ControllerState>;
  if (!s || typeof s !== 'object' || Array.isArray(s) || (s.history !== undefined && !Array.isArray(s.history))
    || (s.lease !== undefined && (typeof s.lease !== 'object' || typeof s.lease?.runId !== 'string'))) {
    throw new Error(`the state item ${key} is corrupt: ${String(raw).slice(0, 200)}`);
  }
  return s;
}
