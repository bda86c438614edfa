import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, ECSClient, ListTasksCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { LOOP_CONFIG_ENV } from '../../src/controller/loop-config';
import { controllerConfig } from '../support/controller-config-fixture';

const ecsMock = mockClient(ECSClient);
const ddbMock = mockClient(DynamoDBClient);

test('the handler ticks its services, scales from the controller, logs one line and emits one EMF record per service tick', async () => {
  const { table: _t, intervalSeconds: _i, runSeconds: _r, ...entry } = controllerConfig({ cluster: 'c', minTasks: 2, publishMetrics: undefined });
  process.env[LOOP_CONFIG_ENV] = JSON.stringify({ loop: 'l', table: 'state', intervalSeconds: 3, runSeconds: 90, loopMetrics: false, metricsFlushSeconds: 0, services: [entry] });
  ecsMock.on(DescribeServicesCommand).resolves({ services: [{ status: 'ACTIVE', desiredCount: 1, runningCount: 0, pendingCount: 1 }] });
  ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
  ecsMock.on(UpdateServiceCommand).resolves({});
  ddbMock.on(GetItemCommand).resolves({});
  ddbMock.on(PutItemCommand).resolves({});
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
    lines.push(String(chunk));
    return true;
  });
  const info = jest.spyOn(console, 'info').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
  const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
  const warn = jest.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
  // Powertools writes its warnings to stderr.
  const writeErr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: any) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    // Loaded here, after the configuration is in the environment: the module reads it once.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require('../../src/controller/tick.lambda') as typeof import('../../src/controller/tick.lambda');
    const started = Date.now();
    const result = await handler({ runId: 'r1', runStartedAt: new Date().toISOString() });
    expect(result).toMatchObject({ continue: true, services: 1, acted: 1, failed: 0 });
    // The next tick is due one interval after this one began, however long it took, on the whole
    // second (Step Functions' Wait reads a timestamp to the second).
    const due = Date.parse(result.nextTickAt);
    expect(due % 1000).toBe(0);
    expect(due - started).toBeGreaterThan(2000);
    expect(due - started).toBeLessThanOrEqual(3100);
    expect(ecsMock.commandCalls(UpdateServiceCommand).map(c => c.args[0].input)).toEqual([{ cluster: 'c', service: 'web', desiredCount: 2 }]);
    // A second tick: the dimensions must outlive the first publish.
    await handler({ runId: 'r1', runStartedAt: new Date().toISOString() });
    // A third that cannot reach ECS: it holds, and counts as no tick for the stopped-ticking alarm.
    ecsMock.on(DescribeServicesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const held = await handler({ runId: 'r1', runStartedAt: new Date().toISOString() });
    expect(held).toMatchObject({ continue: true, services: 1, acted: 0 });
    // A fourth whose lease DynamoDB throttles: held on the beat, with a warning that says why (no service line).
    const throttled = Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException' });
    ddbMock.on(GetItemCommand).rejects(throttled);
    ddbMock.on(PutItemCommand).rejects(throttled);
    const noLease = await handler({ runId: 'r1', runStartedAt: new Date().toISOString() });
    expect(noLease).toMatchObject({ continue: true, services: 0, acted: 0, reason: expect.stringMatching(/^the loop's lease could not be read or written/) });
  } finally {
    write.mockRestore();
    info.mockRestore();
    log.mockRestore();
    warn.mockRestore();
    writeErr.mockRestore();
  }
  const records = lines.join('\n').split('\n').filter(l => l.trim().startsWith('{')).map(l => JSON.parse(l));
  const ticks = records.filter(r => r.message === 'tick');
  expect(ticks).toHaveLength(3);
  expect(records.filter(r => r.message === 'tick held')).toEqual([
    expect.objectContaining({ level: 'WARN', runId: 'r1', reason: expect.stringContaining('ProvisionedThroughputExceededException') }),
  ]);
  expect(ticks[0]).toMatchObject({ action: 'SCALE_OUT', desiredCount: 2, runId: 'r1', ecsService: 'web', metric: 'ACTIVE_CONNECTIONS', scraped: 0, scale: { ok: true, attempts: 1 } });
  expect(ticks[2]).toMatchObject({ action: 'HOLD', reason: expect.stringMatching(/^ECS did not answer/), degraded: true });
  const emf = records.filter(r => r._aws);
  expect(emf).toHaveLength(3);
  for (const record of emf) {
    expect(record._aws.CloudWatchMetrics).toEqual([expect.objectContaining({ Namespace: 'FastAutoscaler', Dimensions: [['ClusterName', 'ServiceName']] })]);
    expect(record).toMatchObject({ ClusterName: 'c', ServiceName: 'web', TickDuration: expect.any(Number) });
    expect(record).not.toHaveProperty('service');
  }
  expect(emf[2]._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'TickDuration', Unit: 'Milliseconds' }, { Name: 'Degraded', Unit: 'Count' }]);
  expect(emf[2]).toMatchObject({ Degraded: 1 });
  for (const record of emf.slice(0, 2)) {
    expect(record).toMatchObject({ Ticks: 1, RunningTasks: 0, PendingTasks: 0, TasksScraped: 0, ScrapesFailed: 0, Degraded: 0 });
  }
  expect(emf[0]).toMatchObject({ ScalingActions: 1, DesiredTasks: 2 });
});
