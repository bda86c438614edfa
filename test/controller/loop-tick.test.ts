import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, ECSClient, ListTasksCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { LoopConfig } from '../../src/controller/loop-config';
import { LoopLease } from '../../src/controller/loop-lease';
import { runLoopTick, ServiceTick } from '../../src/controller/loop-tick';
import { ServiceMemories } from '../../src/controller/service-memory';
import { ServiceRegistry } from '../../src/controller/service-registry';
import { controllerConfig } from '../support/controller-config-fixture';

const ecsMock = mockClient(ECSClient);
const ddbMock = mockClient(DynamoDBClient);
const region = { region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
const ecs = new ECSClient(region);
const ddb = new DynamoDBClient(region);

function loopOf(services: string[], intervalSeconds = 1): LoopConfig {
  return {
    loop: 'l',
    table: 't',
    intervalSeconds,
    runSeconds: 200,
    loopMetrics: false,
    services: services.map(s => {
      const { table: _t, intervalSeconds: _i, runSeconds: _r, ...e } = controllerConfig({ cluster: s, service: s, minTasks: 2 });
      return e;
    }),
  };
}

beforeEach(() => {
  ecsMock.reset();
  ddbMock.reset();
  ddbMock.on(GetItemCommand).resolves({});
  ddbMock.on(PutItemCommand).resolves({});
  ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
  ecsMock.on(UpdateServiceCommand).resolves({});
});

test('a service whose ECS hangs neither delays nor changes another\'s tick; the loop returns by its cutoff', async () => {
  // The fast service's desired count is below its minTasks: its tick scales out.
  ecsMock.on(DescribeServicesCommand).callsFake((input: { cluster: string }) => (input.cluster === 'hanging'
    ? new Promise(() => undefined)
    : { services: [{ status: 'ACTIVE', desiredCount: 1, runningCount: 1, pendingCount: 0 }] }));
  const loop = loopOf(['hanging', 'fast']);
  const reports: Array<ServiceTick & { at: number }> = [];
  const started = Date.now();
  const result = await runLoopTick(loop, { runId: 'r', runStartedAt: new Date().toISOString() }, {
    clientsFor: () => ({ ecs, sns: () => new SNSClient(region), sqs: () => new SQSClient(region) }),
    lease: new LoopLease(ddb, 't', 'loop#l'),
    registry: new ServiceRegistry(loop),
    memories: new ServiceMemories(ddb),
    scrape: async () => [],
    report: tick => reports.push({ ...tick, at: Date.now() - started }),
  });
  const took = Date.now() - started;
  expect(took).toBeGreaterThanOrEqual(650);
  expect(took).toBeLessThan(1000);
  expect(result).toMatchObject({ continue: true, services: 2, acted: 1, failed: 1 });
  const fast = reports.find(r => r.name === 'services[1]')!;
  expect(fast.report?.result).toMatchObject({ action: 'SCALE_OUT', desiredCount: 2 });
  expect(fast.scale).toMatchObject({ ok: true });
  // Decided and scaled long before the hanging one gave up.
  expect(fast.at).toBeLessThan(300);
  expect(ecsMock.commandCalls(UpdateServiceCommand).map(c => c.args[0].input)).toEqual([{ cluster: 'fast', service: 'fast', desiredCount: 2 }]);
});

test('a service listed twice is left out, every copy, with a reason; the others tick', async () => {
  ecsMock.on(DescribeServicesCommand).resolves({ services: [{ status: 'ACTIVE', desiredCount: 2, runningCount: 2, pendingCount: 0 }] });
  const loop = loopOf(['twice', 'other', 'twice']);
  const reports: ServiceTick[] = [];
  await runLoopTick(loop, { runId: 'r', runStartedAt: new Date().toISOString() }, {
    clientsFor: () => ({ ecs, sns: () => new SNSClient(region), sqs: () => new SQSClient(region) }),
    lease: new LoopLease(ddb, 't', 'loop#l'),
    registry: new ServiceRegistry(loop),
    memories: new ServiceMemories(ddb),
    scrape: async () => [],
    report: tick => reports.push(tick),
  });
  expect(reports.filter(r => r.error).map(r => r.error)).toEqual([
    'the service is listed 2 times in the loop (services[0] is one): every entry is left out',
    'the service is listed 2 times in the loop (services[2] is one): every entry is left out',
  ]);
  expect(reports.find(r => r.name === 'services[1]')?.report?.result.action).toBe('HOLD');
});

test('the next tick is named on Step Functions\' clock (the tick state\'s entry), not on a function clock that stepped ahead', async () => {
  // Found by the chaos soak: a function whose clock ran 3 s ahead named the next tick 3 s late
  // by the Wait's clock, a gap of 4 intervals.
  ecsMock.on(DescribeServicesCommand).resolves({ services: [{ status: 'ACTIVE', desiredCount: 2, runningCount: 2, pendingCount: 0 }] });
  const loop = loopOf(['s']);
  const deps = {
    clientsFor: () => ({ ecs, sns: () => new SNSClient(region), sqs: () => new SQSClient(region) }),
    lease: new LoopLease(ddb, 't', 'loop#l'),
    registry: new ServiceRegistry(loop),
    memories: new ServiceMemories(ddb),
    scrape: async () => [],
    report: () => undefined,
  };
  const enteredAt = Date.now();
  const realNow = Date.now;
  const ahead = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 3_000);
  try {
    const event = { runId: 'r', runStartedAt: new Date(enteredAt - 5_000).toISOString() };
    const result = await runLoopTick(loop, { ...event, tickEnteredAt: new Date(enteredAt).toISOString() }, deps);
    expect(Date.parse(result.nextTickAt)).toBe(Math.floor((enteredAt + 1000) / 1000) * 1000);
    // Without the entry time (an older state machine), the function's clock is all it has.
    const legacy = await runLoopTick(loop, event, deps);
    expect(Date.parse(legacy.nextTickAt)).toBeGreaterThanOrEqual(Math.floor((enteredAt + 4000) / 1000) * 1000);
  } finally {
    ahead.mockRestore();
  }
});

test('what a tick remembers is timed on Step Functions\' clock, not on a function clock that stepped', async () => {
  // A recommendation remembered on a clock 3 s behind would leave the scale-in window 3 s early;
  // an action timed 3 s ahead would bind peers 3 s too long (chaos soak, clock steps).
  ecsMock.on(DescribeServicesCommand).resolves({ services: [{ status: 'ACTIVE', desiredCount: 1, runningCount: 1, pendingCount: 0 }] });
  const loop = loopOf(['s']);
  const enteredAt = Date.now();
  const realNow = Date.now;
  const behind = jest.spyOn(Date, 'now').mockImplementation(() => realNow() - 3_000);
  try {
    const result = await runLoopTick(loop, {
      runId: 'r', runStartedAt: new Date(enteredAt - 5_000).toISOString(), tickEnteredAt: new Date(enteredAt).toISOString(),
    }, {
      clientsFor: () => ({ ecs, sns: () => new SNSClient(region), sqs: () => new SQSClient(region) }),
      lease: new LoopLease(ddb, 't', 'loop#l'),
      registry: new ServiceRegistry(loop),
      memories: new ServiceMemories(ddb),
      scrape: async () => [],
      report: () => undefined,
    });
    expect(result).toMatchObject({ acted: 1 });
  } finally {
    behind.mockRestore();
  }
  const saved = ddbMock.commandCalls(PutItemCommand).map(c => c.args[0].input.Item?.state?.S).filter(Boolean);
  const at = JSON.parse(saved[saved.length - 1]!).lastAction.at;
  expect(at).toBeGreaterThanOrEqual(enteredAt);
  expect(at - enteredAt).toBeLessThan(500);
});

test('a lease DynamoDB cannot give now holds the tick on the beat; an error no retry cures still fails it', async () => {
  // Found by the chaos soak: a throttled lease write failed the tick, and the state machine's
  // wait after a failure came on top of it (2,006 ms between ticks at 1 s).
  const loop = loopOf(['s']);
  const deps = {
    clientsFor: () => ({ ecs, sns: () => new SNSClient(region), sqs: () => new SQSClient(region) }),
    lease: new LoopLease(ddb, 't', 'loop#l'),
    registry: new ServiceRegistry(loop),
    memories: new ServiceMemories(ddb),
    scrape: async () => [],
    report: () => undefined,
  };
  const enteredAt = Date.now();
  const event = { runId: 'r', runStartedAt: new Date(enteredAt - 5_000).toISOString(), tickEnteredAt: new Date(enteredAt).toISOString() };
  ddbMock.on(PutItemCommand).rejects(Object.assign(new Error('throughput exceeded'), { name: 'ProvisionedThroughputExceededException' }));
  const held = await runLoopTick(loop, event, deps);
  expect(held).toMatchObject({ continue: true, services: 0, reason: expect.stringMatching(/^the loop's lease could not be read or written/) });
  expect(Date.parse(held.nextTickAt)).toBe(Math.floor((enteredAt + 1000) / 1000) * 1000);
  // A lease read that hangs: held by the cutoff, not after it.
  ddbMock.on(GetItemCommand).callsFake(() => new Promise(() => undefined));
  const started = Date.now();
  await expect(runLoopTick(loop, event, deps)).resolves.toMatchObject({ continue: true, services: 0 });
  expect(Date.now() - started).toBeLessThan(1000);
  ddbMock.on(GetItemCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
  await expect(runLoopTick(loop, event, deps)).rejects.toThrow('denied');
});
