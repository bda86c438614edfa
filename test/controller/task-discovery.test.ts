import { DescribeServicesCommand, DescribeTasksCommand, ECSClient, ListTasksCommand, Task } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { discoverTasks, ServiceGoneError } from '../../src/controller/task-discovery';

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
    ecsMock.on(ListTasksCommand, { desiredStatus: 'RUNNING' }).callsFake(input => {
      const start = input.nextToken ? Number(input.nextToken) : 0;
      const end = Math.min(start + 100, all.length);
      return { taskArns: all.slice(start, end), nextToken: end < all.length ? String(end) : undefined };
    });
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
