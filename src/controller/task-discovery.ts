import { DescribeServicesCommand, DescribeTasksCommand, DesiredStatus, ECSClient, ListTasksCommand, Service, Task } from '@aws-sdk/client-ecs';
import { ScrapeTarget } from './scraper';
import { STARTING_STATUSES, STILL_SERVING_WHILE_STOPPING, TaskCatalog } from './task-catalog';

export { taskIdOf } from './task-catalog';

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
}

export interface Discovery {
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
 * task lists and DescribeTasks only when the catalog says something may have changed.
 */
export async function discoverTasks(ecs: ECSClient, cluster: string, serviceName: string, o: EcsCallOptions = {}): Promise<Discovery> {
  const catalog = o.catalog ?? new TaskCatalog(0);
  const now = o.now ?? Date.now();
  const calls: Record<string, number> = {};
  const send = <T>(action: string, command: { input: unknown }): Promise<T> => {
    calls[action] = (calls[action] ?? 0) + 1;
    const signals = [...(o.abortAfterMs !== undefined ? [AbortSignal.timeout(o.abortAfterMs)] : []), ...(o.signal ? [o.signal] : [])];
    const abortSignal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    return ecs.send(command as never, abortSignal ? { abortSignal } : {}) as Promise<T>;
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
  let toDescribe: string[];
  if (catalog.needsListing(fingerprint, now)) {
    // Both lists at once; each is paged one page after the other.
    const [serving, stopping] = await Promise.all([
      listTaskArns(send, cluster, serviceName, DesiredStatus.RUNNING),
      listTaskArns(send, cluster, serviceName, DesiredStatus.STOPPED),
    ]);
    toDescribe = catalog.applyListing({ serving, stopping }, fingerprint, now);
  } else {
    toDescribe = catalog.toDescribeAgain();
  }
  const chunks: string[][] = [];
  for (let i = 0; i < toDescribe.length; i += PAGE) chunks.push(toDescribe.slice(i, i + PAGE));
  const answers = await Promise.all(chunks.map(chunk =>
    send<{ tasks?: Task[]; failures?: Array<{ arn?: string; reason?: string; detail?: string }> }>('DescribeTasks', new DescribeTasksCommand({ cluster, tasks: chunk }))));
  const describedArns = new Set<string>();
  const tasks = answers.flatMap(a => a.tasks ?? []).filter(t => t.taskArn).map(t => {
    describedArns.add(t.taskArn!);
    return {
      arn: t.taskArn!,
      lastStatus: t.lastStatus ?? 'UNKNOWN',
      address: privateAddress(t),
      createdAt: t.createdAt?.getTime(),
      startedAt: t.startedAt?.getTime(),
    };
  });
  const failures = answers.flatMap(a => a.failures ?? []).filter(f => f.arn).map(f => ({
    arn: f.arn!, reason: `DescribeTasks: ${f.reason ?? 'failed'}${f.detail ? ` (${f.detail})` : ''}`,
  }));
  // Asked for, but neither described nor reported as a failure.
  const silent = toDescribe.filter(a => !describedArns.has(a) && !failures.some(f => f.arn === a));
  catalog.applyDescribed(tasks, [...failures, ...silent.map(arn => ({ arn, reason: 'DescribeTasks: not in the answer' }))]);

  const view = catalog.view();
  const running: ScrapeTarget[] = [];
  const draining: ScrapeTarget[] = [];
  const unreachable: UnreadTask[] = [];
  const drainingUnreachable: UnreadTask[] = [];
  let starting = 0;
  for (const { taskId, known, undescribed } of view.serving) {
    if (!known) {
      unreachable.push({ taskId, reason: undescribed ?? 'DescribeTasks: not described' });
    } else if (known.lastStatus === 'RUNNING') {
      if (known.address) running.push({ taskId, address: known.address });
      else unreachable.push({ taskId, reason: 'RUNNING without a private IPv4 address' });
    } else if (STARTING_STATUSES.has(known.lastStatus)) {
      starting++;
    }
  }
  for (const { taskId, known, undescribed } of view.stopping) {
    if (!known) {
      drainingUnreachable.push({ taskId, reason: undescribed ?? 'DescribeTasks: not described' });
    } else if (STILL_SERVING_WHILE_STOPPING.has(known.lastStatus)) {
      if (known.address) draining.push({ taskId, address: known.address });
      else drainingUnreachable.push({ taskId, reason: `${known.lastStatus} while stopping, without a private IPv4 address` });
    }
  }
  return {
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

async function listTaskArns(
  send: <T>(action: string, command: { input: unknown }) => Promise<T>, cluster: string, serviceName: string, desiredStatus: DesiredStatus,
): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await send<{ taskArns?: string[]; nextToken?: string }>(
      'ListTasks', new ListTasksCommand({ cluster, serviceName, desiredStatus, maxResults: PAGE, nextToken }));
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return arns;
}

function privateAddress(task: Task): string | undefined {
  for (const attachment of task.attachments ?? []) {
    for (const detail of attachment.details ?? []) {
      if (detail.name === 'privateIPv4Address' && detail.value) return detail.value;
    }
  }
  return undefined;
}
