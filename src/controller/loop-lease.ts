import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { callOptions } from './call-limits';

/** One run of the loop: the state machine's execution. */
export interface RunId {
  readonly runId: string;
  /** Epoch ms. */
  readonly startedAt: number;
}

export type LeaseClaim = { readonly held: true } | { readonly held: false; readonly by: string };

/** Whether run `a` started after run `b` (ties broken by name, as every run breaks them). */
export function isNewerRun(a: RunId, b: RunId): boolean {
  return a.startedAt > b.startedAt || (a.startedAt === b.startedAt && a.runId > b.runId);
}

/**
 * The loop's lease: one item naming the run that drives every service of the loop, the
 * newest. Read every tick (one read for the whole loop, whatever its number of services) and
 * written once a run, when a newer run takes over; an older run that reads a newer lease ends.
 */
export class LoopLease {
  constructor(
    private readonly ddb: DynamoDBClient, private readonly table: string, private readonly key: string,
    private readonly callTimeoutMs?: number,
  ) {}

  public async claim(run: RunId, signal?: AbortSignal): Promise<LeaseClaim> {
    for (let attempt = 0; ; attempt++) {
      // Eventually consistent (half the price of a strong read): a newer run is seen a tick
      // later at worst, and never two runs act on one service at once, whatever the lease
      // says: each action is a conditional write on the service's own item.
      const out = await this.ddb.send(new GetItemCommand({
        TableName: this.table, Key: { pk: { S: this.key } }, ConsistentRead: attempt > 0,
      }), callOptions(this.callTimeoutMs, signal));
      const holder = out.Item ? { runId: out.Item.runId?.S ?? '', startedAt: Number(out.Item.startedAt?.N ?? 0) } : undefined;
      if (holder && holder.runId === run.runId) return { held: true };
      if (holder && isNewerRun(holder, run)) return { held: false, by: holder.runId };
      try {
        await this.ddb.send(new PutItemCommand({
          TableName: this.table,
          Item: { pk: { S: this.key }, runId: { S: run.runId }, startedAt: { N: String(run.startedAt) } },
          // Only over the holder this run read: two new runs racing, one wins.
          ConditionExpression: holder ? 'runId = :holder' : 'attribute_not_exists(pk)',
          ExpressionAttributeValues: holder ? { ':holder': { S: holder.runId } } : undefined,
        }), callOptions(this.callTimeoutMs, signal));
        return { held: true };
      } catch (err) {
        const conflict = err instanceof ConditionalCheckFailedException || (err as Error).name === 'ConditionalCheckFailedException';
        // Another run wrote first: read again to see whether it is newer.
        if (!conflict || attempt >= 2) throw err;
      }
    }
  }
}
