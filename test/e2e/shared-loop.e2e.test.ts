import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { maxGap } from '../support/gaps';
import { LocalFleet } from '../support/local-fleet';
import { waitFor } from '../support/wait-for';

/**
 * One loop for many services, in the local world: every service read, decided and scaled on
 * its own in each tick, and one service's failures never delaying, blocking or changing
 * another's decision.
 */

let fleet: LocalFleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});


test('each service of a shared loop scales on its own load, with its own bounds', async () => {
  fleet = await LocalFleet.start({ services: 3, autoscaler: i => (i === 1 ? { maxTasks: 6 } : {}) });
  const { loop, services } = fleet;
  loop.startSchedule();
  await waitFor('two idle ticks of every service', () => services.every(s => fleet!.ticksOf(s.name).filter(t => t.scraped === 2).length >= 2), 30_000);
  services[0].load.setConnections(60);
  services[1].load.setConnections(100);
  await waitFor('service 0 at 6 tasks', () => services[0].ecs.desiredCount === 6, 30_000);
  await waitFor('service 1 held at its maxTasks 6', () => services[1].ecs.desiredCount === 6, 30_000);
  // The third service had no load: never scaled.
  expect(services[2].ecs.callsOf('UpdateService')).toHaveLength(0);
  // The notice follows the call that set the count.
  const notice = await waitFor('the notice', () => fleet!.sns!.published[0], 5_000);
  expect(notice).toMatchObject({ subject: expect.stringMatching(/^svc-0 scales out: 2 -> \d+ tasks$/) });
  // One run, whose ticks covered every service every time.
  expect(loop.tickResults.every(r => r.services === 3)).toBe(true);
});

test('a denied, a hanging and a corrupt service beside a surging one: its reaction and its ticks are unchanged', async () => {
  fleet = await LocalFleet.start({ services: 4 });
  const { loop, services, router } = fleet;
  const [surging, denied, hanging, corrupt] = services;
  router.setFault(denied.ecs.clusterName, { kind: 'error', error: 'AccessDeniedException' });
  router.setFault(hanging.ecs.clusterName, { kind: 'hang' });
  // Written as a peer would never write it: not JSON.
  const ddb = fleet.dynalite.client();
  await ddb.send(new PutItemCommand({
    TableName: loop.loopConfig.table,
    Item: { pk: { S: `service#${corrupt.ecs.clusterArn}#${corrupt.ecs.serviceName}` }, version: { N: '7' }, state: { S: '{"history": [1, 2' } },
  }));
  ddb.destroy();
  loop.startSchedule();
  await waitFor('three ticks of the surging service', () => fleet!.ticksOf(surging.name).length >= 3, 30_000);

  const surgeAt = Date.now();
  surging.load.setConnections(100);
  const firstCall = await waitFor('the surging service\'s first UpdateService', () => surging.ecs.callsOf('UpdateService')[0], 20_000);
  const deciding = fleet.ticksOf(surging.name).find(t => t.seenAt > surgeAt && t.action === 'SCALE_OUT')
    ?? await waitFor('the deciding tick', () => fleet!.ticksOf(surging.name).find(t => t.seenAt > surgeAt && t.action === 'SCALE_OUT'), 5_000);
  // Within two ticks of the surge, as alone (test/e2e/surge.e2e.test.ts).
  expect(fleet.ticksOf(surging.name).filter(t => t.seenAt > surgeAt && t.seenAt <= deciding.seenAt).length).toBeLessThanOrEqual(2);
  expect(firstCall.at - surgeAt).toBeLessThan(2 * 1000 + 1000);
  await waitFor('the surging service at 10 tasks', () => surging.ecs.desiredCount === 10, 30_000);

  // The surging service ticked every interval throughout.
  const surgingTicks = fleet.ticksOf(surging.name).map(t => t.seenAt);
  expect(maxGap(surgingTicks)).toBeLessThan(1.6 * 1000);
  // The faulty services failed on their own, every tick, and said why.
  const last = (name: string) => fleet!.ticksOf(name).slice(-3);
  for (const t of last(denied.name)) expect(t).toMatchObject({ degraded: true, reason: expect.stringContaining('AccessDeniedException') });
  for (const t of last(hanging.name)) expect(t.degraded).toBe(true);
  for (const t of last(corrupt.name)) expect(t).toMatchObject({ degraded: true, reason: expect.stringContaining('is not JSON') });
  expect(denied.ecs.callsOf('UpdateService')).toHaveLength(0);
  // None of it counted against the loop: no failed tick, one run.
  expect(loop.transitions.filter(([, s]) => s === 'CountFailure')).toHaveLength(0);
  expect(loop.runs).toHaveLength(1);
  // Their health metric says so; the surging service's does not.
  const degraded = (name: string) => loop.emfRecords.filter(r => r.ServiceName === name && r.Degraded !== undefined).map(r => r.Degraded);
  expect(degraded(denied.name).every(d => d === 1)).toBe(true);
  expect(degraded(surging.name).every(d => d === 0)).toBe(true);
});

test('a service whose scale calls are denied beside one that surges: the other scales, each failure its own', async () => {
  fleet = await LocalFleet.start({ services: 2 });
  const { loop, services, router } = fleet;
  const [surging, refused] = services;
  router.setFault(refused.ecs.clusterName, { kind: 'error', error: 'AccessDeniedException', operation: 'UpdateService' });
  loop.startSchedule();
  await waitFor('two idle ticks of each', () => services.every(s => fleet!.ticksOf(s.name).filter(t => t.scraped === 2).length >= 2), 30_000);
  refused.load.setConnections(100);
  surging.load.setConnections(100);
  await waitFor('the surging service at 10 tasks', () => surging.ecs.desiredCount === 10, 30_000);
  const denied = await waitFor('the refused service\'s denied call', () => fleet!.ticksOf(refused.name).find(t => t.scale && !t.scale.ok), 10_000);
  expect(denied).toMatchObject({ action: 'SCALE_OUT', degraded: true, scale: { ok: false, attempts: 1, error: expect.stringContaining('AccessDeniedException') } });
  expect(refused.ecs.desiredCount).toBe(2);
  expect(loop.transitions.filter(([, s]) => s === 'CountFailure')).toHaveLength(0);
});
