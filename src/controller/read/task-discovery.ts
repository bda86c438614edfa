import { DescribeServicesCommand, DescribeTasksCommand, DesiredStatus, ECSClient, ListTasksCommand, Service, Task } from '@aws-sdk/client-ecs';
import { callOptions } from '../call-limits';
import { ScrapeTarget } from './scraper';
import { KnownTask, ListProgress, STARTING_STATUSES, STILL_SERVING_WHILE_STOPPING, TaskCatalog } from './task-catalog';

/** DescribeTasks takes at most 100 tasks a call; ListTasks pages hold 100 at most. */
const PAGE = 100;

export interface ServiceView {
  readonly status: string;
  readonly desiredCount: number;
  readonly runningCount: number;
  readonly pendingCount: number;
}

/** A listed task the controller could not read. */
export interface UnreadTask {
  readonly taskId: string;
  readonly reason: string;
}

export interface EcsCallOptions {
  /** Aborts any one call, its retries included, that takes longer: a hung call must not stall the tick. */
  readonly abortAfterMs?: number;
  /** The caller's own deadline (the tick's), on top of each call's. */
  readonly signal?: AbortSignal;
  /**
   * The warm instance's memory of the tasks. Without one, every task is listed and
   * described on every call.
   */
  readonly catalog?: TaskCatalog;
  /** Epoch ms, for the catalog's listing age. @default Date.now() */
  readonly now?: number;
  /** Epoch ms after which no further ListTasks page is asked for this tick. @default no limit */
  readonly listUntil?: number;
}

export interface Discovery {
  /** Whether the catalog has read a whole listing (a cold instance at thousands of tasks may need two ticks). */
  readonly listed: boolean;
  readonly service: ServiceView;
  /** Serving tasks (desired RUNNING, last status RUNNING) with their private address: the ones to scrape. */
  readonly running: ScrapeTarget[];
  /** Stopping tasks that may still serve (desired STOPPED) with an address: scraped too, their load counts. */
  readonly draining: ScrapeTarget[];
  /** Serving tasks the controller cannot read: no address, or DescribeTasks failed for them. Failed scrapes. */
  readonly unreachable: UnreadTask[];
  /** Stopping tasks that may still serve but cannot be read. */
  readonly drainingUnreachable: UnreadTask[];
  /** PROVISIONING, PENDING and ACTIVATING tasks. */
  readonly starting: number;
  /** The ids of every task ECS listed, serving or stopping: what per-task memory may keep. */
  readonly listedTaskIds: string[];
  /** ECS calls this discovery made, by action. */
  readonly calls: Readonly<Record<string, number>>;
}

/** The service does not exist, or is being deleted: there is nothing to scale. */
export class ServiceGoneError extends Error {
  constructor(public readonly detail: string) {
    super(detail);
    this.name = 'ServiceGoneError';
  }
}

/**
 * The service's tasks as the controller needs them: one DescribeServices every tick; the
 * task lists and DescribeTasks only as the catalog asks (see TaskCatalog), within the
 * tick's limits. A listing that does not finish carries on at the next tick; a
 * DescribeTasks call that fails leaves its tasks unread and queued, never lost.
 */
export async function discoverTasks(ecs: ECSClient, cluster: string, serviceName: string, o: EcsCallOptions = {}): Promise<Discovery> {
  // Without a catalog: everything listed and described, every call.
  const catalog = o.catalog
    ?? new TaskCatalog(0, { minRelistMs: 0, describeCallsPerTick: Infinity, coldDescribeCallsPerTick: Infinity, maxStoppingPages: Infinity });
  const now = o.now ?? Date.now();
  const calls: Record<string, number> = {};
  const send = <T>(action: string, command: { input: unknown }): Promise<T> => {
    calls[action] = (calls[action] ?? 0) + 1;
    return ecs.send(command as never, callOptions(o.abortAfterMs, o.signal)) as Promise<T>;
  };

  const described = await send<{ services?: Service[]; failures?: Array<{ reason?: string }> }>(
    'DescribeServices', new DescribeServicesCommand({ cluster, services: [serviceName] }));
  const svc = described.services?.[0];
  if (!svc) {
    throw new ServiceGoneError(`service ${serviceName} not found in ${cluster}: ${described.failures?.[0]?.reason ?? 'no answer'}`);
  }
  if (svc.status !== 'ACTIVE') {
    throw new ServiceGoneError(`service ${serviceName} is ${svc.status}`);
  }

  const fingerprint = serviceFingerprint(svc);
  if (catalog.wantsListing(fingerprint, (svc.runningCount ?? 0) + (svc.pendingCount ?? 0), now)) {
    const progress = catalog.listingProgress(fingerprint, now);
    const listUntil = o.listUntil ?? Infinity;
    // Both lists at once; each is paged one page after the other, as far as the tick allows.
    const errors = await Promise.all([
      continueListing(send, cluster, serviceName, DesiredStatus.RUNNING, progress.serving, Infinity, listUntil),
      continueListing(send, cluster, serviceName, DesiredStatus.STOPPED, progress.stopping, catalog.maxStoppingPages, listUntil),
    ]);
    catalog.commitListingIfDone();
    const error = errors.find(e => e !== undefined);
    // A cold instance with no listing yet has nothing to go on: the tick says why.
    if (error && !catalog.listed) throw error;
  }

  const toDescribe = catalog.toDescribe(now);
  const chunks: string[][] = [];
  for (let i = 0; i < toDescribe.length; i += PAGE) chunks.push(toDescribe.slice(i, i + PAGE));
  const answers = await Promise.allSettled(chunks.map(chunk =>
    send<{ tasks?: Task[]; failures?: Array<{ arn?: string; reason?: string; detail?: string }> }>('DescribeTasks', new DescribeTasksCommand({ cluster, tasks: chunk }))));
  const tasks: Array<{ arn: string } & Omit<KnownTask, 'taskId'>> = [];
  const failures: Array<{ arn: string; reason: string }> = [];
  answers.forEach((answer, i) => {
    if (answer.status === 'rejected') {
      // The whole chunk stays unread, and queued for the next tick.
      const e = answer.reason as Error;
      for (const arn of chunks[i]) failures.push({ arn, reason: `DescribeTasks: ${e?.name ?? 'Error'}: ${e?.message ?? String(e)}` });
      return;
    }
    const describedArns = new Set<string>();
    for (const t of answer.value.tasks ?? []) {
      if (!t.taskArn) continue;
      describedArns.add(t.taskArn);
      tasks.push({
        arn: t.taskArn,
        lastStatus: t.lastStatus ?? 'UNKNOWN',
        desiredStatus: t.desiredStatus,
        address: privateAddress(t),
        createdAt: t.createdAt?.getTime(),
        startedAt: t.startedAt?.getTime(),
      });
    }
    for (const f of answer.value.failures ?? []) {
      if (!f.arn) continue;
      describedArns.add(f.arn);
      failures.push({ arn: f.arn, reason: `DescribeTasks: ${f.reason ?? 'failed'}${f.detail ? ` (${f.detail})` : ''}` });
    }
    // Asked for, but neither described nor reported as a failure.
    for (const arn of chunks[i]) if (!describedArns.has(arn)) failures.push({ arn, reason: 'DescribeTasks: not in the answer' });
  });
  catalog.applyDescribed(tasks, failures, now);

  const view = catalog.view();
  const running: ScrapeTarget[] = [];
  const draining: ScrapeTarget[] = [];
  const unreachable: UnreadTask[] = [];
  const drainingUnreachable: UnreadTask[] = [];
  let starting = 0;
  for (const { taskId, known, undescribed } of view.serving) {
    if (!known) {
      unreachable.push({ taskId, reason: undescribed ?? 'not described yet' });
    } else if (known.lastStatus === 'RUNNING') {
      if (known.address) running.push({ taskId, address: known.address });
      else unreachable.push({ taskId, reason: 'RUNNING without a private IPv4 address' });
    } else if (STARTING_STATUSES.has(known.lastStatus)) {
      starting++;
    }
  }
  for (const { taskId, known, undescribed } of view.stopping) {
    if (!known) {
      drainingUnreachable.push({ taskId, reason: undescribed ?? 'not described yet' });
    } else if (STILL_SERVING_WHILE_STOPPING.has(known.lastStatus)) {
      if (known.address) draining.push({ taskId, address: known.address });
      else drainingUnreachable.push({ taskId, reason: `${known.lastStatus} while stopping, without a private IPv4 address` });
    }
  }
  if (view.stoppingTruncated) {
    // Conservative: tasks beyond the pages read may be draining, so nothing scales in.
    drainingUnreachable.push({ taskId: 'stopping-list-truncated', reason: `more than ${catalog.maxStoppingPages} pages of stopping tasks: some are unread` });
  }
  return {
    listed: view.listed,
    service: {
      status: svc.status,
      desiredCount: svc.desiredCount ?? 0,
      runningCount: svc.runningCount ?? 0,
      pendingCount: svc.pendingCount ?? 0,
    },
    running,
    draining,
    unreachable,
    drainingUnreachable,
    starting,
    listedTaskIds: [...view.serving, ...view.stopping].map(e => e.taskId),
    calls,
  };
}

/**
 * Reads pages of one task list until it ends, `maxPages` were read, or `until` passed.
 * Returns the error that stopped it, if one did (the progress so far is kept).
 */
async function continueListing(
  send: <T>(action: string, command: { input: unknown }) => Promise<T>, cluster: string, serviceName: string,
  desiredStatus: DesiredStatus, progress: ListProgress, maxPages: number, until: number,
): Promise<Error | undefined> {
  try {
    while (!progress.done && progress.pages < maxPages && Date.now() < until) {
      const page = await send<{ taskArns?: string[]; nextToken?: string }>(
        'ListTasks', new ListTasksCommand({ cluster, serviceName, desiredStatus, maxResults: PAGE, nextToken: progress.nextToken }));
      progress.arns.push(...(page.taskArns ?? []));
      progress.pages++;
      progress.nextToken = page.nextToken;
      progress.done = !page.nextToken;
    }
    return undefined;
  } catch (err) {
    return err as Error;
  }
}

/**
 * What changes whenever a task starts, stops or is replaced: the service's counts and its
 * deployments'. An unchanged fingerprint lets the catalog keep its listing.
 */
export function serviceFingerprint(svc: Service): string {
  const deployments = (svc.deployments ?? [])
    .map(d => `${d.id}:${d.desiredCount}:${d.runningCount}:${d.pendingCount}:${d.failedTasks ?? 0}`)
    .sort()
    .join(',');
  return `${svc.desiredCount}/${svc.runningCount}/${svc.pendingCount}|${deployments}`;
}

function privateAddress(task: Task): string | undefined {
  for (const attachment of task.attachments ?? []) {
    for (const detail of attachment.details ?? []) {
      if (detail.name === 'privateIPv4Address' && detail.value) return detail.value;
    }
  }
  return undefined;
}
