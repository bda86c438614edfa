import { DescribeServicesCommand, DescribeTasksCommand, ECSClient, ListTasksCommand, Task } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { TaskCatalog } from '../../src/controller/read/task-catalog';
import { discoverTasks, ServiceGoneError } from '../../src/controller/read/task-discovery';

const CLUSTER = 'arn:aws:ecs:eu-west-1:123456789012:cluster/web';
const ecsMock = mockClient(ECSClient);
const arn = (i: number) => `arn:aws:ecs:eu-west-1:123456789012:task/web/${i.toString(16).padStart(32, '0')}`;

function task(i: number, lastStatus: string, withAddress = true, desiredStatus = 'RUNNING'): Task {
  return {
    taskArn: arn(i),
    lastStatus,
    desiredStatus,
    attachments: [{
      type: 'ElasticNetworkInterface',
      details: [
        { name: 'subnetId', value: 'subnet-1' },
        ...(withAddress ? [{ name: 'privateIPv4Address', value: `10.0.${Math.floor(i / 256)}.${i % 256}` }] : []),
      ],
    }],
  };
}

function activeService(desiredCount = 2) {
  ecsMock.on(DescribeServicesCommand).resolves({
    services: [{ serviceName: 'web', status: 'ACTIVE', desiredCount, runningCount: desiredCount, pendingCount: 0 }],
  });
}

/** ListTasks answered in pages of 100 from `all`, with a numeric nextToken, as ECS pages. */
function pagedList(all: () => string[]) {
  return (input: { nextToken?: string }) => {
    const start = input.nextToken ? Number(input.nextToken) : 0;
    const end = Math.min(start + 100, all().length);
    return { taskArns: all().slice(start, end), nextToken: end < all().length ? String(end) : undefined };
  };
}

/** No task is being stopped unless a test says so. */
function noneStopping() {
  ecsMock.on(ListTasksCommand, { desiredStatus: 'STOPPED' }).resolves({ taskArns: [] });
}

beforeEach(() => {
  ecsMock.reset();
  noneStopping();
});

describe('discoverTasks', () => {
  test('pages through 250+ tasks and describes them in chunks of 100', async () => {
    activeService(260);
    const all = Array.from({ length: 260 }, (_, i) => arn(i));
    ecsMock.on(ListTasksCommand, { desiredStatus: 'RUNNING' }).callsFake(pagedList(() => all));
    ecsMock.on(DescribeTasksCommand).callsFake(input => ({
      tasks: input.tasks.map((a: string) => task(parseInt(a.slice(a.lastIndexOf('/') + 1), 16), 'RUNNING')),
    }));

    const found = await discoverTasks(new ECSClient({}), CLUSTER, 'web');

    const lists = ecsMock.commandCalls(ListTasksCommand).map(c => c.args[0].input);
    expect(lists.filter(i => i.desiredStatus === 'RUNNING')).toHaveLength(3);
    expect(lists.filter(i => i.desiredStatus === 'STOPPED')).toHaveLength(1);
    expect(lists[0]).toMatchObject({ cluster: CLUSTER, serviceName: 'web' });
    const describeSizes = ecsMock.commandCalls(DescribeTasksCommand).map(c => c.args[0].input.tasks?.length);
    expect(describeSizes).toEqual([100, 100, 60]);
    expect(found.running).toHaveLength(260);
    expect(found.running[257]).toEqual({ taskId: arn(257).split('/').pop(), address: '10.0.1.1' });
  });

  test('RUNNING tasks are scraped, starting ones count as capacity, a RUNNING task without an address is unread', async () => {
    activeService(5);
    ecsMock.on(ListTasksCommand, { desiredStatus: 'RUNNING' }).resolves({ taskArns: [arn(1), arn(2), arn(3), arn(5), arn(6)] });
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [task(1, 'RUNNING'), task(2, 'PENDING'), task(3, 'PROVISIONING'), task(5, 'RUNNING', false), task(6, 'ACTIVATING')],
    });
    const found = await discoverTasks(new ECSClient({}), CLUSTER, 'web');
    expect(found.running.map(t => t.address)).toEqual(['10.0.0.1']);
    expect(found.unreachable).toEqual([{ taskId: arn(5).split('/').pop(), reason: 'RUNNING without a private IPv4 address' }]);
    expect(found.starting).toBe(3);
    expect(found.draining).toEqual([]);
    expect(found.service).toEqual({ status: 'ACTIVE', desiredCount: 5, runningCount: 5, pendingCount: 0 });
  });

  test('stopping tasks that still run are draining: scraped, never left out; stopped ones are ignored', async () => {
    activeService(2);
    ecsMock.on(ListTasksCommand, { desiredStatus: 'RUNNING' }).resolves({ taskArns: [arn(1), arn(2)] });
    ecsMock.on(ListTasksCommand, { desiredStatus: 'STOPPED' }).resolves({ taskArns: [arn(3), arn(4), arn(5), arn(6), arn(7)] });
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [
        task(1, 'RUNNING'), task(2, 'RUNNING'),
        // Deregistering from the load balancer, long-lived connections still open.
        task(3, 'RUNNING', true, 'STOPPED'), task(4, 'DEACTIVATING', true, 'STOPPED'), task(5, 'STOPPING', false, 'STOPPED'),
        task(6, 'DEPROVISIONING', true, 'STOPPED'), task(7, 'STOPPED', true, 'STOPPED'),
      ],
    });
    const found = await discoverTasks(new ECSClient({}), CLUSTER, 'web');
    expect(found.running.map(t => t.address)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(found.draining.map(t => t.address)).toEqual(['10.0.0.3', '10.0.0.4']);
    expect(found.drainingUnreachable).toEqual([{ taskId: arn(5).split('/').pop(), reason: 'STOPPING while stopping, without a private IPv4 address' }]);
    expect(found.unreachable).toEqual([]);
    expect(found.listedTaskIds).toHaveLength(7);
  });

  test('a task in both lists (told to stop between the two calls) is draining, not serving', async () => {
    activeService(1);
    ecsMock.on(ListTasksCommand, { desiredStatus: 'RUNNING' }).resolves({ taskArns: [arn(1)] });
    ecsMock.on(ListTasksCommand, { desiredStatus: 'STOPPED' }).resolves({ taskArns: [arn(1)] });
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [task(1, 'RUNNING', true, 'STOPPED')] });
    const found = await discoverTasks(new ECSClient({}), CLUSTER, 'web');
    expect(found.running).toEqual([]);
    expect(found.draining).toHaveLength(1);
  });

  test('DescribeTasks failures are tasks the controller could not read, never silently dropped', async () => {
    activeService(3);
    ecsMock.on(ListTasksCommand, { desiredStatus: 'RUNNING' }).resolves({ taskArns: [arn(1), arn(2), arn(3)] });
    ecsMock.on(ListTasksCommand, { desiredStatus: 'STOPPED' }).resolves({ taskArns: [arn(4)] });
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [task(1, 'RUNNING')],
      failures: [{ arn: arn(2), reason: 'MISSING' }, { arn: arn(4), reason: 'MISSING', detail: 'gone' }],
    });
    const found = await discoverTasks(new ECSClient({}), CLUSTER, 'web');
    expect(found.running).toHaveLength(1);
    expect(found.unreachable).toEqual([
      { taskId: arn(2).split('/').pop(), reason: 'DescribeTasks: MISSING' },
      { taskId: arn(3).split('/').pop(), reason: 'DescribeTasks: not in the answer' },
    ]);
    expect(found.drainingUnreachable).toEqual([{ taskId: arn(4).split('/').pop(), reason: 'DescribeTasks: MISSING (gone)' }]);
  });

  test('zero tasks: nothing to scrape, and no DescribeTasks call', async () => {
    activeService(0);
    ecsMock.on(ListTasksCommand, { desiredStatus: 'RUNNING' }).resolves({ taskArns: [] });
    const found = await discoverTasks(new ECSClient({}), CLUSTER, 'web');
    expect(found.running).toEqual([]);
    expect(ecsMock.commandCalls(DescribeTasksCommand)).toHaveLength(0);
  });

  test('a missing service is a ServiceGoneError naming it', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [], failures: [{ arn: 'web', reason: 'MISSING' }] });
    await expect(discoverTasks(new ECSClient({}), CLUSTER, 'web')).rejects.toThrow(new ServiceGoneError(`service web not found in ${CLUSTER}: MISSING`));
  });

  test('a service being deleted is a ServiceGoneError', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [{ serviceName: 'web', status: 'DRAINING' }] });
    await expect(discoverTasks(new ECSClient({}), CLUSTER, 'web')).rejects.toThrow('service web is DRAINING');
  });

  test('throttling that outlasts the SDK retries comes out as the ECS error', async () => {
    activeService();
    ecsMock.on(ListTasksCommand, { desiredStatus: 'RUNNING' }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client' }));
    await expect(discoverTasks(new ECSClient({}), CLUSTER, 'web')).rejects.toMatchObject({ name: 'ThrottlingException' });
  });
});

describe('discoverTasks with the warm instance\'s catalog', () => {
  const CALLS = () => ({
    list: ecsMock.commandCalls(ListTasksCommand).length,
    describe: ecsMock.commandCalls(DescribeTasksCommand).map(c => c.args[0].input.tasks?.length),
  });

  function service(desiredCount: number, runningCount = desiredCount, pendingCount = 0) {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [{ serviceName: 'web', status: 'ACTIVE', desiredCount, runningCount, pendingCount }] });
  }
  function serving(ids: number[], status: (i: number) => string = () => 'RUNNING') {
    ecsMock.on(ListTasksCommand, { desiredStatus: 'RUNNING' }).resolves({ taskArns: ids.map(arn) });
    ecsMock.on(DescribeTasksCommand).callsFake(input => ({
      tasks: input.tasks.map((a: string) => {
        const i = parseInt(a.slice(a.lastIndexOf('/') + 1), 16);
        return task(i, status(i));
      }),
    }));
  }

  test('describes each task once; an unchanged service costs one DescribeServices a tick', async () => {
    const catalog = new TaskCatalog();
    service(250);
    serving(Array.from({ length: 250 }, (_, i) => i));
    const first = await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: 1000 });
    expect(first.running).toHaveLength(250);
    expect(first.calls).toEqual({ DescribeServices: 1, ListTasks: 2, DescribeTasks: 3 });
    ecsMock.resetHistory();
    const second = await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: 4000 });
    expect(second.running).toEqual(first.running);
    expect(second.calls).toEqual({ DescribeServices: 1 });
    expect(CALLS()).toEqual({ list: 0, describe: [] });
  });

  test('a change in the service\'s counts lists again, and describes only the new and the starting tasks', async () => {
    const catalog = new TaskCatalog();
    service(3, 2, 1);
    serving([1, 2, 3], i => (i === 3 ? 'PENDING' : 'RUNNING'));
    expect((await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: 1000 })).starting).toBe(1);
    ecsMock.resetHistory();
    service(5, 3, 2);
    serving([1, 2, 3, 4, 5], i => (i >= 4 ? 'PROVISIONING' : 'RUNNING'));
    const found = await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: 4000 });
    expect(CALLS().describe).toEqual([3]);
    // New tasks first, then the starting one.
    expect(ecsMock.commandCalls(DescribeTasksCommand)[0].args[0].input.tasks).toEqual([arn(4), arn(5), arn(3)]);
    expect(found.running).toHaveLength(3);
    expect(found.starting).toBe(2);
  });

  test('lists again after relistAfterMs even when nothing changed; a task that stopped answering is described again by its ARN', async () => {
    const catalog = new TaskCatalog(30_000);
    service(2);
    serving([1, 2]);
    await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: 1000 });
    ecsMock.resetHistory();
    await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: 30_999 });
    expect(CALLS().list).toBe(0);
    await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: 31_000 });
    expect(CALLS()).toEqual({ list: 2, describe: [] });
    ecsMock.resetHistory();
    catalog.markSuspects([arn(2).split('/').pop()!]);
    await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: 34_000 });
    // Still RUNNING to ECS: no listing, and not described again for a while.
    expect(CALLS()).toEqual({ list: 0, describe: [1] });
    ecsMock.resetHistory();
    catalog.markSuspects([arn(2).split('/').pop()!]);
    await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: 37_000 });
    expect(CALLS()).toEqual({ list: 0, describe: [] });
    // A suspect ECS reports stopped: the next tick lists again, to find its replacement.
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [task(2, 'STOPPED', false, 'STOPPED')] });
    catalog.markSuspects([arn(1).split('/').pop()!]);
    await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: 61_500 });
    ecsMock.resetHistory();
    await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: 64_500 });
    expect(CALLS().list).toBe(2);
  });

  test('a DescribeTasks call that fails leaves its tasks unread and queued, not lost until the next listing', async () => {
    const catalog = new TaskCatalog();
    service(300);
    serving(Array.from({ length: 300 }, (_, i) => i));
    let calls = 0;
    ecsMock.on(DescribeTasksCommand).callsFake(input => {
      if (calls++ === 1) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client' });
      return { tasks: input.tasks.map((a: string) => task(parseInt(a.slice(a.lastIndexOf('/') + 1), 16), 'RUNNING')) };
    });
    const first = await discoverTasks(new ECSClient({ maxAttempts: 1 }), CLUSTER, 'web', { catalog, now: 1000 });
    expect(first.running).toHaveLength(200);
    expect(first.unreachable).toHaveLength(100);
    expect(first.unreachable[0].reason).toMatch(/^DescribeTasks: ThrottlingException/);
    ecsMock.resetHistory();
    const second = await discoverTasks(new ECSClient({ maxAttempts: 1 }), CLUSTER, 'web', { catalog, now: 4000 });
    expect(CALLS()).toEqual({ list: 0, describe: [100] });
    expect(second.running).toHaveLength(300);
  });

  test('a listing longer than the tick allows goes on at the next tick; until it ends the tick has no view', async () => {
    const catalog = new TaskCatalog();
    service(500);
    const all = Array.from({ length: 500 }, (_, i) => arn(i));
    ecsMock.on(ListTasksCommand, { desiredStatus: 'RUNNING' }).callsFake(pagedList(() => all));
    ecsMock.on(DescribeTasksCommand).callsFake(input => ({
      tasks: input.tasks.map((a: string) => task(parseInt(a.slice(a.lastIndexOf('/') + 1), 16), 'RUNNING')),
    }));
    // A tick whose time to list has already passed (a window of a millisecond or two flaked on a busy machine).
    const first = await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: 1000, listUntil: Date.now() - 1 });
    expect(first.listed).toBe(false);
    const second = await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: 4000 });
    expect(second.listed).toBe(true);
    expect(second.running).toHaveLength(500);
    // Pages went on from where the first tick stopped: 5 serving pages in all, not 5 + what the first read.
    expect(ecsMock.commandCalls(ListTasksCommand).filter(c => c.args[0].input.desiredStatus === 'RUNNING')).toHaveLength(5);
  });

  test('the stopping list is read to 10 pages at most; beyond, some tasks may drain unseen, and that blocks scale-in', async () => {
    const catalog = new TaskCatalog();
    service(1);
    serving([1]);
    const stopped = Array.from({ length: 1500 }, (_, i) => arn(1000 + i));
    ecsMock.on(ListTasksCommand, { desiredStatus: 'STOPPED' }).callsFake(pagedList(() => stopped));
    ecsMock.on(DescribeTasksCommand).callsFake(input => ({
      tasks: input.tasks.map((a: string) => task(parseInt(a.slice(a.lastIndexOf('/') + 1), 16), a === arn(1) ? 'RUNNING' : 'STOPPED', true, a === arn(1) ? 'RUNNING' : 'STOPPED')),
    }));
    const found = await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: 1000 });
    expect(ecsMock.commandCalls(ListTasksCommand).filter(c => c.args[0].input.desiredStatus === 'STOPPED')).toHaveLength(10);
    expect(found.drainingUnreachable).toEqual([{ taskId: 'stopping-list-truncated', reason: 'more than 10 pages of stopping tasks: some are unread' }]);
    // A cold instance describes at most 50 calls' worth in a tick, serving tasks first.
    expect(ecsMock.commandCalls(DescribeTasksCommand).flatMap(c => c.args[0].input.tasks)[0]).toBe(arn(1));
    expect(found.running).toHaveLength(1);
  });

  test('a large service that changes at every tick (a surge) is listed again at most every 10 s; its starting tasks are followed by ARN', async () => {
    const catalog = new TaskCatalog();
    const ids = Array.from({ length: 700 }, (_, i) => i);
    let running = 600;
    const list = () => {
      ecsMock.on(ListTasksCommand, { desiredStatus: 'RUNNING' }).callsFake(pagedList(() => ids.map(arn)));
      ecsMock.on(DescribeTasksCommand).callsFake(input => ({
        tasks: input.tasks.map((a: string) => {
          const i = parseInt(a.slice(a.lastIndexOf('/') + 1), 16);
          return task(i, i < running ? 'RUNNING' : 'PENDING');
        }),
      }));
    };
    service(700, running, 700 - running);
    list();
    await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: 1000 });
    const lists: number[] = [];
    for (let t = 4000; t <= 16_000; t += 3000) {
      running += 20;
      service(700, running, 700 - running);
      ecsMock.resetHistory();
      const found = await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: t });
      lists.push(ecsMock.commandCalls(ListTasksCommand).length);
      // Every task that runs is read at once, listing or not.
      expect(found.running).toHaveLength(running);
    }
    expect(lists).toEqual([0, 0, 0, 8, 0]);
  });

  test('a task that went away is forgotten; a draining one is described again at each listing until it has stopped', async () => {
    const catalog = new TaskCatalog();
    service(2);
    serving([1, 2]);
    await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: 1000 });
    // Task 2 is told to stop: it drains.
    service(2, 2, 1);
    ecsMock.on(ListTasksCommand, { desiredStatus: 'RUNNING' }).resolves({ taskArns: [arn(1), arn(3)] });
    ecsMock.on(ListTasksCommand, { desiredStatus: 'STOPPED' }).resolves({ taskArns: [arn(2)] });
    ecsMock.on(DescribeTasksCommand).callsFake(input => ({
      tasks: input.tasks.map((a: string) => (a === arn(2) ? task(2, 'RUNNING', true, 'STOPPED') : task(3, 'PENDING'))),
    }));
    ecsMock.resetHistory();
    const draining = await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: 4000 });
    expect(draining.draining.map(t => t.taskId)).toEqual([arn(2).split('/').pop()]);
    expect(ecsMock.commandCalls(DescribeTasksCommand)[0].args[0].input.tasks).toEqual([arn(3), arn(2)]);
    // It has stopped; task 1 went away altogether.
    service(2, 1, 1);
    ecsMock.on(ListTasksCommand, { desiredStatus: 'RUNNING' }).resolves({ taskArns: [arn(3)] });
    ecsMock.on(DescribeTasksCommand).callsFake(input => ({
      tasks: input.tasks.map((a: string) => (a === arn(2) ? task(2, 'STOPPED', false, 'STOPPED') : task(3, 'PENDING'))),
    }));
    const stopped = await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: 7000 });
    expect(stopped.draining).toEqual([]);
    expect(stopped.drainingUnreachable).toEqual([]);
    expect(stopped.listedTaskIds).toEqual([arn(3), arn(2)].map(a => a.split('/').pop()));
    // Stopped for good: no more DescribeTasks for it.
    ecsMock.resetHistory();
    service(2, 1, 2);
    await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: 10_000 });
    expect(ecsMock.commandCalls(DescribeTasksCommand).flatMap(c => c.args[0].input.tasks)).toEqual([arn(3)]);
  });

  test('learns how long tasks take to start', async () => {
    const catalog = new TaskCatalog();
    service(1);
    ecsMock.on(ListTasksCommand, { desiredStatus: 'RUNNING' }).resolves({ taskArns: [arn(1)] });
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ ...task(1, 'RUNNING'), createdAt: new Date(10_000), startedAt: new Date(55_000) }] });
    await discoverTasks(new ECSClient({}), CLUSTER, 'web', { catalog, now: 60_000 });
    expect(catalog.startDelays()).toEqual([45_000]);
  });
});
