import * as net from 'net';
import { AddressInfo } from 'net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { awsClientTimeouts, ecsCallTimeoutMs, tickBudgetMs } from '../../src/controller/call-limits';
import { TaskCatalog } from '../../src/controller/read/task-catalog';
import { RequestCounters } from '../../src/controller/read/task-metric';
import { StateStore } from '../../src/controller/state-store';
import { runTick } from '../../src/controller/tick';
import { loopbackClientConfig } from '../support/aws-loopback';
import { controllerConfig } from '../support/controller-config-fixture';
import { DynaliteServer } from '../support/dynalite-server';
import { EcsEmulator } from '../support/ecs-emulator';

/** A "service endpoint" on loopback that accepts connections and never answers. */
async function blackHole(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer(s => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>(resolve => {
      sockets.forEach(s => s.destroy());
      server.close(() => resolve());
    }),
  };
}

const config = controllerConfig({ intervalSeconds: 3 });
let hole: Awaited<ReturnType<typeof blackHole>>;
let dynalite: DynaliteServer;
beforeAll(async () => {
  hole = await blackHole();
  dynalite = await DynaliteServer.start();
  await dynalite.createStateTable('state');
});
afterAll(async () => {
  await hole.stop();
  await dynalite.stop();
});

test('an ECS call that hangs costs one tick\'s discovery: the tick holds and the run goes on', async () => {
  // The clients exactly as the handler builds them.
  const ecs = new ECSClient({ ...loopbackClientConfig(hole.endpoint), maxAttempts: 3, requestHandler: awsClientTimeouts(config) });
  const started = Date.now();
  const { result } = await runTick(config, { runId: 'r', runStartedAt: new Date().toISOString() }, {
    ecs,
    store: new StateStore(dynalite.client(), 'state', 'hang', ecsCallTimeoutMs(config)),
    scrape: async () => [],
    now: Date.now,
    counters: new RequestCounters(),
    catalog: new TaskCatalog(0),
  });
  const elapsed = Date.now() - started;
  expect(result).toMatchObject({ action: 'HOLD', continue: true, reason: expect.stringMatching(/^ECS did not answer: (AbortError|TimeoutError|RequestTimeout)/) });
  // Without the limits the call would hang until jest gave up; with them it ends after one call timeout.
  expect(elapsed).toBeLessThan(tickBudgetMs(config) + 1000);
  ecs.destroy();
});

test('an ECS that answers every call just inside its own limit cannot stretch a tick past the tick\'s budget', async () => {
  // 700 tasks: 7 ListTasks pages one after the other, each answered after 1.4 s (the call limit is 1.5 s).
  const slow = await EcsEmulator.start({
    proxyPort: 1, statusPort: 1, appPort: 1, addressBlock: 241, initialDesiredCount: 700, sidecars: false, latencyMs: 1400,
  });
  const ecs = new ECSClient({ ...loopbackClientConfig(slow.endpoint), maxAttempts: 2, requestHandler: awsClientTimeouts(config) });
  const started = Date.now();
  try {
    const { result } = await runTick({ ...config, cluster: slow.clusterArn, service: slow.serviceName },
      { runId: 'r', runStartedAt: new Date().toISOString() }, {
        ecs,
        store: new StateStore(dynalite.client(), 'state', 'slow', ecsCallTimeoutMs(config)),
        scrape: async () => [],
        now: Date.now,
        counters: new RequestCounters(),
        catalog: new TaskCatalog(0),
      });
    // The listing stops where the tick's budget ends, and goes on at the next tick.
    expect(result).toMatchObject({ action: 'HOLD', continue: true, reason: expect.stringMatching(/^listing the service's tasks \(\d pages this tick\)/) });
    expect(Date.now() - started).toBeLessThan(tickBudgetMs(config) + 1000);
  } finally {
    ecs.destroy();
    await slow.stop();
  }
});

test('a DynamoDB call that hangs throws (the state machine counts the failed tick) instead of hanging', async () => {
  const ddb = new DynamoDBClient({ ...loopbackClientConfig(hole.endpoint), maxAttempts: 3, requestHandler: awsClientTimeouts(config) });
  const store = new StateStore(ddb, 'state', 'k', ecsCallTimeoutMs(config));
  const started = Date.now();
  await expect(store.load()).rejects.toMatchObject({ name: expect.stringMatching(/AbortError|TimeoutError|RequestTimeout/) });
  expect(Date.now() - started).toBeLessThan(ecsCallTimeoutMs(config) + 1000);
  ddb.destroy();
});
