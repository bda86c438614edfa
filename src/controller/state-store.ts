import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { Bucket } from './recommendation-history';
import { Action } from './scaling-decision';
import { Counter } from './task-metric';

/** What the controller remembers between ticks and across runs: one item per service. */
export interface ControllerState {
  /** The run that drives the service: the newest one. */
  readonly lease?: { readonly runId: string; readonly startedAt: number };
  readonly history: Bucket[];
  /** Request counters of the last reading, per task id, for the rate metric. */
  readonly counters: Record<string, Counter>;
  readonly lastAction?: {
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

export const EMPTY_STATE: ControllerState = { history: [], counters: {} };

/**
 * The item is { pk, version, state }: the state as one JSON string, so that it is read and
 * written whole, and a version number for optimistic concurrency.
 */
export class StateStore {
  constructor(private readonly ddb: DynamoDBClient, private readonly table: string, private readonly key: string) {}

  public async load(): Promise<StoredState> {
    const out = await this.ddb.send(new GetItemCommand({
      TableName: this.table,
      Key: { pk: { S: this.key } },
      ConsistentRead: true,
    }));
    if (!out.Item) return { state: EMPTY_STATE, version: 0 };
    return {
      state: { ...EMPTY_STATE, ...JSON.parse(out.Item.state?.S ?? '{}') as Partial<ControllerState> },
      version: Number(out.Item.version?.N ?? 0),
    };
  }

  /** Writes the state if nobody else wrote since `expectedVersion` was read; returns the new version. */
  public async save(state: ControllerState, expectedVersion: number): Promise<number> {
    const version = expectedVersion + 1;
    try {
      await this.ddb.send(new PutItemCommand({
        TableName: this.table,
        Item: { pk: { S: this.key }, version: { N: String(version) }, state: { S: JSON.stringify(state) } },
        ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :expected',
        ExpressionAttributeValues: expectedVersion === 0 ? undefined : { ':expected': { N: String(expectedVersion) } },
      }));
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException || (err as Error).name === 'ConditionalCheckFailedException') {
        throw new StateConflictError(this.key);
      }
      throw err;
    }
    return version;
  }
}
