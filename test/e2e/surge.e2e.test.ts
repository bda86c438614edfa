import { Duration } from 'aws-cdk-lib';
import { renderProxyNginxConfig } from '../../src/metric-sources/proxy-nginx-config';
import { PROXY_RUNTIME_DIR } from '../../src/metric-sources/proxy-sidecar';
import { LocalCluster, proxyPorts } from '../support/local-cluster';
import { waitFor } from '../support/wait-for';

let cluster: LocalCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

test('the emulated tasks run exactly the nginx configuration the task definition carries', async () => {
  cluster = await LocalCluster.start({ autoscaler: { interval: Duration.seconds(1) } });
  const { proxyPort, statusPort, nginxConfig } = proxyPorts(cluster.template);
  // The default image (nginx 1.30) gets `early_hints`, which Debian's nginx 1.22 here lacks;
  // the emulated tasks run the same configuration without that one line.
  // Only where the files live differs: the task's volume there, a temporary directory here.
  const rendered = { proxyPort, statusPort, appPort: cluster.app.port, runtimeDir: PROXY_RUNTIME_DIR };
  expect(nginxConfig).toBe(renderProxyNginxConfig({ ...rendered, earlyHints: true }));
  expect(nginxConfig.replace('    early_hints 1;\n', '')).toBe(renderProxyNginxConfig(rendered));
});

test('a load step scales out within two ticks, to what the policy says, and notifies', async () => {
  cluster = await LocalCluster.start({ autoscaler: { interval: Duration.seconds(1) }, startDelayMs: 1500 });
  const { ecs, loop, load, sns } = cluster;
  loop.startSchedule();
  await waitFor('two idle ticks', () => loop.ticks.filter(t => t.scraped === 2).length >= 2, 20_000);
  expect(loop.ticks.every(t => t.action === 'HOLD')).toBe(true);

  const surgeAt = Date.now();
  load.setConnections(100);
  const firstCall = await waitFor('the first UpdateService call', () => ecs.callsOf('UpdateService')[0], 20_000);
  // The controller calls UpdateService itself, right after deciding; the tick's line follows, with the call's outcome.
  const deciding = await waitFor('the deciding tick', () => loop.ticks.find(t => t.seenAt > surgeAt && t.action === 'SCALE_OUT'), 5_000);
  const ticksUpTo = loop.ticks.filter(t => t.seenAt > surgeAt && t.seenAt <= deciding.seenAt);
  expect(ticksUpTo.length).toBeGreaterThanOrEqual(1);
  expect(ticksUpTo.length).toBeLessThanOrEqual(2);
  expect(deciding.scale).toMatchObject({ ok: true, attempts: 1 });
  expect(firstCall.at).toBeLessThanOrEqual(deciding.seenAt);
  // Every UpdateService call carries the count the tick decided on.
  expect(firstCall.input.desiredCount).toBe(deciding.desiredCount);
  expect(deciding.desiredCount).toBe(Math.min(20, Math.max(2, Math.ceil(deciding.total / 10))));

  // With the whole load seen, the service settles at ceil(100 / 10) = 10 tasks.
  await waitFor('10 desired tasks', () => ecs.desiredCount === 10, 30_000);
  await waitFor('10 running tasks', () => ecs.runningTasks.length === 10, 30_000);
  expect(sns!.published.length).toBeGreaterThanOrEqual(1);
  expect(sns!.published[0]).toMatchObject({ subject: expect.stringMatching(/^web scales out: 2 -> \d+ tasks$/) });
  expect(deciding.notify).toMatchObject({ ok: true });
  expect(new Set(loop.transitions.map(([, state]) => state))).toEqual(new Set(['Start', 'Tick', 'KeepGoing?', 'WaitForNextTick']));
});
