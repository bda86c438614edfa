import { PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { Duration } from 'aws-cdk-lib';
import { alarmDefinition, AlarmDefinition } from './alarm-evaluator';
import { breakSidecar, BrokenStatus } from './broken-sidecar';
import { CfnResolver } from './cfn-resolver';
import { EmulatedTask } from './ecs-emulator';
import { emittedData, seriesKey } from './emf-records';
import { FaultProxy } from './fault-proxy';
import { Fault } from './fault-schedule';
import { LocalCluster, proxyPorts } from './local-cluster';
import { InjectedFault, SoakHistory, SoakTick, StateWrite } from './soak-history';
import { sleep } from './wait-for';

/** The soak's service: target 10 connections a task, 2..12 tasks, scale-in on over a short window. */
export const CHAOS_SERVICE = { intervalSeconds: 1, minTasks: 2, maxTasks: 12, scaleInWindowSeconds: 10 } as const;

const ECS_READS = ['ListTasks', 'DescribeTasks', 'DescribeServices'];

/**
 * The local world of the chaos soak: a LocalCluster whose controller reaches ECS, DynamoDB
 * and SNS through fault proxies, an injector for every fault kind, samplers of the state
 * item and the controller's memory, and the history the invariants are checked on.
 */
export class ChaosWorld {
  public static async start(timeScale: number): Promise<ChaosWorld> {
    const proxies: Partial<Record<'ecs' | 'dynamodb' | 'sns', FaultProxy>> = {};
    const cluster = await LocalCluster.start({
      autoscaler: {
        interval: Duration.seconds(CHAOS_SERVICE.intervalSeconds),
        minTasks: CHAOS_SERVICE.minTasks,
        maxTasks: CHAOS_SERVICE.maxTasks,
        disableScaleIn: false,
        scaleInWindow: Duration.seconds(CHAOS_SERVICE.scaleInWindowSeconds),
      },
      initialTasks: CHAOS_SERVICE.minTasks,
      startDelayMs: 2000,
      // Stopping tasks drain (a load balancer's deregistration delay), so that draining is seen.
      drainMs: 3000,
      timeScale,
      interpose: async ({ ecs, dynalite, sns }) => {
        proxies.ecs = await FaultProxy.start(ecs.endpoint, 'json1.1');
        proxies.dynamodb = await FaultProxy.start(dynalite.endpoint, 'json1.0');
        proxies.sns = await FaultProxy.start(sns!.endpoint, 'query');
        const all = Object.values(proxies);
        return {
          endpoints: { ecs: proxies.ecs.endpoint, dynamodb: proxies.dynamodb.endpoint, sns: proxies.sns.endpoint },
          stop: async () => void await Promise.all(all.map(p => p.stop())),
        };
      },
    });
    return new ChaosWorld(cluster, proxies.ecs!, proxies.dynamodb!, proxies.sns!);
  }

  public readonly injected: InjectedFault[] = [];
  public readonly stateSizes: Array<{ at: number; bytes: number; buckets: number }> = [];
  public readonly rss: Array<{ at: number; kb: number; pid: number }> = [];
  private readonly brokenTasks = new Set<string>();
  private readonly clockSteps: Array<{ id: string; offsetMs: number }> = [];
  private readonly answerWaiters: Array<{ operation: string; resolve: () => void }> = [];
  private readonly cleanups: Array<() => Promise<void>> = [];
  private sampler?: NodeJS.Timeout;
  private startedAt = 0;
  private readonly statusPort: number;

  private constructor(
    public readonly cluster: LocalCluster,
    public readonly ecsProxy: FaultProxy,
    public readonly ddbProxy: FaultProxy,
    public readonly snsProxy: FaultProxy,
  ) {
    this.statusPort = proxyPorts(cluster.template).statusPort;
    ecsProxy.onAnswered = call => {
      for (const w of this.answerWaiters.filter(x => x.operation === call.operation)) {
        this.answerWaiters.splice(this.answerWaiters.indexOf(w), 1);
        w.resolve();
      }
    };
  }

  /** Starts the schedule and the samplers. */
  public begin(): void {
    this.startedAt = Date.now();
    this.cluster.loop.startSchedule();
    this.sampler = setInterval(() => void this.sample(), 500);
  }

  /** Injects one fault for its duration and records when it was really in effect. */
  public async inject(f: Fault): Promise<void> {
    const from = Date.now();
    const record = (to: number, blocksAction: boolean, stopsLoop: boolean, at = from) =>
      this.injected.push({ id: f.id, kind: f.kind, from: at, to, blocksAction, stopsLoop });
    const { loop, ecs } = this.cluster;
    const during = async (proxy: FaultProxy, rule: Parameters<FaultProxy['add']>[0]) => {
      proxy.add(rule);
      await sleep(f.durationMs);
      proxy.remove(rule.id);
    };
    switch (f.kind) {
      case 'ecs-throttle':
      case 'ecs-5xx': {
        const withUpdate = f.params.withUpdateService === true;
        const error = f.kind === 'ecs-throttle' ? { error: 'ThrottlingException', status: 400 } : { error: 'ServerException', status: 500 };
        await during(this.ecsProxy, { id: f.id, operations: withUpdate ? [...ECS_READS, 'UpdateService'] : ECS_READS, effect: { kind: 'error', ...error } });
        return void record(Date.now(), withUpdate, false);
      }
      case 'ecs-slow':
        await during(this.ecsProxy, { id: f.id, operations: ECS_READS, effect: { kind: 'slow', ms: Number(f.params.ms) } });
        return void record(Date.now(), false, false);
      case 'ecs-update-fails': {
        const error = String(f.params.error);
        await during(this.ecsProxy, { id: f.id, operations: ['UpdateService'], effect: { kind: 'error', error, status: error === 'ServerException' ? 500 : 400 } });
        return void record(Date.now(), true, false);
      }
      case 'ecs-update-late':
        await during(this.ecsProxy, { id: f.id, operations: ['UpdateService'], effect: { kind: 'late', ms: Number(f.params.ms) } });
        // A call held back lands up to `ms` after the rule is gone.
        return void record(Date.now() + Number(f.params.ms), true, false);
      case 'task-drains-mid-tick':
      case 'task-appears-after-list': {
        // Between the calls of one tick: after its DescribeTasks (the task drains before its
        // scrape), or after its ListTasks (the replacement appears before DescribeTasks).
        const after = f.kind === 'task-drains-mid-tick' ? 'DescribeTasks' : 'ListTasks';
        if (await this.nextAnswer(after, f.durationMs)) {
          const task = this.pickTask();
          if (task) void ecs.stopTask(task).catch(() => undefined);
        }
        return void record(Date.now(), false, false);
      }
      case 'task-killed-mid-scrape': {
        if (await this.nextAnswer('DescribeTasks', f.durationMs)) {
          const task = this.pickTask();
          if (task) {
            this.brokenTasks.add(task.id);
            await ecs.killSidecar(task);
            // ECS sees the essential container exit and stops the task; the service replaces it.
            await sleep(1000);
            await ecs.stopTask(task).catch(() => undefined);
            this.brokenTasks.delete(task.id);
          }
        }
        return void record(Date.now(), false, false);
      }
      case 'ddb-peer-write':
        await this.peerWrites(f.durationMs);
        return void record(Date.now(), true, false);
      case 'ddb-timeout':
        await during(this.ddbProxy, { id: f.id, operations: ['GetItem', 'PutItem'], effect: { kind: 'hang' } });
        return void record(Date.now(), true, false);
      case 'ddb-throttled-write':
        await during(this.ddbProxy, { id: f.id, operations: ['PutItem'], effect: { kind: 'error', error: String(f.params.error), status: 400 } });
        return void record(Date.now(), true, false);
      case 'status-hang':
      case 'status-garbage':
      case 'status-reset':
        await this.breakStatus(f.kind.slice('status-'.length) as BrokenStatus, f.durationMs);
        return void record(Date.now(), false, false);
      case 'controller-crash': {
        // Mid-tick: when an invocation is under way.
        const until = Date.now() + f.durationMs;
        while (loop.invocationsInFlight === 0 && Date.now() < until) await sleep(10);
        const at = Date.now();
        await loop.crashController();
        // It ends when the new instance is ready: from then a tick can run again.
        return void record(Date.now(), true, true, at);
      }
      case 'start-lost': {
        const lost = loop.lostStarts.length;
        loop.loseStarts(1);
        await waitUntil(() => loop.lostStarts.length > lost, loop.schedulePeriodMs + 1000);
        return void record(Date.now(), false, false);
      }
      case 'start-doubled': {
        const delivered = loop.scheduledStarts.length;
        loop.doubleStarts(1);
        await waitUntil(() => loop.scheduledStarts.slice(delivered).some(s => s.delivered === 2), loop.schedulePeriodMs + 1000);
        return void record(Date.now(), false, false);
      }
      case 'runs-overlap':
        loop.startRun();
        return void record(Date.now(), false, false);
      case 'clock-step': {
        this.clockSteps.push({ id: f.id, offsetMs: Number(f.params.offsetMs) });
        loop.setClockOffset(Number(f.params.offsetMs));
        await sleep(f.durationMs);
        this.clockSteps.splice(this.clockSteps.findIndex(s => s.id === f.id), 1);
        loop.setClockOffset(this.clockSteps[this.clockSteps.length - 1]?.offsetMs ?? 0);
        return void record(Date.now(), false, false);
      }
      case 'sns-fails': {
        const error = String(f.params.error);
        await during(this.snsProxy, { id: f.id, operations: ['Publish'], effect: { kind: 'error', error, status: error === 'Throttled' ? 429 : 500 } });
        return void record(Date.now(), false, false);
      }
      case 'loop-outage': {
        loop.pauseSchedule();
        loop.abortRuns();
        await sleep(f.durationMs);
        const seen = loop.scheduledStarts.length;
        loop.resumeSchedule();
        // It ends when the next start is delivered (a lost start after it makes the stop longer: it ends later).
        await waitUntil(() => loop.scheduledStarts.slice(seen).some(s => s.delivered > 0), 10 * loop.schedulePeriodMs);
        const next = loop.scheduledStarts.slice(seen).find(s => s.delivered > 0);
        return void record(next?.at ?? Date.now(), true, true);
      }
    }
  }

  /** The history so far, for the invariants. */
  public history(): SoakHistory {
    const { loop } = this.cluster;
    return {
      config: {
        intervalMs: CHAOS_SERVICE.intervalSeconds * 1000,
        minTasks: CHAOS_SERVICE.minTasks,
        maxTasks: CHAOS_SERVICE.maxTasks,
        scaleInWindowMs: CHAOS_SERVICE.scaleInWindowSeconds * 1000,
      },
      startedAt: this.startedAt,
      endedAt: Date.now(),
      faults: [...this.injected],
      ticks: loop.ticks.map(soakTick),
      tickEntries: loop.transitions.filter(([, state]) => state === 'Tick').map(([, , at]) => at),
      updateServiceCalls: this.ecsProxy.calls.filter(c => c.operation === 'UpdateService')
        .map(c => ({ at: c.at, desiredCount: Number(JSON.parse(c.body).desiredCount) })),
      stateWrites: this.stateWrites(),
      ticksMetric: this.ticksMetric().points,
      stoppedTickingAlarm: this.ticksMetric().alarm,
      stateSizes: [...this.stateSizes],
      rss: [...this.rss],
    };
  }

  public async stop(): Promise<void> {
    clearInterval(this.sampler);
    for (const c of this.cleanups.splice(0)) await c().catch(() => undefined);
    await this.cluster.stop();
  }

  /** Resolves true after the next answer to `operation`, or false after `timeoutMs`. */
  private nextAnswer(operation: string, timeoutMs: number): Promise<boolean> {
    return new Promise(resolve => {
      const waiter = { operation, resolve: () => resolve(true) };
      this.answerWaiters.push(waiter);
      setTimeout(() => {
        const i = this.answerWaiters.indexOf(waiter);
        if (i >= 0) this.answerWaiters.splice(i, 1);
        resolve(false);
      }, timeoutMs);
    });
  }

  /** A serving task no other fault holds. */
  private pickTask(): EmulatedTask | undefined {
    const free = this.cluster.ecs.runningTasks.filter(t => !this.brokenTasks.has(t.id));
    return free[Math.floor(Math.random() * free.length)];
  }

  /**
   * A task's status endpoint broken for a while; then ECS replaces the task (its health check
   * failed), and the broken endpoint goes when the task has stopped.
   */
  private async breakStatus(behaviour: BrokenStatus, durationMs: number) {
    const task = this.pickTask();
    if (!task) return;
    this.brokenTasks.add(task.id);
    const close = await breakSidecar(this.cluster.ecs, task, this.statusPort, behaviour).catch(() => undefined);
    await sleep(durationMs);
    await this.cluster.ecs.stopTask(task).catch(() => undefined);
    await close?.();
    this.brokenTasks.delete(task.id);
  }

  /** Another writer bumps the service's item every 100 ms: the controller's conditional writes fail. */
  private async peerWrites(durationMs: number) {
    const ddb = this.cluster.dynalite.client();
    const table = this.cluster.loop.loopConfig.table;
    const until = Date.now() + durationMs;
    try {
      while (Date.now() < until) {
        const items = await ddb.send(new ScanCommand({ TableName: table }));
        for (const item of (items.Items ?? []).filter(i => i.state)) {
          const version = Number(item.version?.N ?? 0);
          await ddb.send(new PutItemCommand({
            TableName: table,
            Item: { ...item, version: { N: String(version + 1) } },
            ConditionExpression: 'version = :v',
            ExpressionAttributeValues: { ':v': { N: String(version) } },
          })).catch(() => undefined);
        }
        await sleep(100);
      }
    } finally {
      ddb.destroy();
    }
  }

  private async sample() {
    const kb = this.cluster.loop.controllerRssKb();
    if (kb !== undefined) this.rss.push({ at: Date.now(), kb, pid: this.cluster.loop.controllerPid });
    const ddb = this.cluster.dynalite.client();
    try {
      const items = await ddb.send(new ScanCommand({ TableName: this.cluster.loop.loopConfig.table }));
      const service = (items.Items ?? []).find(i => i.state);
      // DynamoDB's item size: attribute names plus values (UTF-8 strings, numbers about their digits).
      if (service) {
        const buckets = (JSON.parse(service.state.S ?? '{}').history ?? []).length;
        this.stateSizes.push({ at: Date.now(), bytes: itemBytes(service), buckets });
      }
    } catch {
      // a sample missed is not a finding
    } finally {
      ddb.destroy();
    }
  }

  private stateWrites(): StateWrite[] {
    return this.ddbProxy.calls.filter(c => c.operation === 'PutItem').flatMap(c => {
      const body = JSON.parse(c.body);
      if (!body.Item?.state) return [];
      const state = JSON.parse(body.Item.state.S);
      const expected = body.ExpressionAttributeValues?.[':expected']?.N;
      return [{ at: c.at, expectedVersion: expected === undefined ? 0 : Number(expected), ok: c.status === 200, lastAction: state.lastAction }];
    });
  }

  private ticksMetric(): { points: Array<{ timestamp: number; value: number }>; alarm: AlarmDefinition } {
    const c = this.cluster;
    const resolver = new CfnResolver(c.template, {
      clusterArn: c.ecs.clusterArn, clusterName: c.ecs.clusterName, serviceArn: c.ecs.serviceArn, serviceName: c.ecs.serviceName,
    });
    const [alarm] = Object.entries(c.template.Resources as Record<string, any>)
      .filter(([id, r]) => r.Type === 'AWS::CloudWatch::Alarm' && id.includes('StoppedTicking')).map(([, r]) => r);
    const stat = alarm.Properties.Metrics?.[0]?.MetricStat;
    const metric = stat?.Metric ?? alarm.Properties;
    const dimensions = resolver.resolve(Object.fromEntries(metric.Dimensions.map((d: any) => [d.Name, d.Value])));
    const key = seriesKey(metric.Namespace, metric.MetricName, dimensions);
    const points = emittedData(c.loop.emfRecords).filter(d => seriesKey(d.namespace, d.metricName, d.dimensions) === key)
      .map(d => ({ timestamp: d.timestamp, value: d.value }));
    return { points, alarm: alarmDefinition(alarm.Properties) };
  }
}

function soakTick(t: any): SoakTick {
  return {
    runId: t.runId,
    at: t.seenAt,
    startedAt: t.seenAt - (t.ms ?? 0),
    action: t.action,
    desiredCount: t.desiredCount,
    previousDesiredCount: t.previousDesiredCount ?? t.desiredCount,
    // A tick that read no value (every scrape failed, nothing draining) measured nothing: its recommendation is minTasks, not a reading.
    recommendation: t.error || t.recommendation === undefined || ((t.scraped ?? 0) - (t.failed ?? 0) <= 0 && !t.draining)
      ? undefined : t.recommendation,
    failed: t.failed ?? 0,
    draining: t.draining ?? 0,
    starting: t.starting ?? 0,
    scaled: t.scale ? t.scale.ok : undefined,
    error: t.error,
  };
}

function itemBytes(item: Record<string, any>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name);
    if (value.S !== undefined) bytes += Buffer.byteLength(value.S);
    else if (value.N !== undefined) bytes += Math.ceil(String(value.N).length / 2) + 1;
  }
  return bytes;
}

async function waitUntil(condition: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(50);
}
