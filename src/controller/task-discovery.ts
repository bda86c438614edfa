import { DescribeServicesCommand, DescribeTasksCommand, ECSClient, paginateListTasks, Task } from '@aws-sdk/client-ecs';
import { ScrapeTarget } from './scraper';

/** DescribeTasks takes at most 100 tasks a call. */
const DESCRIBE_CHUNK = 100;

/** Tasks on their way up: capacity already asked for. */
const STARTING = new Set(['PROVISIONING', 'PENDING', 'ACTIVATING']);

export interface ServiceView {
  readonly status: string;
  readonly desiredCount: number;
  readonly runningCount: number;
  readonly pendingCount: number;
}

export interface Discovery {
  readonly service: ServiceView;
  /** RUNNING tasks with their private address: the ones to scrape. */
  readonly running: ScrapeTarget[];
  /** RUNNING tasks without an address: counted as failed scrapes. */
  readonly unreachable: string[];
  /** PROVISIONING, PENDING and ACTIVATING tasks. */
  readonly starting: number;
}

/** The service does not exist, or is being deleted: there is nothing to scale. */
export class ServiceGoneError extends Error {
  constructor(public readonly detail: string) {
    super(detail);
    this.name = 'ServiceGoneError';
  }
}

export async function discoverTasks(ecs: ECSClient, cluster: string, serviceName: string): Promise<Discovery> {
  // The service and its task list are read at once: on a real API each call costs tens of ms.
  const [described, listed] = await Promise.allSettled([
    ecs.send(new DescribeServicesCommand({ cluster, services: [serviceName] })),
    listTaskArns(ecs, cluster, serviceName),
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
  if (listed.status === 'rejected') throw listed.reason;
  const arns = listed.value;
  const chunks: string[][] = [];
  for (let i = 0; i < arns.length; i += DESCRIBE_CHUNK) chunks.push(arns.slice(i, i + DESCRIBE_CHUNK));
  const tasks = (await Promise.all(chunks.map(async chunk =>
    (await ecs.send(new DescribeTasksCommand({ cluster, tasks: chunk }))).tasks ?? [],
  ))).flat();

  const running: ScrapeTarget[] = [];
  const unreachable: string[] = [];
  let starting = 0;
  for (const task of tasks) {
    const taskId = taskIdOf(task.taskArn ?? '');
    if (task.lastStatus === 'RUNNING') {
      const address = privateAddress(task);
      if (address) running.push({ taskId, address });
      else unreachable.push(taskId);
    } else if (STARTING.has(task.lastStatus ?? '')) {
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
    unreachable,
    starting,
  };
}

async function listTaskArns(ecs: ECSClient, cluster: string, serviceName: string): Promise<string[]> {
  const arns: string[] = [];
  for await (const page of paginateListTasks({ client: ecs }, { cluster, serviceName, desiredStatus: 'RUNNING' })) {
    arns.push(...(page.taskArns ?? []));
  }
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
