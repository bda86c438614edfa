import { ChildProcess } from 'child_process';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { busyboxApplets } from './busybox';
import { TaskContainers, TaskRuntime } from './ecs-emulator';
import { waitForPort } from './nginx-task';
import { TaskMetadataEmulator } from './task-metadata-emulator';
import { TaskNamespace } from './task-namespace';
import { fargateService } from './typical-stack';
import { FastAutoscaler, MetricSource, ScalingMetric, ScalingPolicy } from '../../src';
import { AGENT_CONTAINER_NAME } from '../../src/metric-sources/task-agent-sidecar';

/** What the app container of each emulated task runs (test/support/task-app.js). */
export interface TaskApp {
  readonly mode: 'http1' | 'h2';
  readonly port: number;
  /** http1: how long each request waits; h2: how much CPU each stream burns. */
  readonly ms: number;
  /**
   * How often the emulated metadata endpoint samples the task's stats. AWS does not document
   * it; one public capture from Fargate shows samples 10 s apart. @default 1000
   */
  readonly statsSampleMs?: number;
}

/**
 * Emulated tasks with the task agent beside the app and nothing in front of it, as an awsvpc
 * task on Fargate: each task is a network namespace of its own (test/support/task-namespace.ts)
 * holding the app and the agent, so that the agent's /proc/net/tcp lists exactly the task's
 * sockets; the agent runs the command, environment and user the synthesized task definition
 * gives it, with BusyBox's applets as the stock image has them, and reads the task metadata
 * endpoint v4 from an emulator on the host side of the task's veth
 * (test/support/task-metadata-emulator.ts), whose stats are the task's real processes' CPU and memory.
 */
export function agentTasks(template: any, app: TaskApp): TaskRuntime {
  const { agent, cpu, memoryMiB } = agentOf(template);
  return { start: task => startAgentTask(task.arn, agent, app, cpu, memoryMiB) };
}

async function startAgentTask(taskArn: string, agent: any, app: TaskApp, cpu: number, memoryMiB: number): Promise<TaskContainers> {
  const ns = await TaskNamespace.create();
  const processes: ChildProcess[] = [];
  let metadata: TaskMetadataEmulator | undefined;
  const stop = async () => {
    // The agent forks a shell per request: its whole process group goes.
    for (const p of processes) {
      try {
        process.kill(-p.pid!, 'SIGKILL');
      } catch {
        p.kill('SIGKILL');
      }
    }
    await Promise.all(processes.map(p => (p.exitCode !== null || p.signalCode !== null ? undefined : new Promise(r => p.once('exit', r)))));
    await metadata?.stop();
    await ns.destroy();
  };
  try {
    metadata = await TaskMetadataEmulator.start(ns.hostAddress, { sampleIntervalMs: app.statsSampleMs });
    const appProcess = ns.spawn(process.execPath, [path.join(__dirname, 'task-app.js'), app.mode, String(app.port), String(app.ms)], {
      stdio: 'ignore', detached: true,
    });
    processes.push(appProcess);
    let agentProcess: ChildProcess | undefined;
    const uris = metadata.addTask({
      taskArn,
      cpu,
      memoryMiB,
      containers: [
        { name: 'app', pids: () => (appProcess.pid ? [appProcess.pid] : []) },
        { name: AGENT_CONTAINER_NAME, pids: () => (agentProcess?.pid ? [agentProcess.pid] : []) },
      ],
    });
    agentProcess = spawnAgent(ns, agent, uris[AGENT_CONTAINER_NAME]);
    processes.push(agentProcess);
    await waitForPort(ns.address, app.port, 10_000, () => appProcess.exitCode !== null);
    await waitForPort(ns.address, agent.PortMappings[0].ContainerPort, 10_000, () => agentProcess!.exitCode !== null);
    return { address: ns.address, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Runs the agent's container definition inside the namespace: its entry point and command,
 * its environment, as its user with no capabilities (setpriv), BusyBox's applets on PATH. In
 * a process group of its own (the group's id is the returned pid), with the shells it forks.
 */
export function spawnAgent(ns: TaskNamespace, agent: any, metadataUri?: string): ChildProcess {
  const applets = busyboxApplets();
  const [uid, gid] = String(agent.User).split(':');
  const environment = Object.fromEntries((agent.Environment ?? []).map((e: any) => [e.Name, e.Value]));
  // PATH holds only the applets inside the container (env sets it there): `ip` itself must still be the host's.
  return ns.spawn('setpriv', [
    '--reuid', uid, '--regid', gid ?? uid, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all',
    '/usr/bin/env', `PATH=${applets}`,
    path.join(applets, path.basename(agent.EntryPoint[0])), ...agent.EntryPoint.slice(1), ...agent.Command,
  ], {
    stdio: 'ignore',
    detached: true,
    env: { PATH: process.env.PATH, ...environment, ...(metadataUri ? { ECS_CONTAINER_METADATA_URI_V4: metadataUri } : {}) },
  });
}

/**
 * The agent's container as the construct synthesizes it for an app on `appPort`, scaled on
 * connections: what the agent's tests and benchmark run.
 */
export function synthesizedAgent(appPort: number): any {
  const stack = new Stack(new App(), 'Agent', { env: { account: '123456789012', region: 'eu-west-1' } });
  const { service } = fargateService(stack, undefined, appPort);
  new FastAutoscaler(stack, 'Autoscaler', {
    service,
    metricSource: MetricSource.taskAgent(),
    policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 100 }),
    maxTasks: 10,
  });
  return agentOf(Template.fromStack(stack).toJSON()).agent;
}

/** The agent's container and the task's limits, as the synthesized task definition has them. */
export function agentOf(template: any): { agent: any; cpu: number; memoryMiB: number } {
  for (const resource of Object.values(template.Resources) as any[]) {
    if (resource.Type !== 'AWS::ECS::TaskDefinition') continue;
    const agent = resource.Properties.ContainerDefinitions.find((c: any) => c.Name === AGENT_CONTAINER_NAME);
    if (agent) return { agent, cpu: Number(resource.Properties.Cpu) / 1024, memoryMiB: Number(resource.Properties.Memory) };
  }
  throw new Error('no task agent in the template');
}
