/**
 * Cost: a model of the monthly bill that reads the synthesized templates (the Wait state's
 * interval, the Lambda's memory and architecture, the workflow type, the states a tick passes
 * through, the alarms and the metrics each service publishes), for one FastAutoscaler on its
 * own at 1, 3 and 10 second intervals, and for a ScalingLoop of 1, 10 and 50 services: the
 * loop's fixed cost and what each added service brings. us-east-1 list prices; free tiers left out.
 *
 * npx ts-node -P tsconfig.dev.json bench/cost-model.ts
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { fixed, runBenchmark, writeResults } from './bench-results';
import { FastAutoscaler, ScalingLoop, ScalingMetric, ScalingPolicy } from '../src';
import { DEFAULT_METRICS_FLUSH_SECONDS, LOOP_CONFIG_ENV } from '../src/controller/loop-config';
import { runSecondsFor, SCHEDULE_PERIOD_SECONDS } from '../src/loop/control-loop';
import { controllerFunction, placeholderText, stateMachine, stateMachineDefinition } from '../test/support/template-lookups';
import { typicalStack } from '../test/support/typical-stack';

const PRICE = {
  expressPerRun: 1.0 / 1e6,
  expressPerGbSecond: 0.00001667, // first tier; 64 MB minimum, billed in 100 ms steps
  standardPerTransition: 0.025 / 1000,
  lambdaPerRequest: 0.2 / 1e6,
  lambdaPerGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 } as Record<string, number>,
  dynamoPerWrite: 0.625 / 1e6, // on-demand write request unit
  dynamoPerRead: 0.125 / 1e6, // on-demand read request unit (a strongly consistent read of ≤ 4 KB)
  schedulerPerInvocation: 1.0 / 1e6,
  logsPerGb: 0.5,
  customMetricPerMonth: 0.3, // first 10,000 metrics
  alarmMetricPerMonth: 0.1, // standard resolution, per metric an alarm reads
  sqsPerRequest: 0.4 / 1e6, // standard queue requests beyond the free tier (GetQueueAttributes is one)
};
const MONTH_SECONDS = 30 * 24 * 3600;
/** Assumptions, measured locally (bench/RESULTS.md) or estimated where they cannot be. */
const ASSUME = {
  lambdaMs: 100, // a warm tick of one small service, billed per ms
  /** What each further small service adds to a tick ("Shared loop on the Lambda's CPU share": 50 × 5 against 1 × 5, 382 against 89 ms). */
  lambdaMsPerAddedService: 6,
  expressMemoryGb: 64 / 1024,
  /** Lambda's START, END and REPORT lines of one invocation: none (JSON logs, the platform at WARN). */
  platformLogBytesPerTick: 0,
  /** A service's tick line, logged at INFO when something changed, and every 5 minutes when nothing does. */
  serviceLineBytes: 1500,
  serviceLinesPerMinute: 0.2,
  /** One EMF record of a service's metrics with every tick's values since the last (every DEFAULT_METRICS_FLUSH_SECONDS). */
  emfRecordBytes: 700,
  /**
   * Larger services, measured on the function's own CPU share (bench/RESULTS.md, "Tick on
   * the Lambda's CPU share", tick p50 rounded up); their tick line lists at most 100 tasks.
   */
  atScale: [
    { maxTasks: 1000, lambdaMs: 600, serviceLineBytes: 6500 },
    { maxTasks: 5000, lambdaMs: 600, serviceLineBytes: 6500 },
  ],
};

interface Model {
  readonly interval: number;
  readonly transitionsPerTick: number;
  readonly memoryGb: number;
  readonly arch: string;
  readonly type: string;
  /** Metrics read by the alarms the templates hold: the loop's, and each service's. */
  readonly loopAlarmMetrics: number;
  readonly serviceAlarmMetrics: number;
  /** Custom metrics published: the loop's, and each service's. */
  readonly loopMetrics: number;
  readonly serviceMetrics: number;
}

const resourcesOf = (t: any) => Object.values(t.Resources) as any[];
const alarmMetrics = (resources: any[]) => resources.filter(r => r.Type === 'AWS::CloudWatch::Alarm')
  .reduce((n, r) => n + (r.Properties.Metrics ? r.Properties.Metrics.filter((m: any) => m.MetricStat).length : 1), 0);

/** The loop as synthesized: its state machine and controller. */
function loopOf(template: any) {
  const machine = stateMachine(template);
  const fn = controllerFunction(template);
  const definition = stateMachineDefinition(template);
  // A tick: Tick → KeepGoing? → WaitForNextTick, back to Tick.
  let state = 'Tick';
  let transitions = 0;
  const seen = new Set<string>();
  while (!seen.has(state)) {
    seen.add(state);
    transitions++;
    const s = definition.States[state];
    state = s.Type === 'Choice' ? (s.Choices.find((c: any) => c.Variable === '$.tick.continue')?.Next ?? s.Default) : s.Next;
  }
  return {
    interval: definition.States.WaitInterval.Seconds,
    transitionsPerTick: transitions,
    memoryGb: fn.Properties.MemorySize / 1024,
    arch: fn.Properties.Architectures?.[0] ?? 'x86_64',
    type: machine.Properties.StateMachineType,
    fn,
  };
}

/** One FastAutoscaler on its own (a loop of one, created for it), as a newcomer deploys it. */
function standaloneModel(interval: number, maxTasks = 50): Model {
  const { stack } = typicalStack({ withTopic: true, props: { interval: Duration.seconds(interval), maxTasks } });
  const template = Template.fromStack(stack).toJSON();
  const loop = loopOf(template);
  const service = JSON.parse(placeholderText(loop.fn.Properties.Environment.Variables[LOOP_CONFIG_ENV])).services[0];
  return {
    ...loop,
    // The alarms on runs and starts are the loop's; the rest are the service's.
    loopAlarmMetrics: 3,
    serviceAlarmMetrics: alarmMetrics(resourcesOf(template)) - 3,
    loopMetrics: 0,
    serviceMetrics: service.publishMetrics.length,
  };
}

/** A ScalingLoop with `services` small services joined, at their defaults. */
function sharedModel(interval: number, services: number): Model {
  const app = new App();
  const env = { account: '123456789012', region: 'us-east-1' };
  const platform = new Stack(app, 'Platform', { env });
  const vpc = new ec2.Vpc(platform, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const cluster = new ecs.Cluster(platform, 'Cluster', { vpc });
  const loop = new ScalingLoop(platform, 'Loop', { vpc, interval: Duration.seconds(interval) });
  // Ten services an application stack (a stack holds 500 resources at most).
  const stacks: Stack[] = [];
  for (let i = 0; i < services; i++) {
    if (i % 10 === 0) stacks.push(new Stack(app, `Apps${i / 10}`, { env }));
    const stack = stacks[stacks.length - 1];
    const taskDefinition = new ecs.FargateTaskDefinition(stack, `Task${i}`);
    taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/httpd:2.4'), portMappings: [{ containerPort: 80 }] });
    new FastAutoscaler(stack, `Svc${i}`, {
      service: new ecs.FargateService(stack, `Service${i}`, { cluster, taskDefinition }),
      policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 100 }),
      maxTasks: 10,
      loop,
    });
  }
  const template = Template.fromStack(platform).toJSON();
  const resources = [platform, ...stacks].flatMap(st => resourcesOf(Template.fromStack(st).toJSON()));
  // A service's alarms name it by its ServiceName dimension; the loop's do not.
  const loopAlarms = alarmMetrics(resources.filter(r => !JSON.stringify(r.Properties ?? {}).includes('ServiceName')));
  const registrations = resources.filter(r => r.Type === 'AWS::SSM::Parameter');
  const perService = registrations.map(r => JSON.parse(placeholderText(r.Properties.Value)).publishMetrics.length);
  return {
    ...loopOf(template),
    loopAlarmMetrics: loopAlarms,
    serviceAlarmMetrics: (alarmMetrics(resources) - loopAlarms) / services,
    loopMetrics: 1,
    serviceMetrics: perService.reduce((a, b) => a + b, 0) / services,
  };
}

/** The monthly bill of a loop of `services` services of this model. */
function monthly(m: Model, services: number, o: { lambdaMs?: number; serviceLineBytes?: number; scaleIn?: boolean } = {}) {
  const lambdaMs = (o.lambdaMs ?? ASSUME.lambdaMs) + (services - 1) * ASSUME.lambdaMsPerAddedService;
  // The next tick is due one interval after this one began, however long the tick took.
  const ticks = MONTH_SECONDS / m.interval;
  const runs = MONTH_SECONDS / SCHEDULE_PERIOD_SECONDS;
  const minutes = MONTH_SECONDS / 60;
  // A run may live runSecondsFor(interval) (230 s at 3 s), but in steady state it ends at the
  // first tick after the next minute's run took the lease: its minute plus one tick.
  const runSeconds = Math.min(runSecondsFor(m.interval), SCHEDULE_PERIOD_SECONDS + m.interval);
  const express = runs * PRICE.expressPerRun + runs * Math.ceil(runSeconds * 10) / 10 * ASSUME.expressMemoryGb * PRICE.expressPerGbSecond;
  const lambda = ticks * (PRICE.lambdaPerRequest + (lambdaMs / 1000) * m.memoryGb * PRICE.lambdaPerGbSecond[m.arch]);
  // The loop's lease: read every tick (eventually consistent: half a read unit), written once a
  // run. Each service's item: read once by an instance and then kept; written only when its
  // state changes: an action, and with scale-in on each new 10-second bucket of the window.
  const dynamo = ticks * PRICE.dynamoPerRead / 2 + runs * PRICE.dynamoPerWrite
    + services * (o.scaleIn ? MONTH_SECONDS / 10 : 0) * PRICE.dynamoPerWrite;
  const scheduler = runs * PRICE.schedulerPerInvocation;
  const flushes = MONTH_SECONDS / Math.max(m.interval, DEFAULT_METRICS_FLUSH_SECONDS);
  const logBytes = ticks * ASSUME.platformLogBytesPerTick
    + services * (minutes * ASSUME.serviceLinesPerMinute * (o.serviceLineBytes ?? ASSUME.serviceLineBytes) + flushes * ASSUME.emfRecordBytes)
    + (m.loopMetrics > 0 ? flushes * ASSUME.emfRecordBytes / 2 : 0);
  const logs = (logBytes / 2 ** 30) * PRICE.logsPerGb;
  const standard = ticks * m.transitionsPerTick * PRICE.standardPerTransition;
  const loopMonitoring = m.loopMetrics * PRICE.customMetricPerMonth + m.loopAlarmMetrics * PRICE.alarmMetricPerMonth;
  const serviceMonitoring = m.serviceMetrics * PRICE.customMetricPerMonth + m.serviceAlarmMetrics * PRICE.alarmMetricPerMonth;
  const loop = express + lambda + dynamo + scheduler + logs;
  const monitoring = loopMonitoring + services * serviceMonitoring;
  return { ticks, express, lambda, dynamo, scheduler, logs, loop, monitoring, total: loop + monitoring, standard };
}

function main() {
  const rows = [1, 3, 10].map(interval => {
    const m = standaloneModel(interval);
    const c = monthly(m, 1);
    console.log(`  ${interval} s: $${fixed(c.total)} a month (${m.type}, ${m.memoryGb * 1024} MB ${m.arch}, ${m.transitionsPerTick} transitions a tick)`);
    return `| ${m.interval} s | ${Math.round(c.ticks).toLocaleString('en-US')} | ${fixed(c.express)} | ${fixed(c.lambda)} | ${fixed(c.dynamo)} | ${fixed(c.logs)} | `
      + `${fixed(c.scheduler)} | **${fixed(c.loop)}** | ${fixed(c.monitoring)} | **${fixed(c.total)}** | ${fixed(c.standard)} |`;
  });
  const scaleRows = ASSUME.atScale.map(a => {
    const m = standaloneModel(3, a.maxTasks);
    const c = monthly(m, 1, { lambdaMs: a.lambdaMs, serviceLineBytes: a.serviceLineBytes });
    console.log(`  ${a.maxTasks} tasks at 3 s: $${fixed(c.total)} a month (${m.memoryGb * 1024} MB)`);
    return `| ${a.maxTasks.toLocaleString('en-US')} | ${m.memoryGb * 1024} MB | ${a.lambdaMs} ms | ${fixed(c.express)} | ${fixed(c.lambda)} | ${fixed(c.dynamo)} | `
      + `${fixed(c.logs)} | **${fixed(c.loop)}** | ${fixed(c.monitoring)} | **${fixed(c.total)}** |`;
  });
  const fleetRows = [1, 3, 10].flatMap(interval => [1, 10, 50].map(services => {
    const m = sharedModel(interval, services);
    const c = monthly(m, services);
    const fixedPart = monthly(m, 0);
    const added = (c.total - fixedPart.total) / services;
    console.log(`  loop of ${services} at ${interval} s: $${fixed(c.total)} a month, $${fixed(added)} a service beyond the loop's $${fixed(fixedPart.total)}`);
    return `| ${interval} s | ${services} | ${m.memoryGb * 1024} MB | ${fixed(fixedPart.total)} | ${fixed(added)} | **${fixed(c.total)}** | ${fixed(c.total / services)} |`;
  }));
  // The queue source: one GetQueueAttributes a tick for the service (none per task).
  const queueRows = [1, 3, 10].map(interval => {
    const reads = MONTH_SECONDS / interval;
    return `| ${interval} s | ${Math.round(reads).toLocaleString('en-US')} | ${fixed(reads * PRICE.sqsPerRequest)} |`;
  });
  const alone = standaloneModel(3);
  const shared = sharedModel(3, 10);
  writeResults('Cost', 'npx ts-node -P tsconfig.dev.json bench/cost-model.ts', [
    'Monthly cost in US dollars (us-east-1 list prices, no free tier), read from the synthesized templates: Express workflow,',
    `arm64 Lambda, a tick = Tick → KeepGoing? → WaitForNextTick (${alone.transitionsPerTick} transitions), the next tick due one interval after this one began.`,
    `Assumed: ${ASSUME.lambdaMs} ms a warm tick of one small service and ${ASSUME.lambdaMsPerAddedService} ms more for each further one ("Shared loop on the`,
    'Lambda\'s CPU share"); Express at 64 MB; DynamoDB: the loop\'s lease read every tick (eventually consistent) and written',
    'once a run, each service\'s item kept by the warm instance and written only on an action (and, with scale-in on, at each',
    'new 10-second bucket of its window); logs: no START/END/REPORT (JSON logs, the platform at WARN), each service\'s line at INFO every 5 minutes when nothing changes',
    `(${ASSUME.serviceLineBytes} bytes; every tick is at DEBUG), and one EMF record a service every ${DEFAULT_METRICS_FLUSH_SECONDS} s with every tick's values (${ASSUME.emfRecordBytes} bytes).`,
    '',
    'One FastAutoscaler on its own (its own loop, its default alarms: stopped ticking, failed scrapes, held at maxTasks, runs',
    `giving up, starts dead-lettered, which read ${alone.serviceAlarmMetrics + alone.loopAlarmMetrics} metrics at $${PRICE.alarmMetricPerMonth}); it publishes the ${alone.serviceMetrics} metrics they read at`,
    `$${PRICE.customMetricPerMonth} (\`publishAllMetrics\` publishes all 12; a \`metricX()\` your own code reads is published too):`,
    '',
    '| interval | ticks / month | Express | Lambda | DynamoDB | Logs | Scheduler | **loop** | metrics & alarms | **total** | same loop as Standard workflow |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    'One ScalingLoop shared by small services (2–10 tasks each, their defaults: one health alarm each on the one metric it',
    `reads, ${fixed(shared.serviceMetrics, 0)} metric and ${fixed(shared.serviceAlarmMetrics, 0)} alarm metric a service; the loop's own alarms read ${shared.loopAlarmMetrics} metrics, one of them its`,
    'own tick count). The loop\'s fixed part is its bill with no service; each added service brings the rest. Goal: at most $0.50',
    'a month an added service, with its default alarm; ECS target tracking costs about $0.20 a service (its two alarms).',
    '',
    '| interval | services | Lambda memory | loop alone | each added service | **total** | a service on average |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...fleetRows,
    '',
    'Larger services at the 3 s interval, on their own: the controller\'s memory grows with `maxTasks` (its CPU share follows), and a',
    'tick takes longer (measured on that share); everything else stays the same size.',
    '',
    '| maxTasks | Lambda memory | tick | Express | Lambda | DynamoDB | Logs | **loop** | metrics & alarms | **total** |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...scaleRows,
    '',
    'A queue worker (`MetricSource.sqsQueue`) adds one `GetQueueAttributes` a tick, whatever its task count (SQS standard',
    `requests at $${PRICE.sqsPerRequest * 1e6} a million, beyond the free tier), and no status reads of its tasks:`,
    '',
    '| interval | queue reads / month | $ / month |',
    '| --- | --- | --- |',
    ...queueRows,
    '',
    'Runs may live up to 230 s (so that a lost start leaves the older run ticking) but a newer run ends them after',
    'about a minute, so the longer limit costs nothing in steady state; the schedule\'s dead-letter queue is empty and',
    'reserved concurrency is free. Express bills each run\'s duration, about a minute at 64 MB, whatever the interval: most',
    'of a loop\'s fixed part.',
    '',
    'Targets: the loop of one service ≤ $5 a month at 1 s; each service added to a shared loop ≤ $0.50 a month. The Standard',
    'column is the state transitions alone of an endless Standard workflow (which would also die at the 25,000-event history',
    'limit after a few hours).',
  ].join('\n'));
}

runBenchmark(main);
