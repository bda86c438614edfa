/**
 * What the warm Lambda instance remembers about the service's tasks between ticks, so
 * that a tick does not list and describe every task again: at 5,000 tasks that is 50
 * ListTasks pages (about 1.5 s one after the other) and 50 DescribeTasks calls, every 3 s,
 * from a bucket ECS documents at 20 calls a second shared by the whole account.
 *
 * A task's address never changes in its life, so a task is described once, and again only
 * when something about it may have changed: it was starting, it stopped answering, or it
 * is draining and a new listing was taken. The task lists themselves are read again when
 * the service's counts change (DescribeServices, one call a tick, tells), when a scrape
 * failed, and every `relistAfterMs` in any case.
 */

/** Tasks on their way up: capacity already asked for. */
export const STARTING_STATUSES: ReadonlySet<string> = new Set(['PROVISIONING', 'PENDING', 'ACTIVATING']);

/**
 * Last statuses of a task that ECS is stopping but whose containers may still serve:
 * during the load balancer's deregistration delay a stopping task stays RUNNING (or
 * DEACTIVATING) with its long-lived connections, until its containers get SIGTERM.
 */
export const STILL_SERVING_WHILE_STOPPING: ReadonlySet<string> = new Set(['RUNNING', 'DEACTIVATING', 'STOPPING']);

export interface KnownTask {
  readonly taskId: string;
  readonly lastStatus: string;
  readonly address?: string;
  /** Epoch ms. */
  readonly createdAt?: number;
  /** Epoch ms, once RUNNING. */
  readonly startedAt?: number;
}

export interface TaskListing {
  /** ARNs listed under desiredStatus RUNNING. */
  readonly serving: readonly string[];
  /** ARNs listed under desiredStatus STOPPED: draining, or stopped within the last hour. */
  readonly stopping: readonly string[];
}

export class TaskCatalog {
  private readonly byArn = new Map<string, KnownTask>();
  private listing?: TaskListing & { readonly at: number; readonly fingerprint: string };
  /** ARNs to describe again at the next listing: they stopped answering. */
  private readonly suspects = new Set<string>();
  /** ARNs DescribeTasks could not describe, with ECS's reason. */
  private readonly undescribed = new Map<string, string>();

  /**
   * @param relistAfterMs the longest a listing is trusted without a change in the
   *   service's counts: at 5,000 tasks, 30 s keeps ListTasks under 2 calls a second
   */
  constructor(public readonly relistAfterMs = 30_000) {}

  /** Whether the task lists must be read again this tick. */
  public needsListing(fingerprint: string, now: number): boolean {
    const l = this.listing;
    return !l || l.fingerprint !== fingerprint || now - l.at >= this.relistAfterMs || now < l.at || this.suspects.size > 0;
  }

  /** On a tick that keeps the listing: the listed tasks DescribeTasks could not describe last time. */
  public toDescribeAgain(): string[] {
    return [...this.undescribed.keys()];
  }

  /** Takes a fresh listing; forgets tasks no longer listed. Returns the ARNs to describe. */
  public applyListing(listing: TaskListing, fingerprint: string, now: number): string[] {
    const stopping = new Set(listing.stopping);
    // A task that moved between the two lists while they were read is stopping.
    const serving = listing.serving.filter(a => !stopping.has(a));
    this.listing = { serving, stopping: listing.stopping, at: now, fingerprint };
    const listed = new Set([...serving, ...listing.stopping]);
    for (const arn of [...this.byArn.keys()]) if (!listed.has(arn)) this.byArn.delete(arn);
    for (const arn of [...this.undescribed.keys()]) if (!listed.has(arn)) this.undescribed.delete(arn);
    const toDescribe = [...listed].filter(arn => {
      const known = this.byArn.get(arn);
      if (!known || this.suspects.has(arn) || this.undescribed.has(arn)) return true;
      if (STARTING_STATUSES.has(known.lastStatus)) return true;
      // A draining task is described again at each listing to learn when it has stopped.
      return stopping.has(arn) && STILL_SERVING_WHILE_STOPPING.has(known.lastStatus);
    });
    this.suspects.clear();
    return toDescribe;
  }

  /** Records what DescribeTasks said. */
  public applyDescribed(tasks: ReadonlyArray<{ arn: string } & Omit<KnownTask, 'taskId'>>, failures: ReadonlyArray<{ arn: string; reason: string }>): void {
    for (const t of tasks) {
      const { arn, ...known } = t;
      this.byArn.set(arn, { taskId: taskIdOf(arn), ...known });
      this.undescribed.delete(t.arn);
    }
    for (const f of failures) this.undescribed.set(f.arn, f.reason);
  }

  /** Tasks whose status page did not answer: describe them at the next tick, and list again. */
  public markSuspects(taskIds: Iterable<string>): void {
    const wanted = new Set(taskIds);
    for (const [arn, task] of this.byArn) if (wanted.has(task.taskId)) this.suspects.add(arn);
  }

  /** The current picture: every listed task with what is known of it. */
  public view(): CatalogView {
    const l = this.listing ?? { serving: [], stopping: [] };
    const entry = (arn: string) => ({ arn, taskId: taskIdOf(arn), known: this.byArn.get(arn), undescribed: this.undescribed.get(arn) });
    return { serving: l.serving.map(entry), stopping: l.stopping.map(entry) };
  }

  /**
   * How long the service's recent tasks took from creation to RUNNING, in ms, newest
   * first: what a scale-out now will wait for.
   */
  public startDelays(): number[] {
    return [...this.byArn.values()]
      .filter(t => t.createdAt !== undefined && t.startedAt !== undefined && t.startedAt >= t.createdAt)
      .sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0))
      .map(t => (t.startedAt ?? 0) - (t.createdAt ?? 0));
  }

  /** How many tasks are remembered. */
  public get size(): number {
    return this.byArn.size;
  }
}

export interface CatalogEntry {
  readonly arn: string;
  readonly taskId: string;
  readonly known?: KnownTask;
  /** Why DescribeTasks could not describe it, if it could not. */
  readonly undescribed?: string;
}

export interface CatalogView {
  readonly serving: readonly CatalogEntry[];
  readonly stopping: readonly CatalogEntry[];
}

export function taskIdOf(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}
