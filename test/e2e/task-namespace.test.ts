import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { namespacesAvailable, TaskNamespace } from '../support/task-namespace';

const namespaces: TaskNamespace[] = [];
const children: ChildProcess[] = [];

beforeAll(() => {
  if (!namespacesAvailable()) {
    throw new Error('network namespaces are not available: these tests need root and a working `ip netns` (iproute2)');
  }
});

afterEach(async () => {
  await Promise.all(children.splice(0).map(stop));
  await Promise.all(namespaces.splice(0).map(ns => ns.destroy()));
});

async function create(): Promise<TaskNamespace> {
  const ns = await TaskNamespace.create();
  namespaces.push(ns);
  return ns;
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise(resolve => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Runs `command` inside `ns` to completion; resolves with its stdout. */
function runIn(ns: TaskNamespace, command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = ns.spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.on('data', d => (out += d));
    child.stderr?.on('data', d => (err += d));
    child.once('error', reject);
    child.once('close', code => (code === 0 ? resolve(out) : reject(new Error(`${command} exited ${code}: ${err}`))));
  });
}

/** Starts a TCP server inside `ns` on 0.0.0.0 that greets every connection; resolves with its port. */
function serveIn(ns: TaskNamespace, greeting: string): Promise<number> {
  const script = "const s = require('net').createServer(c => c.end(process.argv[1])); s.listen(0, '0.0.0.0', () => console.log(s.address().port));";
  const child = ns.spawn(process.execPath, ['-e', script, greeting], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', d => resolve(Number(String(d).trim())));
    child.once('exit', code => reject(new Error(`server in ${ns.name} exited ${code}`)));
  });
}

function readFrom(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = net.connect({ host, port });
    socket.on('data', d => (data += d));
    socket.once('end', () => resolve(data));
    socket.once('error', reject);
  });
}

/** The ports in LISTEN state (st 0A) in a /proc/net/tcp listing. */
function listeningPorts(procNetTcp: string): number[] {
  return procNetTcp.trim().split('\n').slice(1).map(l => l.trim().split(/\s+/))
    .filter(cols => cols[3] === '0A').map(cols => parseInt(cols[1].split(':')[1], 16));
}

function sameSlash30(a: string, b: string): boolean {
  const last = (s: string) => Number(s.split('.')[3]);
  return a.split('.').slice(0, 3).join('.') === b.split('.').slice(0, 3).join('.') && Math.floor(last(a) / 4) === Math.floor(last(b) / 4);
}

test('two namespaces get their own names and /30s in 10.0.0.0/8, lo up and no route beyond the /30', async () => {
  const started = Date.now();
  const [a, b] = await Promise.all([create(), create()]);
  const createMs = Date.now() - started;
  expect(a.name).not.toBe(b.name);
  expect(a.address).not.toBe(b.address);
  for (const ns of [a, b]) {
    expect(ns.address).toMatch(/^10\.\d+\.\d+\.\d+$/);
    expect(sameSlash30(ns.address, ns.hostAddress)).toBe(true);
    expect(ns.hostInterface.length).toBeLessThanOrEqual(15);
    const links = await runIn(ns, 'ip', ['-br', 'addr']);
    expect(links).toMatch(/^lo\s+UNKNOWN\s+127\.0\.0\.1\/8/m);
    expect(links).toMatch(new RegExp(`^eth1@\\S+\\s+UP\\s+${ns.address.replace(/\./g, '\\.')}/30`, 'm'));
    // Only the connected /30: nothing inside can reach past the host side of its veth.
    expect((await runIn(ns, 'ip', ['-4', 'route'])).trim().split('\n')).toHaveLength(1);
  }
  expect(createMs).toBeLessThan(2000);
});

test('a server on 0.0.0.0 inside the namespace is reachable from the host at the task address', async () => {
  const ns = await create();
  const port = await serveIn(ns, 'hello from the task');
  expect(await readFrom(ns.address, port)).toBe('hello from the task');
});

test('a server on hostAddress in the host namespace is reachable from inside', async () => {
  const ns = await create();
  const server = net.createServer(c => c.end('hello from the host'));
  await new Promise<void>(resolve => server.listen(0, ns.hostAddress, resolve));
  try {
    const port = (server.address() as net.AddressInfo).port;
    const client = "require('net').connect(Number(process.argv[2]), process.argv[1]).on('data', d => process.stdout.write(d));";
    expect(await runIn(ns, process.execPath, ['-e', client, ns.hostAddress, String(port)])).toBe('hello from the host');
  } finally {
    await new Promise(resolve => server.close(resolve));
  }
});

test("/proc/net/tcp inside a namespace lists its own sockets, never another namespace's", async () => {
  const [a, b] = await Promise.all([create(), create()]);
  const [portA, portB] = await Promise.all([serveIn(a, 'a'), serveIn(b, 'b')]);
  const seenByA = listeningPorts(await runIn(a, 'cat', ['/proc/net/tcp']));
  const seenByB = listeningPorts(await runIn(b, 'cat', ['/proc/net/tcp']));
  expect(seenByA).toContain(portA);
  expect(seenByB).toContain(portB);
  if (portA !== portB) {
    expect(seenByA).not.toContain(portB);
    expect(seenByB).not.toContain(portA);
  }
  // A sidecar in the same namespace sees the app's socket (the same listing, from another process).
  expect(listeningPorts(await runIn(a, process.execPath, ['-e', "process.stdout.write(require('fs').readFileSync('/proc/net/tcp'))"]))).toContain(portA);
});

test('destroy removes the namespace and both ends of the veth, and may be called twice', async () => {
  const ns = await create();
  expect(fs.existsSync(`/run/netns/${ns.name}`)).toBe(true);
  expect(fs.existsSync(`/sys/class/net/${ns.hostInterface}`)).toBe(true);
  const started = Date.now();
  await ns.destroy();
  const destroyMs = Date.now() - started;
  await ns.destroy();
  expect(fs.existsSync(`/run/netns/${ns.name}`)).toBe(false);
  expect(fs.existsSync(`/sys/class/net/${ns.hostInterface}`)).toBe(false);
  expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain(ns.name);
  expect(destroyMs).toBeLessThan(2000);
});

test('create removes a namespace left behind by a process that is gone, and what still runs in it', async () => {
  const deadPid = spawnSync('true').pid;
  const index = 4_000_000 + (process.pid % 100_000);
  const name = `fatask-${deadPid}-${index}`;
  const made = spawnSync('ip', ['-batch', '-'], {
    input: `netns add ${name}\nlink add fat${index} type veth peer name eth1 netns ${name}\n`, encoding: 'utf8',
  });
  expect(made.stderr).toBe('');
  const orphan = spawn('ip', ['netns', 'exec', name, 'sleep', '300'], { stdio: 'ignore' });
  children.push(orphan);
  const orphanGone = new Promise(resolve => orphan.once('exit', resolve));
  await new Promise(resolve => setTimeout(resolve, 100));

  await create();
  expect(fs.existsSync(`/run/netns/${name}`)).toBe(false);
  expect(fs.existsSync(`/sys/class/net/fat${index}`)).toBe(false);
  expect(await orphanGone).toBe(null); // exit code null: killed by a signal
});

test('namespaces made by concurrent processes never share a name or an address', async () => {
  // Two other processes (as two jest workers or two jest runs would) create four namespaces each, as this one does.
  const script = `
    const { TaskNamespace } = require('./test/support/task-namespace');
    Promise.all([1, 2, 3, 4].map(() => TaskNamespace.create())).then(all => {
      console.log(JSON.stringify(all.map(ns => ({ name: ns.name, address: ns.address, hostAddress: ns.hostAddress }))));
      process.stdin.on('end', () => Promise.all(all.map(ns => ns.destroy())).then(() => process.exit(0))).resume();
    });`;
  const others = [1, 2].map(() => spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: path.join(__dirname, '..', '..'), stdio: ['pipe', 'pipe', 'inherit'],
  }));
  children.push(...others);
  const fromOthers = others.map(child => new Promise<Array<Record<string, string>>>((resolve, reject) => {
    child.stdout?.once('data', d => resolve(JSON.parse(String(d))));
    child.once('exit', code => reject(new Error(`helper exited ${code}`)));
  }));
  const mine = await Promise.all([1, 2, 3, 4].map(() => create()));
  const all = [...mine.map(ns => ({ name: ns.name, address: ns.address, hostAddress: ns.hostAddress })), ...(await Promise.all(fromOthers)).flat()];
  expect(all).toHaveLength(12);
  expect(new Set(all.map(ns => ns.name)).size).toBe(12);
  expect(new Set(all.flatMap(ns => [ns.address, ns.hostAddress])).size).toBe(24);
  await Promise.all(others.map(child => new Promise(resolve => {
    child.once('exit', resolve);
    child.stdin?.end();
  })));
  for (const ns of all) expect(fs.existsSync(`/run/netns/${ns.name}`)).toBe(!!mine.find(m => m.name === ns.name));
});
