import { ChildProcess, spawn } from 'child_process';
import * as os from 'os';
import { MetadataTask, TaskMetadataEmulator } from '../support/task-metadata-emulator';
import { namespacesAvailable, TaskNamespace } from '../support/task-namespace';
import { sleep } from '../support/wait-for';

const TASK_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task/local/0123456789abcdef0123456789abcdef';
const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

let emulator: TaskMetadataEmulator | undefined;
let namespace: TaskNamespace | undefined;
const processes: ChildProcess[] = [];

afterEach(async () => {
  // Each process leads its own group: kill the group, descendants included.
  await Promise.all(processes.splice(0).map(p => new Promise<void>(resolve => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    p.once('exit', () => resolve());
    process.kill(-p.pid!, 'SIGKILL');
  })));
  await emulator?.stop();
  emulator = undefined;
  await namespace?.destroy();
  namespace = undefined;
});

function start(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: 'ignore', detached: true });
  processes.push(child);
  return child;
}

/** A process that keeps one core busy for at most 20 s, as the grandchild of `pid` (descendants count). */
function burner(): ChildProcess {
  return start('sh', ['-c', `${process.execPath} -e 'const end = Date.now() + 20000; while (Date.now() < end) {}' & wait`]);
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, text: await res.text() };
}

async function getJson(url: string): Promise<any> {
  const { status, text } = await get(url);
  expect(status).toBe(200);
  return JSON.parse(text);
}

function seconds(rfc3339: string): number {
  const [, whole, fraction = ''] = /^(.*?:\d\d)(?:\.(\d+))?Z$/.exec(rfc3339)!;
  return Date.parse(`${whole}Z`) / 1000 + Number(`0.${fraction || '0'}`);
}

/** Cores used between the two samples of a stats answer. */
function cores(stats: any): number {
  const ns = stats.cpu_stats.cpu_usage.total_usage - stats.precpu_stats.cpu_usage.total_usage;
  return ns / 1e9 / (seconds(stats.read) - seconds(stats.preread));
}

function task(containers: MetadataTask['containers'], extra: Partial<MetadataTask> = {}): MetadataTask {
  return { taskArn: TASK_ARN, cpu: 0.25, memoryMiB: 512, containers, ...extra };
}

test('refuses to listen anywhere but loopback or a task namespace host address', async () => {
  const external = Object.values(os.networkInterfaces()).flat().find(a => a && a.family === 'IPv4' && !a.internal)?.address;
  for (const host of ['0.0.0.0', '10.9.9.9', 'localhost', ...(external ? [external] : [])]) {
    await expect(TaskMetadataEmulator.start(host)).rejects.toThrow(/refusing to serve task metadata/);
  }
});

test('the first answer after addTask has no precpu; then a busy container uses about one core, an idle one about none', async () => {
  emulator = await TaskMetadataEmulator.start('127.0.0.1');
  const busy = burner();
  const idle = start('sleep', ['60']);
  const uris = emulator.addTask(task([
    { name: 'app', pids: () => [busy.pid!] },
    { name: 'proxy', pids: () => [idle.pid!], cpuUnits: 128, memoryMiB: 128 },
  ]));
  expect(Object.keys(uris)).toEqual(['app', 'proxy']);
  expect(uris.app).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v4\/0123456789abcdef0123456789abcdef-\d+$/);

  const first = await getJson(`${uris.app}/stats`);
  expect(first.preread).toBe('0001-01-01T00:00:00Z');
  expect(first.read).toMatch(RFC3339_NANO);
  expect(first.precpu_stats.cpu_usage).toEqual({ total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 });
  expect(first.precpu_stats.system_cpu_usage).toBeUndefined();
  expect(first.cpu_stats.online_cpus).toBe(os.cpus().length);

  await sleep(2300);
  const all = await getJson(`${uris.proxy}/task/stats`);
  const app = all[uris.app.split('/').pop()!];
  const proxy = all[uris.proxy.split('/').pop()!];
  expect(Object.keys(all)).toHaveLength(2);
  for (const s of [app, proxy]) {
    expect(s.read).toMatch(RFC3339_NANO);
    expect(s.preread).toMatch(RFC3339_NANO);
    expect(seconds(s.read) - seconds(s.preread)).toBeGreaterThan(0.8);
    expect(seconds(s.read) - seconds(s.preread)).toBeLessThan(1.5);
    expect(s.cpu_stats.system_cpu_usage).toBeGreaterThan(s.precpu_stats.system_cpu_usage);
    expect(s.cpu_stats.cpu_usage.total_usage).toBe(s.cpu_stats.cpu_usage.usage_in_kernelmode + s.cpu_stats.cpu_usage.usage_in_usermode);
    expect(s.memory_stats.usage).toBeGreaterThan(0);
    expect(s.memory_stats.stats.total_inactive_file).toBe(0);
  }
  expect(cores(app)).toBeGreaterThan(0.5);
  expect(cores(app)).toBeLessThan(1.2);
  expect(cores(proxy)).toBeLessThan(0.1);
  expect(app.name).toBe('app');
  expect(proxy.memory_stats.limit).toBe(128 * 1024 * 1024);
  expect(app.memory_stats.limit).toBeGreaterThan(2 ** 62); // no container limit: cgroup's unlimited
  // The container's own /stats is the same object as its entry in /task/stats.
  expect(Object.keys(await getJson(`${uris.app}/stats`)).sort()).toEqual(Object.keys(app).sort());
});

test('/task carries the task Limits and every container; a stopped container is STOPPED with null stats', async () => {
  emulator = await TaskMetadataEmulator.start('127.0.0.1');
  const app = start('sleep', ['60']);
  const worker = start('sleep', ['60']);
  const uris = emulator.addTask(task([
    { name: 'app', pids: () => [app.pid!], cpuUnits: 256, memoryMiB: 256 },
    { name: 'worker', pids: () => [worker.pid!] },
  ], { serviceName: 'web', family: 'web' }));

  const own = await getJson(uris.app);
  expect(own).toMatchObject({ Name: 'app', DockerName: 'app', KnownStatus: 'RUNNING', Type: 'NORMAL', Limits: { CPU: 256, Memory: 256 } });
  expect(own.DockerId).toBe(uris.app.split('/').pop());
  expect(own.Networks).toBeUndefined(); // no network given

  const meta = await getJson(`${uris.worker}/task`);
  expect(meta).toMatchObject({
    Cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/local',
    TaskARN: TASK_ARN,
    Family: 'web',
    ServiceName: 'web',
    KnownStatus: 'RUNNING',
    LaunchType: 'FARGATE',
    Limits: { CPU: 0.25, Memory: 512 },
  });
  expect(meta.Containers.map((c: any) => [c.Name, c.KnownStatus, c.Limits])).toEqual([
    ['app', 'RUNNING', { CPU: 256, Memory: 256 }],
    ['worker', 'RUNNING', { CPU: 0, Memory: 0 }],
  ]);
  expect(meta.Containers[0].Labels['com.amazonaws.ecs.task-arn']).toBe(TASK_ARN);

  worker.kill('SIGKILL');
  await new Promise(resolve => worker.once('exit', resolve));
  const after = await getJson(`${uris.app}/task`);
  expect(after.Containers[1]).toMatchObject({ Name: 'worker', KnownStatus: 'STOPPED' });
  expect(after.Containers[1].FinishedAt).toMatch(RFC3339_NANO);
  const stats = await getJson(`${uris.app}/task/stats`);
  expect(stats[uris.worker.split('/').pop()!]).toBeNull();
  expect(stats[uris.app.split('/').pop()!]).not.toBeNull();
  expect(await getJson(`${uris.worker}/stats`)).toBeNull();
});

test('injected faults answer garbage, hang or 500 for the next n answers of that task only', async () => {
  emulator = await TaskMetadataEmulator.start('127.0.0.1');
  const app = start('sleep', ['60']);
  const other = start('sleep', ['60']);
  const uris = emulator.addTask(task([{ name: 'app', pids: () => [app.pid!] }]));
  const otherArn = TASK_ARN.replace(/[0-9a-f]{32}$/, 'ffffffffffffffffffffffffffffffff');
  const otherUris = emulator.addTask(task([{ name: 'app', pids: () => [other.pid!] }], { taskArn: otherArn }));

  emulator.injectFault(TASK_ARN, 'error', 2);
  expect((await get(`${uris.app}/task/stats`)).status).toBe(500);
  expect((await get(`${otherUris.app}/task/stats`)).status).toBe(200);
  expect((await get(`${uris.app}/task`)).status).toBe(500);
  expect((await get(`${uris.app}/task`)).status).toBe(200);

  emulator.injectFault(TASK_ARN, 'garbage', 1);
  const garbage = await get(`${uris.app}/task/stats`);
  expect(garbage.status).toBe(200);
  expect(() => JSON.parse(garbage.text)).toThrow();
  await getJson(`${uris.app}/task/stats`);

  emulator.injectFault(TASK_ARN, 'hang', 1);
  await expect(fetch(`${uris.app}/task/stats`, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
  await getJson(`${uris.app}/task/stats`);
});

test('unknown and removed containers answer 404', async () => {
  emulator = await TaskMetadataEmulator.start('127.0.0.1');
  const app = start('sleep', ['60']);
  const uris = emulator.addTask(task([{ name: 'app', pids: () => [app.pid!] }]));
  expect((await get(`${emulator.endpoint}/v4/nope/task`)).status).toBe(404);
  emulator.removeTask(TASK_ARN);
  expect((await get(`${uris.app}/task`)).status).toBe(404);
});

test('inside a task namespace, a container reads ECS_CONTAINER_METADATA_URI_V4 served on the host side of the veth', async () => {
  if (!namespacesAvailable()) throw new Error('network namespaces are not available: this test needs root and a working `ip netns`');
  namespace = await TaskNamespace.create();
  emulator = await TaskMetadataEmulator.start(namespace.hostAddress);
  const app = namespace.spawn('sleep', ['60'], { stdio: 'ignore', detached: true });
  processes.push(app);
  let sidecar: ChildProcess | undefined;
  const uris = emulator.addTask(task([
    { name: 'app', pids: () => [app.pid!] },
    { name: 'sidecar', pids: () => (sidecar?.pid ? [sidecar.pid] : []) },
  ], { network: namespace }));
  expect(uris.sidecar.startsWith(`http://${namespace.hostAddress}:`)).toBe(true);

  // The sidecar, as ECS would start it: with its own URI in the environment; it prints /task after a stats sample.
  const script = `setTimeout(async () => {
    const uri = process.env.ECS_CONTAINER_METADATA_URI_V4;
    const [task, stats] = await Promise.all([fetch(uri + '/task'), fetch(uri + '/task/stats')].map(p => p.then(r => r.json())));
    console.log(JSON.stringify({ task, stats }));
  }, 1500);`;
  sidecar = namespace.spawn(process.execPath, ['-e', script], {
    env: { ...process.env, ECS_CONTAINER_METADATA_URI_V4: uris.sidecar }, stdio: ['ignore', 'pipe', 'inherit'], detached: true,
  });
  processes.push(sidecar);
  const printed = await new Promise<string>((resolve, reject) => {
    let out = '';
    sidecar!.stdout?.on('data', d => (out += d));
    sidecar!.once('exit', code => (code === 0 ? resolve(out) : reject(new Error(`sidecar exited ${code}`))));
  });
  const { task: meta, stats } = JSON.parse(printed);
  expect(meta.Containers.map((c: any) => [c.Name, c.KnownStatus])).toEqual([['app', 'RUNNING'], ['sidecar', 'RUNNING']]);
  expect(meta.Containers[0].Networks[0]).toMatchObject({
    NetworkMode: 'awsvpc', IPv4Addresses: [namespace.address], SubnetGatewayIpv4Address: `${namespace.hostAddress}/30`,
  });
  const appStats = stats[uris.app.split('/').pop()!];
  expect(Object.keys(appStats.networks)).toEqual(['eth1']);
  expect(typeof appStats.networks.eth1.rx_bytes).toBe('number');
  expect(appStats.network_rate_stats).toBeDefined();
});
