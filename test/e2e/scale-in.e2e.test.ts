import { Duration } from 'aws-cdk-lib';
import { LocalCluster } from '../support/local-cluster';
import { waitFor } from '../support/wait-for';

let cluster: LocalCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

/** Scales the service out to 6 tasks with load, then drops the load; returns when it dropped. */
async function surgeThenDrop(c: LocalCluster): Promise<number> {
  c.loop.startSchedule();
  c.load.setConnections(60);
  await waitFor('6 running tasks', () => c.ecs.desiredCount === 6 && c.ecs.runningTasks.length === 6, 30_000);
  c.load.setConnections(0);
  return Date.now();
}

test('scale-in disabled (the default): the load drops and nothing scales in', async () => {
  cluster = await LocalCluster.start({ autoscaler: { interval: Duration.seconds(1) }, startDelayMs: 500 });
  const droppedAt = await surgeThenDrop(cluster);
  const { loop } = cluster;
  const desiredAtDrop = cluster.ecs.desiredCount;
  await waitFor('10 ticks after the drop', () => loop.ticks.filter(t => t.seenAt > droppedAt + 500).length >= 10, 30_000);
  const after = loop.ticks.filter(t => t.seenAt > droppedAt + 500);
  expect(after.every(t => t.action === 'HOLD')).toBe(true);
  expect(after.some(t => /scale-in is disabled/.test(t.reason))).toBe(true);
  expect(cluster.ecs.desiredCount).toBe(desiredAtDrop);
});

test('scale-in enabled: only after the window, at most halving, never below minTasks', async () => {
  cluster = await LocalCluster.start({
    autoscaler: { interval: Duration.seconds(1), disableScaleIn: false, scaleInWindow: Duration.seconds(6) },
    startDelayMs: 500,
  });
  const droppedAt = await surgeThenDrop(cluster);
  const { ecs } = cluster;
  await waitFor('the service back at minTasks', () => ecs.desiredCount === 2 && ecs.liveTasks.length === 2, 60_000);
  const scaleIns = ecs.callsOf('UpdateService').filter(c => c.at > droppedAt && !c.error);
  // 6 -> 3 -> 2: halving at most, and the first only once a whole window of low load passed.
  expect(scaleIns.map(c => c.input.desiredCount)).toEqual([3, 2]);
  expect(scaleIns[0].at - droppedAt).toBeGreaterThanOrEqual(6000);
  // After a scale-in the window starts again.
  expect(scaleIns[1].at - scaleIns[0].at).toBeGreaterThanOrEqual(6000);
  expect(cluster.loop.ticks.every(t => t.desiredCount >= 2 || t.action === 'HOLD')).toBe(true);
});
