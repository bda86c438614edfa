import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { DynaliteServer } from './dynalite-server';
import { EcsEmulator, TaskRuntime } from './ecs-emulator';
import { LoadGenerator } from './load-generator';
import { LocalApp } from './local-app';
import { LocalControlLoop, TickLog } from './local-control-loop';
import { SnsEmulator } from './sns-emulator';
import { fargateService } from './typical-stack';
import { FastAutoscaler, FastAutoscalerProps, MetricSource, ScalingMetric, ScalingPolicy, SqsQueueSourceOptions } from '../../src';
import { PROXY_CONTAINER_NAME, PROXY_INIT_CONTAINER_NAME } from '../../src/metric-sources/proxy-sidecar';

export interface LocalClusterOptions {
  /** The autoscaler's props, over a target of 10 connections per task, 2..20 tasks. */
  readonly autoscaler?: Partial<Omit<FastAutoscalerProps, 'service'>>;
  /** Synthesize an SNS topic and publish to the emulator. @default true */
  readonly withTopic?: boolean;
  readonly initialTasks?: number;
  /** How long a new task takes to run. @default 2000 */
  readonly startDelayMs?: number;
  /** How long a new task runs before the load reaches it (a load balancer's health checks). @default 0 */
  readonly healthyAfterMs?: number;
  /** How long a stopping task keeps running with its connections (deregistration delay). @default 0 */
  readonly drainMs?: number;
  /** How long the app takes to answer: keeps requests in flight. @default 100 */
  readonly appDelayMs?: number;
  readonly onTick?: (tick: TickLog) => void;
  /** Scales the schedule's minute and the run length (see LocalControlLoopOptions). @default 1 */
  readonly timeScale?: number;
  /**
   * What runs each task, given the synthesized template: its runtime, the port the load goes
   * to, and what to stop afterwards. @default one real nginx proxy per task, as the task definition has it
   */
  readonly tasks?: (template: any, app: LocalApp) => Promise<LocalTasks>;
  /**
   * A queue worker: the stack gets a queue, read through `MetricSource.sqsQueue` (the
   * autoscaler's other props still apply), which the template's queue stands for on this server.
   */
  readonly queue?: { readonly endpoint: string; readonly url: string; readonly options?: SqsQueueSourceOptions };
  /**
   * Puts something between the function and the emulators (fault proxies): the endpoints it
   * gives, by service, replace the emulators' own for the function alone.
   */
  readonly interpose?: (parts: { readonly ecs: EcsEmulator; readonly dynalite: DynaliteServer; readonly sns?: SnsEmulator })
  => Promise<{ readonly endpoints: Record<string, string>; stop(): Promise<void> }>;
}

/** How a local cluster runs its tasks. */
export interface LocalTasks {
  readonly runtime?: TaskRuntime;
  /** The port the load generator sends load to on each task. */
  readonly loadPort: number;
  stop?(): Promise<void>;
}

/** The default: each task runs the proxy configuration the task definition carries, in a real nginx. */
async function proxyTasks(template: any): Promise<LocalTasks> {
  return { loadPort: proxyPorts(template).proxyPort };
}

let clustersStarted = 0;

/**
 * Everything of the autoscaler that can run on one machine: a synthesized stack, the ECS
 * and SNS emulators with real nginx tasks, dynalite, the state machine in
 * aws-local-stepfunctions with the bundled handler, and autocannon for load.
 */
export class LocalCluster {
  public static async start(o: LocalClusterOptions = {}): Promise<LocalCluster> {
    const parts: Array<{ stop(): Promise<void> | void }> = [];
    try {
      const app = await LocalApp.start(o.appDelayMs ?? 100);
      parts.push(app);
      const template = synthesize(o, app.port);
      const tasks = await (o.tasks ?? proxyTasks)(template, app);
      if (tasks.stop) parts.push({ stop: () => tasks.stop!() });
      const { proxyPort, statusPort } = tasks.runtime ? { proxyPort: 0, statusPort: 0 } : proxyPorts(template);
      // Each cluster gets its own 127.N.0.0/16 block, so that parallel test files never share an address.
      // LOCAL_CLUSTER_BLOCK_OFFSET keeps concurrent jest runs on one machine apart (nginx binds with reuseport,
      // so two runs on the same addresses would silently share each other's load).
      const offset = Number(process.env.LOCAL_CLUSTER_BLOCK_OFFSET ?? 0);
      const addressBlock = 20 + (offset + Number(process.env.JEST_WORKER_ID ?? 0) * 40 + clustersStarted++) % 200;
      const ecs = await EcsEmulator.start({
        proxyPort,
        statusPort,
        appPort: app.port,
        addressBlock,
        startDelayMs: o.startDelayMs ?? 2000,
        drainMs: o.drainMs,
        initialDesiredCount: o.initialTasks ?? 2,
        runtime: tasks.runtime,
      });
      parts.push(ecs);
      const snsEmulator = (o.withTopic ?? true) ? await SnsEmulator.start() : undefined;
      if (snsEmulator) parts.push(snsEmulator);
      const dynalite = await DynaliteServer.start();
      parts.push(dynalite);
      const interposed = o.interpose ? await o.interpose({ ecs, dynalite, sns: snsEmulator }) : undefined;
      if (interposed) parts.push(interposed);
      const loop = await LocalControlLoop.start({
        endpoints: interposed?.endpoints,
        template,
        ecs,
        sns: snsEmulator,
        dynalite,
        onTick: o.onTick,
        timeScale: o.timeScale,
        ...(o.queue ? { sqs: { endpoint: o.queue.endpoint, queueUrl: o.queue.url } } : {}),
      });
      parts.push(loop);
      const load = new LoadGenerator(ecs, tasks.loadPort, o.healthyAfterMs);
      parts.push(load);
      return new LocalCluster(template, app, ecs, snsEmulator, dynalite, loop, load, parts);
    } catch (err) {
      await stopAll(parts);
      throw err;
    }
  }

  private constructor(
    public readonly template: any,
    public readonly app: LocalApp,
    public readonly ecs: EcsEmulator,
    public readonly sns: SnsEmulator | undefined,
    public readonly dynalite: DynaliteServer,
    public readonly loop: LocalControlLoop,
    public readonly load: LoadGenerator,
    private readonly parts: Array<{ stop(): Promise<void> | void }>,
  ) {}

  /** Stops everything that was started, newest first, even if some part fails to stop. */
  public stop(): Promise<void> {
    return stopAll(this.parts);
  }
}

/** Stops every part, newest first, even if some part fails to stop. */
export async function stopAll(parts: ReadonlyArray<{ stop(): Promise<void> | void }>) {
  for (const part of [...parts].reverse()) {
    try {
      await part.stop();
    } catch {
      // keep stopping the rest
    }
  }
}

function synthesize(o: LocalClusterOptions, appPort: number): any {
  const app = new App();
  const stack = new Stack(app, 'Local', { env: { account: '123456789012', region: 'eu-west-1' } });
  const { service } = fargateService(stack, undefined, appPort);
  const topic = (o.withTopic ?? true) ? new Topic(stack, 'Topic') : undefined;
  const queue = o.queue ? new Queue(stack, 'Jobs') : undefined;
  new FastAutoscaler(stack, 'Autoscaler', {
    service,
    policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 10 }),
    minTasks: 2,
    maxTasks: 20,
    topic,
    ...(queue ? { metricSource: MetricSource.sqsQueue(queue, o.queue?.options) } : {}),
    ...o.autoscaler,
  });
  return Template.fromStack(stack).toJSON();
}

/** The proxy's ports, as the synthesized task definition has them. */
export function proxyPorts(template: any): { proxyPort: number; statusPort: number; nginxConfig: string } {
  for (const resource of Object.values(template.Resources) as any[]) {
    if (resource.Type !== 'AWS::ECS::TaskDefinition') continue;
    const containers = resource.Properties.ContainerDefinitions;
    const proxy = containers.find((c: any) => c.Name === PROXY_CONTAINER_NAME);
    const init = containers.find((c: any) => c.Name === PROXY_INIT_CONTAINER_NAME);
    if (!proxy || !init) continue;
    return {
      proxyPort: proxy.PortMappings[0].ContainerPort,
      statusPort: proxy.PortMappings[1].ContainerPort,
      nginxConfig: init.Environment[0].Value,
    };
  }
  throw new Error('no proxy sidecar in the template');
}
