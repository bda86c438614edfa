import { DescribeServicesCommand, DescribeTasksCommand, DesiredStatus, ECSClient, ListTasksCommand, Task } from '@aws-sdk/client-ecs';
import { ScrapeTarget } from './scraper';

/** DescribeTasks takes at most 100 tasks a call. */
const DESCRIBE_CHUNK = 100;

/** Tasks on their way up: capacity already asked for. */
const STARTING = new Set(['PROVISIONING', 'PENDING', 'ACTIVATING']);

/**
 * Last statuses of a task that ECS is stopping but whose containers may still serve:
 * during the load balancer's deregistration delay a stopping task stays RUNNING (or
 * DEACTIVATING) with its long-lived connections, until its containers get SIGTERM.
 */
const STILL_SERVING_WHILE_STOPPING = new Set(['RUNNING', 'DEACTIVATING', 'STOPPING']);

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
}

/** The service does not exist, or is being deleted: there is nothing to scale. */
export class ServiceGoneError extends Error {
  constructor(public readonly detail: string) {
    super(detail);
    this.name = 'ServiceGoneError';
  }
}

export async function discoverTasks(ecs: ECSClient, cluster: string, serviceName: string, o: EcsCallOptions = {}): Promise<Discovery> {
  const opts = () => (o.abortAfterMs !== undefined ? { abortSignal: AbortSignal.timeout(o.abortAfterMs) } : {});
  // The service and both task lists are read at once: on a real API each call costs tens of ms.
  // ECS lists a task under desiredStatus STOPPED as soon as it is told to stop, while it drains.
  const [described, serving, stopping] = await Promise.allSettled([
    ecs.send(new DescribeServicesCommand({ cluster, services: [serviceName] }), opts()),
    listTaskArns(ecs, cluster, serviceName, DesiredStatus.RUNNING, opts),
    listTaskArns(ecs, cluster, serviceName, DesiredStatus.STOPPED, opts),
  ]);
  if (described.status === 'rejected') throw described.reason;
  const svc = described.value.services?.[0];
  if (!svc) {
    const failure = described.value.failures?.[0];
    throw new ServiceGoneError(`service ${serviceName} not found in ${cluster}: ${failure?.reason ?? 'no answer'}`);
  }
  if (svc.status !== 'ACTIVE') {
    throw new ServiceGoneError(`service ${serviceName} is ${svc.status}`);
  }
  if (serving.status === 'rejected') throw serving.reason;
  if (stopping.status === 'rejected') throw stopping.reason;
  const stoppingArns = new Set(stopping.value);
  // A task that moved between the two lists while they were read is stopping.
  const arns = [...serving.value.filter(a => !stoppingArns.has(a)), ...stopping.value];
  const chunks: string[][] = [];
  for (let i = 0; i < arns.length; i += DESCRIBE_CHUNK) chunks.push(arns.slice(i, i + DESCRIBE_CHUNK));
  const answers = await Promise.all(chunks.map(chunk => ecs.send(new DescribeTasksCommand({ cluster, tasks: chunk }), opts())));

  const describedTasks = new Map<string, Task>();
  const describeFailures = new Map<string, string>();
  for (const answer of answers) {
    for (const task of answer.tasks ?? []) if (task.taskArn) describedTasks.set(task.taskArn, task);
    for (const failure of answer.failures ?? []) {
      if (failure.arn) describeFailures.set(failure.arn, `DescribeTasks: ${failure.reason ?? 'failed'}${failure.detail ? ` (${failure.detail})` : ''}`);
    }
  }

  const running: ScrapeTarget[] = [];
  const draining: ScrapeTarget[] = [];
  const unreachable: UnreadTask[] = [];
  const drainingUnreachable: UnreadTask[] = [];
  let starting = 0;
  for (const arn of arns) {
    const taskId = taskIdOf(arn);
    const task = describedTasks.get(arn);
    const isStopping = stoppingArns.has(arn) || task?.desiredStatus === 'STOPPED';
    if (!task) {
      // Listed but not described: a task the controller knows exists and cannot read.
      const reason = describeFailures.get(arn) ?? 'DescribeTasks: not in the answer';
      (isStopping ? drainingUnreachable : unreachable).push({ taskId, reason });
      continue;
    }
    const last = task.lastStatus ?? '';
    if (isStopping) {
      if (!STILL_SERVING_WHILE_STOPPING.has(last)) continue;
      const address = privateAddress(task);
      if (address) draining.push({ taskId, address });
      else drainingUnreachable.push({ taskId, reason: `${last} while stopping, without a private IPv4 address` });
    } else if (last === 'RUNNING') {
      const address = privateAddress(task);
      if (address) running.push({ taskId, address });
      else unreachable.push({ taskId, reason: 'RUNNING without a private IPv4 address' });
    } else if (STARTING.has(last)) {
      starting++;
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
    listedTaskIds: arns.map(taskIdOf),
  };
}

async function listTaskArns(
  ecs: ECSClient, cluster: string, serviceName: string, desiredStatus: DesiredStatus, opts: () => { abortSignal?: AbortSignal },
): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    // ListTasks pages hold 100 tasks at most.
    const page = await ecs.send(new ListTasksCommand({ cluster, serviceName, desiredStatus, maxResults: 100, nextToken }), opts());
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return arns;
}

export function taskIdOf(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

function privateAddress(task: Task): string | undefined {
  for (const attachment of task.attachments ?? []) {
    for (const detail of attachment.details ?? []) {
      if (detail.name === 'privateIPv4Address' && detail.value) return detail.value;
    }
  }
  return undefined;
}
