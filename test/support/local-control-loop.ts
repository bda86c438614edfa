import * as ecsSdk from '@aws-sdk/client-ecs';
import { ECSServiceException } from '@aws-sdk/client-ecs';
import * as snsSdk from '@aws-sdk/client-sns';
import { SNSServiceException } from '@aws-sdk/client-sns';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { StateMachine as StateMachineClass } from 'aws-local-stepfunctions' with { 'resolution-mode': 'import' };
import { loopbackClientConfig } from './aws-loopback';
import { CfnResolver, StandIns } from './cfn-resolver';
import { DynaliteServer } from './dynalite-server';
import { EcsEmulator } from './ecs-emulator';
import { LambdaHost, LambdaHostOptions, TICK_BUNDLE } from './lambda-host';
import { SnsEmulator } from './sns-emulator';
import { controllerFunction, stateMachine } from './template-lookups';
import { ControllerConfig } from '../../src/controller/controller-config';
import { LOOP_CONFIG_ENV, LoopConfig, serviceConfigOf } from '../../src/controller/loop-config';
import { LoopTickResult } from '../../src/controller/loop-tick';
import { TickResult } from '../../src/controller/tick-result';
import { SCHEDULE_PERIOD_SECONDS } from '../../src/loop/control-loop';
import { StateNames } from '../../src/loop/state-machine-definition';

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
  readonly draining: number;
  readonly scraped: number;
  readonly failed: number;
  readonly scrapeMs: number;
  readonly perTaskValues: Record<string, number | null>;
  /** Under the queue source: its counters as the tick read them. */
  readonly queue?: { readonly visible: number; readonly inFlight: number; readonly delayed: number };
  /** The ECS service's name (powertools reserves `service`). */
  readonly ecsService: string;
  readonly cluster?: string;
  /** The controller's UpdateService call, when the tick scaled. */
  readonly scale?: { readonly ok: boolean; readonly attempts: number; readonly ms: number; readonly error?: string };
  readonly notify?: { readonly ok: boolean; readonly error?: string };
  readonly error?: string;
  readonly degraded: boolean;
  readonly seenAt: number;
}

export interface RunHandle {
  readonly name: string;
  readonly startedAt: number;
  /** The execution's input: `{}` from the schedule, `{ successorOf }` from a run that gave up. */
  readonly input: Record<string, unknown>;
  /** The execution's output, or the error it failed with. */
  readonly done: Promise<{ ok: true; output: unknown } | { ok: false; error: string }>;
  abort(): void;
}

export interface LocalControlLoopOptions {
  /** The synthesized template holding one FastAutoscaler, or a ScalingLoop and the services that joined it. */
  readonly template: any;
  /** The one service's stand-ins and ECS (a FastAutoscaler's own loop), or the ECS endpoint a shared loop calls. */
  readonly ecs: EcsEmulator | { readonly endpoint: string };
  /**
   * A shared loop: each joined service's stand-ins, by the FastAutoscaler's construct path
   * (its registration names it), written into SSM on this server as the deployment would.
   */
  readonly registry?: { readonly ssmEndpoint: string; readonly services: Record<string, StandIns> };
  readonly dynalite: DynaliteServer;
  readonly sns?: SnsEmulator;
  /** The SQS server and the queue the template's queue stands for, for a queue worker. */
  readonly sqs?: { readonly endpoint: string; readonly queueUrl: string };
  /**
   * Shrinks the schedule's minute and the run's length by the same factor, so that a test
   * sees runs overlap and hand over as deployed (a run lasts the same number of schedule
   * periods) in seconds. Intervals, timeouts and retries keep their real lengths: what is
   * measured in intervals (the gap between ticks) is not scaled. @default 1 (real time)
   */
  readonly timeScale?: number;
  readonly onTick?: (tick: TickLog) => void;
  /** Endpoints the function uses instead of the emulators' own, by service (a fault proxy in front of one). */
  readonly endpoints?: Readonly<Record<string, string>>;
}

/** One scheduled start, as the schedule meant it and as it was delivered. */
export interface ScheduledStart {
  readonly at: number;
  /** Executions it started: 0 (lost), 1, or 2 (delivered twice). */
  readonly delivered: number;
}

/**
 * The control loop as deployed, on this machine: the synthesized state machine definition
 * runs in aws-local-stepfunctions; its Lambda task runs the bundled handler with the
 * template's environment (its run length scaled by `timeScale`); the ECS and SNS SDK
 * integrations call the loopback emulators through the real AWS SDK, naming errors as Step
 * Functions does (`Ecs.ServerException` for an exception the service's model declares,
 * `Ecs.EcsException` for any other, such as ECS's undeclared ThrottlingException).
 */
export class LocalControlLoop {
  public static async start(o: LocalControlLoopOptions): Promise<LocalControlLoop> {
    const ecs = o.ecs as Partial<EcsEmulator>;
    const resolver = new CfnResolver(o.template, {
      clusterArn: ecs.clusterArn ?? 'no-cluster',
      clusterName: ecs.clusterName ?? 'no-cluster',
      serviceArn: ecs.serviceArn ?? 'no-service',
      serviceName: ecs.serviceName ?? 'no-service',
      topicArn: o.sns?.topicArn,
      queueUrl: o.sqs?.queueUrl,
    });
    const machine = stateMachine(o.template);
    const fn = controllerFunction(o.template);
    const definition = JSON.parse(resolver.resolve(machine.Properties.DefinitionString));
    const environment = resolver.resolve(fn.Properties.Environment.Variables) as Record<string, string>;
    const synthesized = JSON.parse(environment[LOOP_CONFIG_ENV]) as LoopConfig;
    const timeScale = o.timeScale ?? 1;
    // Every tick's metrics in a record of their own, as the tests read them tick by tick.
    const loopConfig: LoopConfig = {
      ...synthesized, runSeconds: Math.max(1, Math.round(synthesized.runSeconds * timeScale)), metricsFlushSeconds: 0,
    };
    environment[LOOP_CONFIG_ENV] = JSON.stringify(loopConfig);
    // Every tick at DEBUG: the tests read each tick's line (deployed, quiet ticks log once a minute).
    environment.POWERTOOLS_LOG_LEVEL = 'DEBUG';
    await o.dynalite.createStateTable(loopConfig.table);
    if (o.registry) await writeRegistry(o.template, loopConfig, o.registry);
    const first = loopConfig.services?.[0];
    const config = first ? serviceConfigOf(first, loopConfig) : undefined;

    const loop = new LocalControlLoop(o, definition, loopConfig, config);
    loop.lambdaOptions = {
      bundle: TICK_BUNDLE,
      environment,
      endpoints: {
        ecs: o.ecs.endpoint,
        dynamodb: o.dynalite.endpoint,
        ...(o.sns ? { sns: o.sns.endpoint } : {}),
        ...(o.sqs ? { sqs: o.sqs.endpoint } : {}),
        // moto serves SSM and STS (the services' roles the controller assumes).
        ...(o.registry ? { ssm: o.registry.ssmEndpoint, sts: o.registry.ssmEndpoint } : {}),
        ...o.endpoints,
      },
      onLog: line => loop.onLog(line),
    };
    loop.lambda = await LambdaHost.start(loop.lambdaOptions);
    return loop;
  }

  public readonly ticks: TickLog[] = [];
  /** Every EMF record the function printed (CloudWatch's input for the metrics), with when the parent saw it. */
  public readonly emfRecords: Array<Record<string, any> & { readonly seenAt: number }> = [];
  public readonly runs: RunHandle[] = [];
  /** Every state the executions entered, in order: [run, state, when]. */
  public readonly transitions: Array<[string, string, number]> = [];
  /** What each Tick returned to the state machine, in order. */
  public readonly tickResults: Array<LoopTickResult & { runId: string; seenAt: number }> = [];
  /** Scheduled starts that were lost (see `loseStarts`), by when they were due. */
  public readonly lostStarts: number[] = [];
  /** Every start the schedule was due to make, with how many executions it started. */
  public readonly scheduledStarts: ScheduledStart[] = [];
  /** Each crash of the function (see crashController): when it was killed, and when its new instance was ready. */
  public readonly crashes: Array<{ readonly at: number; readyAt?: number }> = [];
  private lambdaOptions!: LambdaHostOptions;
  private restarting?: Promise<LambdaHost>;
  private clockOffsetMs = 0;
  private startsToDouble = 0;
  /** Pauses under way: overlapping outages each hold the schedule until the last one ends. */
  private paused = 0;
  public readonly stateMachineArn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:fast-autoscaler-local';
  private lambda!: LambdaHost;
  private readonly machine: StateMachineClass;
  private schedule?: NodeJS.Timeout;
  private runCounter = 0;
  private startsToLose = 0;
  private ticksToFail: { remaining: number; errorType: string } = { remaining: 0, errorType: 'Error' };

  /**
   * @param config the one service's configuration, in a FastAutoscaler's own loop
   */
  private constructor(
    private readonly o: LocalControlLoopOptions, public readonly definition: any, public readonly loopConfig: LoopConfig,
    private readonly serviceConfig?: ControllerConfig,
  ) {
    this.machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
  }

  /** The one service's configuration, in a FastAutoscaler's own loop. */
  public get config(): ControllerConfig {
    if (!this.serviceConfig) throw new Error('a shared loop has no one service configuration: read loopConfig');
    return this.serviceConfig;
  }

  /**
   * The tick that made an UpdateService call: the controller calls ECS right after deciding
   * and logs the tick after, with the call's outcome, so its line comes after the call.
   */
  public async decidingTick(call: { readonly at: number }, timeoutMs = 5_000): Promise<TickLog> {
    const started = Date.now();
    for (;;) {
      const tick = this.ticks.find(t => t.scale && t.seenAt >= call.at);
      if (tick) return tick;
      if (Date.now() - started > timeoutMs) throw new Error(`no tick logged the UpdateService call made at ${call.at}`);
      await new Promise(resolve => setTimeout(resolve, 20));
    }
  }

  /** The schedule's next `n` starts never happen, like starts EventBridge Scheduler could not deliver. */
  public loseStarts(n: number): void {
    this.startsToLose += n;
  }

  /** The schedule's next `n` starts are each delivered twice (EventBridge Scheduler delivers at least once). */
  public doubleStarts(n: number): void {
    this.startsToDouble += n;
  }

  /** Until as many `resumeSchedule`, every scheduled start is lost (a schedule that cannot start the state machine). */
  public pauseSchedule(): void {
    this.paused++;
  }

  public resumeSchedule(): void {
    this.paused = Math.max(0, this.paused - 1);
  }

  /** Ends every run under way (as executions that fail or time out). */
  public abortRuns(): void {
    this.runs.forEach(r => r.abort());
  }

  /**
   * Kills the function's process mid-invocation (its invocations under way fail with
   * `Runtime.ExitError`) and starts a new one, as Lambda does for the next invocation: a cold
   * start, its memory (catalog, counters, cached state) gone. Resolves when the new one is ready.
   */
  public async crashController(): Promise<void> {
    const crash: { at: number; readyAt?: number } = { at: Date.now() };
    this.crashes.push(crash);
    await this.lambda.crash();
    await this.restartController();
    crash.readyAt = Date.now();
  }

  /** Invocations under way in the current instance. */
  public get invocationsInFlight(): number {
    return this.lambda.alive ? this.lambda.inFlight : 0;
  }

  /** The function's process (the current instance). */
  public get controllerPid(): number {
    return this.lambda.pid;
  }

  /** The current instance's resident memory, in kB. */
  public controllerRssKb(): number | undefined {
    return this.lambda.rssKb();
  }

  /** Steps the function's clock `offsetMs` from the machine's (0: back in step); new instances start with it too. */
  public setClockOffset(offsetMs: number): void {
    this.clockOffsetMs = offsetMs;
    this.lambda.setClockOffset(offsetMs);
  }

  private restartController(): Promise<LambdaHost> {
    this.restarting ??= LambdaHost.start(this.lambdaOptions).then(host => {
      this.lambda = host;
      host.setClockOffset(this.clockOffsetMs);
      return host;
    }).finally(() => (this.restarting = undefined));
    return this.restarting;
  }

  /** The next `n` ticks fail as a function error of this type (`errorType`, which Step Functions reports as the error name). */
  public failTicks(n: number, errorType = 'Error'): void {
    this.ticksToFail = { remaining: n, errorType };
  }

  /** Starts one execution, as the schedule does (or a run that gives up, with `{ successorOf }`). */
  public startRun(input: Record<string, unknown> = {}): RunHandle {
    const name = `run-${++this.runCounter}-${Date.now()}`;
    const startedAt = Date.now();
    const execution = this.machine.run(input as any, {
      noThrowOnAbort: true,
      context: {
        Execution: { Name: name, StartTime: new Date(startedAt).toISOString(), Input: input as any },
        StateMachine: { Id: this.stateMachineArn, Name: 'fast-autoscaler-local' },
        // aws-local-stepfunctions has no State in its context object: read when a state's
        // parameters are, on entering it, this is its EnteredTime (on this machine's clock, as
        // the executor's Wait reads it).
        State: { get EnteredTime() { return new Date().toISOString(); } },
      } as any,
      overrides: {
        taskResourceLocalHandlers: {
          [StateNames.TICK]: payload => this.tick(payload) as Promise<any>,
          [StateNames.START_SUCCESSOR]: params => this.startExecution(params as any),
        },
      },
    });
    void (async () => {
      for await (const event of execution.eventLogs) {
        if (event.type === 'StateEntered') this.transitions.push([name, event.state.name, Date.now()]);
      }
    })().catch(() => undefined);
    const done = execution.result.then(
      output => ({ ok: true as const, output }),
      // The error the execution failed with (a Fail state's Error), not the executor's wrapper.
      (err: Error) => ({ ok: false as const, error: `${(err.cause as Error | undefined)?.name ?? err.name}: ${err.message}` }),
    );
    const run = { name, startedAt, input, done, abort: () => execution.abort() };
    this.runs.push(run);
    return run;
  }

  /** The schedule's period, scaled. */
  public get schedulePeriodMs(): number {
    return SCHEDULE_PERIOD_SECONDS * 1000 * (this.o.timeScale ?? 1);
  }

  /** Starts a run now and then every schedule period, like the EventBridge schedule. */
  public startSchedule(): void {
    const scheduled = () => {
      if (this.paused > 0 || this.startsToLose > 0) {
        if (this.paused === 0) this.startsToLose--;
        this.lostStarts.push(Date.now());
        this.scheduledStarts.push({ at: Date.now(), delivered: 0 });
        return;
      }
      this.startRun();
      let delivered = 1;
      if (this.startsToDouble > 0) {
        this.startsToDouble--;
        this.startRun();
        delivered = 2;
      }
      this.scheduledStarts.push({ at: Date.now(), delivered });
    };
    scheduled();
    this.schedule = setInterval(scheduled, this.schedulePeriodMs);
  }

  public async stop(): Promise<void> {
    if (this.schedule) clearInterval(this.schedule);
    this.runs.forEach(r => r.abort());
    await Promise.all(this.runs.map(r => r.done));
    await this.restarting?.catch(() => undefined);
    await this.lambda?.stop();
  }

  private onLog(line: string) {
    let record: any;
    try {
      record = JSON.parse(line);
    } catch {
      return;
    }
    if (record._aws) this.emfRecords.push({ ...record, seenAt: Date.now() });
    if (record.message !== 'tick') return;
    const tick = { ...record, seenAt: Date.now() } as TickLog;
    this.ticks.push(tick);
    this.o.onTick?.(tick);
  }

  private async tick(input: unknown) {
    if (this.ticksToFail.remaining > 0) {
      this.ticksToFail.remaining--;
      // A function error: Step Functions names it by the function's errorType.
      throw Object.assign(new Error('injected function error'), { name: this.ticksToFail.errorType });
    }
    // A crashed instance is replaced by the next invocation (see crashController).
    const lambda = this.lambda.alive ? this.lambda : await (this.restarting ?? this.lambda);
    const result = await lambda.invoke(input) as LoopTickResult;
    this.tickResults.push({ ...result, runId: (input as { runId: string }).runId, seenAt: Date.now() });
    return result;
  }

  /** The optimized `states:startExecution` integration, request-response. */
  private startExecution(input: { StateMachineArn: string; Input?: Record<string, unknown> }) {
    if (input.StateMachineArn !== this.stateMachineArn) {
      throw Object.assign(new Error(`no state machine ${input.StateMachineArn}`), { name: 'StepFunctions.StateMachineDoesNotExistException' });
    }
    const run = this.startRun(input.Input ?? {});
    return { ExecutionArn: `${this.stateMachineArn.replace(':stateMachine:', ':express:')}:${run.name}`, StartDate: new Date(run.startedAt).toISOString() };
  }

}

/** How Step Functions names one service's errors in an SDK integration. */
interface IntegrationErrors {
  /** The service's name in error names: `Ecs`, `Sns`. */
  readonly prefix: string;
  /** The SDK's base class of the service's errors. */
  readonly base: abstract new (...args: any[]) => Error;
  /** The exceptions the service's model declares. */
  readonly modelled: ReadonlySet<string>;
}

/**
 * The exceptions an SDK client declares: the classes it exports that extend its service's base
 * exception. Step Functions runs on the AWS SDK for Java, whose client knows the same model.
 */
function modelledExceptions(sdk: Record<string, unknown>, base: abstract new (...args: any[]) => Error): Set<string> {
  return new Set(Object.values(sdk)
    .filter((v): v is abstract new () => Error => typeof v === 'function' && v.prototype instanceof base)
    .map(c => c.name));
}

const ECS_ERRORS: IntegrationErrors = { prefix: 'Ecs', base: ECSServiceException, modelled: modelledExceptions(ecsSdk, ECSServiceException) };
const SNS_ERRORS: IntegrationErrors = { prefix: 'Sns', base: SNSServiceException, modelled: modelledExceptions(snsSdk, SNSServiceException) };

/**
 * Names an SDK integration error as Step Functions does: `Ecs.<Exception>` when the service's
 * model declares it (with an `Exception` suffix added where the model has none), the service's
 * generic `Ecs.EcsException` when it does not (ECS throttling, for one), and
 * `Ecs.SdkClientException` when no answer came from the service at all.
 */
export function integrationError(errors: IntegrationErrors, err: unknown): Error {
  const e = err as Error;
  let name: string;
  if (!(e instanceof errors.base)) name = 'SdkClientException';
  else if (errors.modelled.has(e.name)) name = e.name.endsWith('Exception') ? e.name : `${e.name}Exception`;
  else name = `${errors.prefix}Exception`;
  return Object.assign(new Error(e.message), { name: `${errors.prefix}.${name}` });
}

export const SDK_INTEGRATION_ERRORS = { ecs: ECS_ERRORS, sns: SNS_ERRORS } as const;

/**
 * Writes each joined service's registration into SSM, as its stack's deployment would: the
 * parameter's value resolved with that service's stand-ins (found by the construct path its
 * description names).
 */
async function writeRegistry(template: any, loop: LoopConfig, registry: NonNullable<LocalControlLoopOptions['registry']>) {
  const ssm = new SSMClient(loopbackClientConfig(registry.ssmEndpoint));
  try {
    for (const resource of Object.values(template.Resources) as any[]) {
      if (resource.Type !== 'AWS::SSM::Parameter') continue;
      const description: string = resource.Properties.Description ?? '';
      const path = Object.keys(registry.services).find(p => description.startsWith(`fast-autoscaler: ${p} in the loop`));
      if (!path) throw new Error(`no stand-ins for the registration ${description}`);
      const resolver = new CfnResolver(template, registry.services[path]);
      const name = resolver.resolve(resource.Properties.Name) as string;
      if (!name.startsWith(`${loop.registryPath}/`)) throw new Error(`registration ${name} is outside the loop's path ${loop.registryPath}`);
      await ssm.send(new PutParameterCommand({ Name: name, Value: resolver.resolve(resource.Properties.Value), Type: 'String', Overwrite: true }));
    }
  } finally {
    ssm.destroy();
  }
}
