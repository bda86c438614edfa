/**
 * What the warm Lambda instance remembers about the service's tasks between ticks, so
 * that a tick does not list and describe every task again: at 5,000 tasks that is 50
 * ListTasks pages (about 1.5 s one after the other) and 50 DescribeTasks calls, every 3 s,
 * from a bucket ECS documents at 20 calls a second (burst 100) shared by the whole account.
 *
 * - A task's address never changes in its life: a task is described once, and again only
 *   while it starts (every tick, so that it is read as soon as it runs), when it stopped
 *   answering (by its ARN, not by listing everything again), and while it drains.
 * - The task lists are read again when the service's counts change, at most every
 *   `minRelistMs` for a large service, and every `relistAfterMs` in any case. A listing
 *   longer than one tick allows carries on at the next tick from where it stopped.
 * - DescribeTasks calls per tick are capped; what does not fit waits for the next tick,
 *   most urgent first: tasks never described that serve, suspects, starting tasks,
 *   draining tasks, the rest of the stopping list. A call that fails leaves its tasks queued.
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
  /** RUNNING or STOPPED, as DescribeTasks said. */
  readonly desiredStatus?: string;
  readonly address?: string;
  /** Epoch ms. */
  readonly createdAt?: number;
  /** Epoch ms, once RUNNING. */
  readonly startedAt?: number;
}

export interface TaskCatalogOptions {
  /** The longest a listing is trusted. @default 30,000 */
  readonly relistAfterMs?: number;
  /** The shortest time between two listings of a service of more than 5 pages. @default 10,000 */
  readonly minRelistMs?: number;
  /**
   * DescribeTasks calls (100 tasks each) a tick may make once the catalog knows the service:
   * a quarter of the task-read bucket's 20 a second over a 3-second tick. @default 15
   */
  readonly describeCallsPerTick?: number;
  /** The same, while it knows nothing yet (a cold instance: all of 5,000 tasks at once, within the burst of 100). @default 50 */
  readonly coldDescribeCallsPerTick?: number;
  /** Pages of the stopping list read at most (tasks stopped within the last hour are listed too). @default 10 */
  readonly maxStoppingPages?: number;
}

/** One of the two task lists, as far as it has been read. */
export interface ListProgress {
  readonly arns: string[];
  nextToken?: string;
  done: boolean;
  pages: number;
}

const SMALL_LISTING_PAGES = 5;

export class TaskCatalog {
  public readonly relistAfterMs: number;
  public readonly minRelistMs: number;
  public readonly describeCallsPerTick: number;
  public readonly coldDescribeCallsPerTick: number;
  public readonly maxStoppingPages: number;

  private readonly byArn = new Map<string, KnownTask>();
  private listing?: {
    readonly serving: string[];
    readonly stopping: string[];
    /** The stopping list was longer than `maxStoppingPages`: some draining tasks may be unknown. */
    readonly stoppingTruncated: boolean;
    readonly at: number;
    readonly fingerprint: string;
    readonly pages: number;
  };
  private inProgress?: { serving: ListProgress; stopping: ListProgress; readonly fingerprint: string; readonly startedAt: number };
  private relistRequested = false;
  /** ARNs that stopped answering, to describe again by ARN. */
  private readonly suspects = new Set<string>();
  /** When a suspect was last described and found still running (it answers to ECS, not to us). */
  private readonly suspectCheckedAt = new Map<string, number>();
  /** ARNs DescribeTasks could not describe, with ECS's reason. */
  private readonly undescribed = new Map<string, string>();
  /** Draining ARNs described since the current listing was taken. */
  private readonly drainingChecked = new Set<string>();

  constructor(relistAfterMs = 30_000, o: Omit<TaskCatalogOptions, 'relistAfterMs'> = {}) {
    this.relistAfterMs = relistAfterMs;
    this.minRelistMs = o.minRelistMs ?? Math.min(10_000, relistAfterMs);
    this.describeCallsPerTick = o.describeCallsPerTick ?? 15;
    this.coldDescribeCallsPerTick = o.coldDescribeCallsPerTick ?? 50;
    this.maxStoppingPages = o.maxStoppingPages ?? 10;
  }

  /**
   * Whether a listing is under way or due this tick. `activeCount` is the service's
   * running + pending count: more than the listing holds means tasks it has not seen.
   */
  public wantsListing(fingerprint: string, activeCount: number, now: number): boolean {
    if (this.inProgress) return true;
    const l = this.listing;
    if (!l || now < l.at || now - l.at >= this.relistAfterMs) return true;
    const changed = l.fingerprint !== fingerprint || this.relistRequested || l.serving.length < activeCount;
    // A large service is not listed again more often than every minRelistMs, even while it
    // changes at every tick (a surge): starting tasks are followed by their ARNs meanwhile.
    return changed && (l.pages <= SMALL_LISTING_PAGES || now - l.at >= this.minRelistMs);
  }

  /** The listing to continue (or a new one): where each list stands. */
  public listingProgress(fingerprint: string, now: number): { serving: ListProgress; stopping: ListProgress } {
    if (!this.inProgress) {
      this.inProgress = {
        serving: { arns: [], done: false, pages: 0 },
        stopping: { arns: [], done: false, pages: 0 },
        fingerprint,
        startedAt: now,
      };
    }
    return this.inProgress;
  }

  /** Once both lists are read (or the stopping one is cut): the new listing replaces the old one. */
  public commitListingIfDone(): boolean {
    const p = this.inProgress;
    if (!p) return false;
    const stoppingDone = p.stopping.done || p.stopping.pages >= this.maxStoppingPages;
    if (!p.serving.done || !stoppingDone) return false;
    const stoppingSet = new Set(p.stopping.arns);
    const serving = p.serving.arns.filter(a => !stoppingSet.has(a));
    const listed = new Set([...serving, ...p.stopping.arns]);
    for (const arn of [...this.byArn.keys()]) if (!listed.has(arn)) this.byArn.delete(arn);
    for (const map of [this.undescribed, this.suspectCheckedAt]) for (const arn of [...map.keys()]) if (!listed.has(arn)) map.delete(arn);
    for (const arn of [...this.suspects]) if (!listed.has(arn)) this.suspects.delete(arn);
    this.drainingChecked.clear();
    this.listing = {
      serving,
      stopping: p.stopping.arns,
      stoppingTruncated: !p.stopping.done,
      at: p.startedAt,
      fingerprint: p.fingerprint,
      pages: p.serving.pages + p.stopping.pages,
    };
    this.inProgress = undefined;
    this.relistRequested = false;
    return true;
  }

  /** The ARNs to describe this tick, most urgent first, within the tick's call budget. */
  public toDescribe(now: number): string[] {
    const l = this.listing;
    if (!l) return [];
    const budget = (this.byArn.size === 0 ? this.coldDescribeCallsPerTick : this.describeCallsPerTick) * 100;
    const wanted: string[] = [];
    const seen = new Set<string>();
    const want = (arn: string) => {
      if (!seen.has(arn)) {
        seen.add(arn);
        wanted.push(arn);
      }
    };
    // 1. Serving tasks never described (or whose description failed).
    for (const arn of l.serving) if (!this.byArn.has(arn)) want(arn);
    // 2. Tasks that stopped answering, unless found still running within the last relist period.
    for (const arn of this.suspects) {
      const checked = this.suspectCheckedAt.get(arn);
      if (checked === undefined || now - checked >= this.relistAfterMs) want(arn);
    }
    // 3. Starting tasks, so that each is read as soon as it runs.
    for (const arn of l.serving) if (STARTING_STATUSES.has(this.byArn.get(arn)?.lastStatus ?? '')) want(arn);
    // 4. Draining tasks, once a listing, to learn when they have stopped.
    for (const arn of l.stopping) {
      const known = this.byArn.get(arn);
      if (known && STILL_SERVING_WHILE_STOPPING.has(known.lastStatus) && !this.drainingChecked.has(arn)) want(arn);
    }
    // 5. The rest of the stopping list: mostly tasks stopped long ago, described once.
    for (const arn of l.stopping) if (!this.byArn.has(arn)) want(arn);
    return wanted.slice(0, budget);
  }

  /** Records what DescribeTasks said, and which asked-for ARNs it could not describe. */
  public applyDescribed(
    tasks: ReadonlyArray<{ arn: string } & Omit<KnownTask, 'taskId'>>,
    failures: ReadonlyArray<{ arn: string; reason: string }>,
    now: number,
  ): void {
    const stopping = new Set(this.listing?.stopping ?? []);
    for (const { arn, ...known } of tasks) {
      this.byArn.set(arn, { taskId: taskIdOf(arn), ...known });
      this.undescribed.delete(arn);
      if (stopping.has(arn)) this.drainingChecked.add(arn);
      if (this.suspects.has(arn)) {
        this.suspects.delete(arn);
        // Stopped, or told to stop: the service has (or will have) a replacement to find.
        if (known.lastStatus !== 'RUNNING' || known.desiredStatus === 'STOPPED') this.relistRequested = true;
        else this.suspectCheckedAt.set(arn, now);
      }
    }
    for (const f of failures) this.undescribed.set(f.arn, f.reason);
  }

  /** Serving tasks whose status page refused or broke the connection: described again by ARN. */
  public markSuspects(taskIds: Iterable<string>): void {
    const wanted = new Set(taskIds);
    if (wanted.size === 0) return;
    for (const [arn, task] of this.byArn) if (wanted.has(task.taskId)) this.suspects.add(arn);
  }

  /** Whether a whole listing has been read yet. */
  public get listed(): boolean {
    return this.listing !== undefined;
  }

  /** The current picture: every listed task with what is known of it. */
  public view(): CatalogView {
    const l = this.listing;
    if (!l) return { listed: false, serving: [], stopping: [], stoppingTruncated: false };
    const entry = (arn: string) => ({ arn, taskId: taskIdOf(arn), known: this.byArn.get(arn), undescribed: this.undescribed.get(arn) });
    return { listed: true, serving: l.serving.map(entry), stopping: l.stopping.map(entry), stoppingTruncated: l.stoppingTruncated };
  }

  /**
   * How long the service's recent tasks took from creation to RUNNING, in ms, newest
   * first: what a scale-out now will wait for. `newest` keeps only that many as it goes,
   * rather than sorting every known task (the tick asks every time).
   */
  public startDelays(newest = Infinity): number[] {
    const started: Array<{ at: number; delay: number }> = [];
    for (const t of this.byArn.values()) {
      if (t.createdAt === undefined || t.startedAt === undefined || t.startedAt < t.createdAt) continue;
      started.push({ at: t.startedAt, delay: t.startedAt - t.createdAt });
      if (started.length > 2 * newest) started.sort((a, b) => b.at - a.at).splice(newest);
    }
    return started.sort((a, b) => b.at - a.at).slice(0, newest).map(s => s.delay);
  }

  /**
   * What is known of each listed serving task's start, by task id: the serve delays'
   * lookup (built once a tick, only under the predictive policy).
   */
  public startsByTaskId(): Map<string, { createdAt?: number; startedAt?: number }> {
    const starts = new Map<string, { createdAt?: number; startedAt?: number }>();
    for (const arn of this.listing?.serving ?? []) {
      const t = this.byArn.get(arn);
      if (t) starts.set(t.taskId, { createdAt: t.createdAt, startedAt: t.startedAt });
    }
    return starts;
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
  /** Whether a whole listing has been read yet (a cold instance may need more than one tick). */
  readonly listed: boolean;
  readonly serving: readonly CatalogEntry[];
  readonly stopping: readonly CatalogEntry[];
  /** The stopping list was cut: tasks beyond it may be draining unseen. */
  readonly stoppingTruncated: boolean;
}

export function taskIdOf(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}
