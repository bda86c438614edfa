import { ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { StateMachine as StateMachineClass } from 'aws-local-stepfunctions' with { 'resolution-mode': 'import' };
import { loopbackClientConfig } from './aws-loopback';
import { CfnResolver } from './cfn-resolver';
import { DynaliteServer } from './dynalite-server';
import { EcsEmulator } from './ecs-emulator';
import { LambdaHost, TICK_BUNDLE } from './lambda-host';
import { SnsEmulator } from './sns-emulator';
import { CONFIG_ENV, ControllerConfig } from '../../src/controller/controller-config';
import { TickResult } from '../../src/controller/tick';

// The package is ESM-first; its CommonJS build is what this CommonJS test code loads.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { StateMachine } = require('aws-local-stepfunctions') as { StateMachine: typeof StateMachineClass };

/** One tick as the function logged it, with when the parent saw it. */
export interface TickLog extends Omit<TickResult, 'figures' | 'notify' | 'subject' | 'message'> {
  readonly runId: string;
  readonly timestamp: string;
  readonly total: number;
  readonly perTask: number;
  readonly running: number;
  readonly starting: number;
  readonly scraped: number;
  readonly failed: number;
  readonly scrapeMs: number;
  readonly perTaskValues: Record<string, number | null>;
  readonly seenAt: number;
}

export interface RunHandle {
  readonly name: string;
  readonly startedAt: number;
  /** The execution's output, or the error it failed with. */
  readonly done: Promise<{ ok: true; output: unknown } | { ok: false; error: string }>;
  abort(): void;
}

export interface LocalControlLoopOptions {
  /** The synthesized template holding one FastAutoscaler. */
  readonly template: any;
  readonly ecs: EcsEmulator;
  readonly dynalite: DynaliteServer;
  readonly sns?: SnsEmulator;
  /** How often the "schedule" starts a run. @default 60000, as EventBridge Scheduler's rate(1 minute) */
  readonly schedulePeriodMs?: number;
  readonly onTick?: (tick: TickLog) => void;
}

/**
 * The control loop as deployed, on this machine: the synthesized state machine definition
 * runs in aws-local-stepfunctions; its Lambda task runs the bundled handler with the
 * template's environment; the ECS and SNS SDK integrations call the loopback emulators
 * through the real AWS SDK, naming errors as Step Functions does (`Ecs.ThrottlingException`).
 */
export class LocalControlLoop {
  public static async start(o: LocalControlLoopOptions): Promise<LocalControlLoop> {
    const resolver = new CfnResolver(o.template, {
      clusterArn: o.ecs.clusterArn,
      clusterName: o.ecs.clusterName,
      serviceArn: o.ecs.serviceArn,
      serviceName: o.ecs.serviceName,
      topicArn: o.sns?.topicArn,
    });
    const resources = Object.entries(o.template.Resources) as Array<[string, any]>;
    const [, machine] = resources.find(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine') ?? [];
    const [, fn] = resources.find(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.[CONFIG_ENV]) ?? [];
    if (!machine || !fn) throw new Error('the template holds no FastAutoscaler');
    const definition = JSON.parse(resolver.resolve(machine.Properties.DefinitionString));
    const environment = resolver.resolve(fn.Properties.Environment.Variables) as Record<string, string>;
    const config = JSON.parse(environment[CONFIG_ENV]) as ControllerConfig;
    await o.dynalite.createStateTable(config.table);

    const loop = new LocalControlLoop(o, definition, config);
    loop.lambda = await LambdaHost.start({
      bundle: TICK_BUNDLE,
      environment,
      endpoints: { ecs: o.ecs.endpoint, dynamodb: o.dynalite.endpoint },
      onLog: line => loop.onLog(line),
    });
    return loop;
  }

  public readonly ticks: TickLog[] = [];
  public readonly runs: RunHandle[] = [];
  /** Every state the executions entered, in order: [run, state]. */
  public readonly transitions: Array<[string, string]> = [];
  private lambda!: LambdaHost;
  private readonly machine: StateMachineClass;
  private readonly ecsClient: ECSClient;
  private readonly snsClient?: SNSClient;
  private schedule?: NodeJS.Timeout;
  private runCounter = 0;

  private constructor(private readonly o: LocalControlLoopOptions, public readonly definition: any, public readonly config: ControllerConfig) {
    this.machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
    // Step Functions calls an SDK integration once; the definition's Retry does the rest.
    this.ecsClient = new ECSClient({ ...loopbackClientConfig(o.ecs.endpoint), maxAttempts: 1 });
    this.snsClient = o.sns ? new SNSClient({ ...loopbackClientConfig(o.sns.endpoint), maxAttempts: 1 }) : undefined;
  }

  /** Starts one execution, as the schedule does. */
  public startRun(): RunHandle {
    const name = `run-${++this.runCounter}-${Date.now()}`;
    const startedAt = Date.now();
    const execution = this.machine.run({}, {
      noThrowOnAbort: true,
      context: { Execution: { Name: name, StartTime: new Date(startedAt).toISOString(), Input: {} } },
      overrides: {
        taskResourceLocalHandlers: {
          Tick: input => this.lambda.invoke(input),
          Scale: input => this.updateService(input as any),
          Notify: input => this.publish(input as any),
        },
      },
    });
    void (async () => {
      for await (const event of execution.eventLogs) {
        if (event.type === 'StateEntered') this.transitions.push([name, event.state.name]);
      }
    })().catch(() => undefined);
    const done = execution.result.then(
      output => ({ ok: true as const, output }),
      (err: Error) => ({ ok: false as const, error: `${err.name}: ${err.message}` }),
    );
    const run = { name, startedAt, done, abort: () => execution.abort() };
    this.runs.push(run);
    return run;
  }

  /** Starts a run now and then every schedule period, like the EventBridge schedule. */
  public startSchedule(): void {
    this.startRun();
    this.schedule = setInterval(() => this.startRun(), this.o.schedulePeriodMs ?? 60_000);
  }

  public async stop(): Promise<void> {
    if (this.schedule) clearInterval(this.schedule);
    this.runs.forEach(r => r.abort());
    await Promise.all(this.runs.map(r => r.done));
    await this.lambda?.stop();
    this.ecsClient.destroy();
    this.snsClient?.destroy();
  }

  private onLog(line: string) {
    let record: any;
    try {
      record = JSON.parse(line);
    } catch {
      return;
    }
    if (record.message !== 'tick') return;
    const tick = { ...record, seenAt: Date.now() } as TickLog;
    this.ticks.push(tick);
    this.o.onTick?.(tick);
  }

  private async updateService(input: { Cluster: string; Service: string; DesiredCount: number }) {
    try {
      const command = new UpdateServiceCommand({ cluster: input.Cluster, service: input.Service, desiredCount: input.DesiredCount });
      const out = await this.ecsClient.send(command);
      return { Service: { DesiredCount: out.service?.desiredCount ?? null } };
    } catch (err) {
      throw integrationError('Ecs', err);
    }
  }

  private async publish(input: { TopicArn: string; Message: string; Subject?: string }) {
    if (!this.snsClient) throw new Error('the definition publishes, but no SNS emulator was given');
    try {
      const out = await this.snsClient.send(new PublishCommand({ TopicArn: input.TopicArn, Message: input.Message, Subject: input.Subject }));
      return { MessageId: out.MessageId ?? null };
    } catch (err) {
      throw integrationError('Sns', err);
    }
  }
}

/** Step Functions names SDK integration errors ServiceName.ErrorNameException. */
function integrationError(service: string, err: unknown): Error {
  const e = err as Error;
  const name = e.name.endsWith('Exception') ? e.name : `${e.name}Exception`;
  return Object.assign(new Error(e.message), { name: `${service}.${name}` });
}
