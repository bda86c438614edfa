import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { DynaliteServer } from './dynalite-server';
import { EcsEmulator } from './ecs-emulator';
import { EcsRouter } from './ecs-router';
import { LoadGenerator } from './load-generator';
import { LocalApp } from './local-app';
import { proxyPorts, stopAll } from './local-cluster';
import { LocalControlLoop } from './local-control-loop';
import { SnsEmulator } from './sns-emulator';
import { SqsServer } from './sqs-server';
import { FastAutoscaler, FastAutoscalerProps, ScalingLoop, ScalingMetric, ScalingPolicy } from '../../src';

export interface LocalFleetOptions {
  /** How many services join the loop. */
  readonly services: number;
  readonly interval?: Duration;
  /** Each service's props, over a target of 10 connections per task, 2..20 tasks. */
  readonly autoscaler?: (index: number) => Partial<Omit<FastAutoscalerProps, 'service' | 'loop'>>;
  /** Service 0 notifies this emulated topic. @default true */
  readonly withTopic?: boolean;
  readonly startDelayMs?: number;
  readonly initialTasks?: number;
}

/** One service of the fleet: its emulated ECS and its load. */
export interface FleetService {
  readonly name: string;
  readonly ecs: EcsEmulator;
  readonly load: LoadGenerator;
}

/**
 * A shared loop on this machine: one ScalingLoop and `services` FastAutoscalers that joined
 * it, synthesized in one stack; each service in its own emulated cluster behind one ECS
 * endpoint (EcsRouter, where faults are set per cluster), with real nginx tasks; the
 * registrations written into SSM (moto) as the deployment would; the state machine run by
 * aws-local-stepfunctions with the bundled controller.
 */
export class LocalFleet {
  public static async start(o: LocalFleetOptions): Promise<LocalFleet> {
    const parts: Array<{ stop(): Promise<void> | void }> = [];
    try {
      const app = await LocalApp.start(100);
      parts.push(app);
      const template = synthesize(o, app.port);
      const { proxyPort, statusPort } = proxyPorts(template);
      const services: FleetService[] = [];
      for (let i = 0; i < o.services; i++) {
        const emulator = await EcsEmulator.start({
          clusterName: `fleet-${i}`,
          serviceName: `svc-${i}`,
          proxyPort,
          statusPort,
          appPort: app.port,
          addressBlock: 220 + i,
          startDelayMs: o.startDelayMs ?? 1500,
          initialDesiredCount: o.initialTasks ?? 2,
        });
        parts.push(emulator);
        const load = new LoadGenerator(emulator, proxyPort);
        parts.push(load);
        services.push({ name: `svc-${i}`, ecs: emulator, load });
      }
      const router = await EcsRouter.start(Object.fromEntries(services.map(s => [s.ecs.clusterName, s.ecs.endpoint])));
      parts.push(router);
      const sns = (o.withTopic ?? true) ? await SnsEmulator.start() : undefined;
      if (sns) parts.push(sns);
      const dynalite = await DynaliteServer.start();
      parts.push(dynalite);
      // moto serves SSM as it serves SQS.
      const moto = await SqsServer.start();
      parts.push(moto);
      const loop = await LocalControlLoop.start({
        template,
        ecs: { endpoint: router.endpoint },
        sns,
        dynalite,
        registry: {
          ssmEndpoint: moto.endpoint,
          services: Object.fromEntries(services.map((s, i) => [`Fleet/Svc${i}`, {
            clusterArn: s.ecs.clusterArn,
            clusterName: s.ecs.clusterName,
            serviceArn: s.ecs.serviceArn,
            serviceName: s.ecs.serviceName,
            topicArn: i === 0 ? sns?.topicArn : undefined,
          }])),
        },
      });
      parts.push(loop);
      return new LocalFleet(template, services, router, sns, dynalite, loop, parts);
    } catch (err) {
      await stopAll(parts);
      throw err;
    }
  }

  private constructor(
    public readonly template: any,
    public readonly services: readonly FleetService[],
    public readonly router: EcsRouter,
    public readonly sns: SnsEmulator | undefined,
    public readonly dynalite: DynaliteServer,
    public readonly loop: LocalControlLoop,
    private readonly parts: Array<{ stop(): Promise<void> | void }>,
  ) {}

  /** The ticks of one service, by its name. */
  public ticksOf(name: string) {
    return this.loop.ticks.filter(t => t.ecsService === name);
  }

  public stop(): Promise<void> {
    return stopAll(this.parts);
  }

}

function synthesize(o: LocalFleetOptions, appPort: number): any {
  const app = new App();
  const stack = new Stack(app, 'Fleet', { env: { account: '123456789012', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const loop = new ScalingLoop(stack, 'Loop', { vpc, interval: o.interval ?? Duration.seconds(1) });
  const topic = (o.withTopic ?? true) ? new Topic(stack, 'Topic') : undefined;
  for (let i = 0; i < o.services; i++) {
    const cluster = new ecs.Cluster(stack, `Cluster${i}`, { vpc });
    const taskDefinition = new ecs.FargateTaskDefinition(stack, `Task${i}`);
    taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/httpd:2.4'), portMappings: [{ containerPort: appPort }] });
    new FastAutoscaler(stack, `Svc${i}`, {
      service: new ecs.FargateService(stack, `Service${i}`, { cluster, taskDefinition }),
      policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 10 }),
      minTasks: 2,
      maxTasks: 20,
      loop,
      topic: i === 0 ? topic : undefined,
      ...o.autoscaler?.(i),
    });
  }
  return Template.fromStack(stack).toJSON();
}
