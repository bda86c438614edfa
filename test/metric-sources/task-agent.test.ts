import { ChildProcess, spawnSync } from 'child_process';
import * as net from 'net';
import { scrapeOne } from '../../src/controller/read/scraper';
import { readerFor } from '../../src/controller/read/task-reading';
import { AGENT_CONTAINER_NAME, awkPorts, CONNECTION_COUNT_AWK } from '../../src/metric-sources/task-agent-sidecar';
import { spawnAgent, synthesizedAgent } from '../support/agent-task';
import { BUSYBOX_BINARY } from '../support/busybox';
import { waitForPort } from '../support/nginx-task';
import { TaskNamespace } from '../support/task-namespace';
import { waitFor } from '../support/wait-for';

const APP_PORT = 8080;
const STATUS_PORT = 8022;

/** The agent's container as the construct synthesizes it, watching the app's port 8080. */
function agentContainer(): any {
  const agent = synthesizedAgent(APP_PORT);
  expect(agent.Name).toBe(AGENT_CONTAINER_NAME);
  return agent;
}

/**
 * The app inside the task's namespace: it holds every connection it accepts (half-open too,
 * so that a client's close leaves it in CLOSE_WAIT), closes first on "bye" (leaving it in
 * TIME_WAIT), and opens `outbound` connections of its own to host:port.
 */
const APP = `
const net = require('net');
const [host, port, outboundHost, outboundPort, outbound] = process.argv.slice(1);
const held = [];
net.createServer({ allowHalfOpen: true }, s => {
  held.push(s);
  s.on('data', d => { if (String(d).includes('bye')) s.end(); });
  s.on('error', () => {});
}).listen(Number(port), host, () => {
  for (let i = 0; i < Number(outbound); i++) held.push(net.connect(Number(outboundPort), outboundHost).on('error', () => {}));
});
`;

let ns: TaskNamespace | undefined;
const children: ChildProcess[] = [];
const clients: net.Socket[] = [];
let outboundServer: net.Server | undefined;
/** Connections the app opened to the host (its "database"). */
let outboundAccepted = 0;
afterEach(async () => {
  clients.splice(0).forEach(c => c.destroy());
  for (const c of children.splice(0)) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      c.kill('SIGKILL');
    }
    if (c.exitCode === null && c.signalCode === null) await new Promise(r => c.once('exit', r));
  }
  await new Promise<void>(r => (outboundServer ? outboundServer.close(() => r()) : r()));
  outboundServer = undefined;
  await ns?.destroy();
  ns = undefined;
});

async function taskWithApp(listenOn: string, outbound = 0): Promise<TaskNamespace> {
  const task = await TaskNamespace.create();
  ns = task;
  outboundAccepted = 0;
  outboundServer = net.createServer(s => {
    outboundAccepted++;
    s.on('error', () => undefined);
  });
  await new Promise<void>(r => outboundServer!.listen(0, task.hostAddress, r));
  const outboundPort = (outboundServer.address() as net.AddressInfo).port;
  const app = task.spawn(process.execPath, ['-e', APP, listenOn, String(APP_PORT), task.hostAddress, String(outboundPort), String(outbound)], { stdio: 'ignore', detached: true });
  children.push(app);
  const agent = spawnAgent(task, agentContainer());
  children.push(agent);
  await waitForPort(task.address, APP_PORT, 10_000, () => app.exitCode !== null);
  await waitForPort(task.address, STATUS_PORT, 10_000, () => agent.exitCode !== null);
  return task;
}

async function connect(task: TaskNamespace, n: number): Promise<net.Socket[]> {
  const opened = await Promise.all(Array.from({ length: n }, () => new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(APP_PORT, task.address, () => resolve(s)).once('error', reject);
  })));
  clients.push(...opened);
  return opened;
}

const CONNECTIONS = readerFor({ source: { type: 'taskAgent' }, policy: { type: 'targetTracking', metric: 'ACTIVE_CONNECTIONS', targetPerTask: 1 } });
async function read(task: TaskNamespace): Promise<number | undefined> {
  const r = await scrapeOne({ taskId: 't', address: task.address }, STATUS_PORT, 3000, CONNECTIONS);
  if (!r.ok) throw new Error(r.reason);
  return r.connections;
}

describe('the task agent, run as synthesized, in a task network namespace with real sockets', () => {
  test('N established inbound connections on the app port read as N; its own status read and the app\'s outbound connections do not count', async () => {
    const task = await taskWithApp('0.0.0.0', 5);
    await waitFor('the app\'s 5 outbound connections', () => outboundAccepted === 5, 5000);
    expect(await read(task)).toBe(0);
    await connect(task, 25);
    expect(await read(task)).toBe(25);
    await connect(task, 15);
    expect(await read(task)).toBe(40);
  });

  test('CLOSE_WAIT (the client has gone) and TIME_WAIT (closed) are left out', async () => {
    const task = await taskWithApp('0.0.0.0');
    const [a, b, c, d] = await connect(task, 4);
    expect(await read(task)).toBe(4);
    // The client closes; the app never does: its socket waits in CLOSE_WAIT.
    a.end();
    // The app closes first, then the client: the app's socket waits in TIME_WAIT.
    b.on('end', () => b.end()).write('bye');
    await new Promise(r => b.once('close', r));
    const states = () => spawnSync('ip', ['netns', 'exec', task.name, 'cat', '/proc/net/tcp'], { encoding: 'utf8' }).stdout;
    await waitFor('CLOSE_WAIT and TIME_WAIT in /proc/net/tcp', () => / 08 /.test(states()) && / 06 /.test(states()), 5000);
    expect(await read(task)).toBe(2);
    c.destroy();
    d.destroy();
  });

  test('an app listening on :: counts its IPv4 clients once (IPv4-mapped addresses in tcp6)', async () => {
    const task = await taskWithApp('::');
    await connect(task, 7);
    const tcp6 = spawnSync('ip', ['netns', 'exec', task.name, 'cat', '/proc/net/tcp6'], { encoding: 'utf8' }).stdout;
    expect(tcp6).toMatch(/0000000000000000FFFF0000[0-9A-F]{8}:1F90 .* 01 /);
    expect(await read(task)).toBe(7);
  });
});

describe('the agent\'s connection count, over /proc/net/tcp rows as the kernel writes them (BusyBox awk)', () => {
  const row = (i: number, local: string, state: string) =>
    `  ${i}: ${local} 0200000A:C350 ${state} 00000000:00000000 00:00000000 00000000     0        0 ${1000 + i} 1 0000000000000000 20 4 30 10 -1`;
  const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
  const count = (table: string, ports: number[]) => {
    const r = spawnSync(BUSYBOX_BINARY, ['awk', '-v', `ports=${awkPorts(ports)}`, CONNECTION_COUNT_AWK], { input: table, encoding: 'utf8' });
    return Number(r.stdout.trim());
  };

  test('counts ESTABLISHED on the app\'s ports only: not LISTEN, SYN_RECV, TIME_WAIT, CLOSE_WAIT or other ports', () => {
    const table = [
      header,
      row(0, '00000000:1F90', '0A'), // LISTEN
      row(1, '0200000A:1F90', '01'),
      row(2, '0200000A:1F90', '03'), // SYN_RECV
      row(3, '0200000A:1F90', '06'), // TIME_WAIT
      row(4, '0200000A:1F90', '08'), // CLOSE_WAIT
      row(5, '0200000A:C350', '01'), // an outbound connection from an ephemeral port
      row(6, '0200000A:01BB', '01'), // port 443, a second app port
      header.replace('local_address', 'local_address                         '),
      row(7, '0000000000000000FFFF00000200000A:1F90', '01'), // tcp6, IPv4-mapped
    ].join('\n');
    expect(count(table, [8080])).toBe(2);
    expect(count(table, [8080, 443])).toBe(3);
  });

  test('12,000 sockets', () => {
    const rows = Array.from({ length: 12_000 }, (_, i) => row(i, '0200000A:1F90', i % 3 === 0 ? '06' : '01'));
    expect(count([header, ...rows].join('\n'), [8080])).toBe(8000);
  });
});
