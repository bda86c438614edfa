/**
 * Cost: a model of one autoscaler's monthly bill that reads the synthesized template (the
 * Wait state's interval, the Lambda's memory and architecture, the workflow type, the
 * states a tick passes through), at 1, 3 and 10 second intervals, beside the same loop as
 * an endless Standard workflow. us-east-1 list prices; free tiers left out.
 *
 * npx ts-node -P tsconfig.dev.json bench/cost-model.ts
 */
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { fixed, runBenchmark, writeResults } from './bench-results';
import { runSecondsFor, SCHEDULE_PERIOD_SECONDS } from '../src/control-loop';
import { ControllerMetric } from '../src/controller/controller-metrics';
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
  lambdaMs: 100, // a warm tick of a small service, billed per ms
  expressMemoryGb: 64 / 1024,
  /** Share of ticks that write the state (a new history bucket, a new run's lease, an action). */
  // A new 10-second history bucket (5-minute window / 30), plus the new run's lease once a minute.
  writeShare: (interval: number) => Math.min(1, interval / Math.max(interval, 10) + interval / 60),
  logBytesPerTick: 1800, // START/END/REPORT, the tick line, the EMF record
  /**
   * Larger services, measured on the function's own CPU share (bench/RESULTS.md, "Tick on
   * the Lambda's CPU share", tick p50 rounded up); their tick line lists at most 100 tasks.
   */
  atScale: [
    { maxTasks: 1000, lambdaMs: 600, logBytesPerTick: 6500 },
    { maxTasks: 5000, lambdaMs: 600, logBytesPerTick: 6500 },
  ],
};

interface Model {
  readonly interval: number;
  readonly transitionsPerTick: number;
  readonly memoryGb: number;
  readonly arch: string;
  readonly type: string;
  /** Metrics read by the alarms the template holds. */
  readonly alarmMetrics: number;
}

function readTemplate(interval: number, maxTasks = 50): Model {
  const { stack } = typicalStack({ withTopic: true, props: { interval: Duration.seconds(interval), maxTasks } });
  const template = Template.fromStack(stack).toJSON();
  const resources = Object.values(template.Resources) as any[];
  const machine = resources.find(r => r.Type === 'AWS::StepFunctions::StateMachine');
  const fn = resources.find(r => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.FAST_AUTOSCALER_CONFIG);
  // References sit inside JSON strings of the definition: any placeholder text will do.
  const definition = JSON.parse(machine.Properties.DefinitionString['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : 'REF')).join(''));
  // A tick that holds: Tick → Decide → KeepGoing? → WaitInterval, back to Tick.
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
    alarmMetrics: resources.filter(r => r.Type === 'AWS::CloudWatch::Alarm')
      .reduce((n, r) => n + (r.Properties.Metrics ? r.Properties.Metrics.filter((m: any) => m.MetricStat).length : 1), 0),
  };
}

function monthly(m: Model, lambdaMs = ASSUME.lambdaMs, logBytesPerTick = ASSUME.logBytesPerTick) {
  const tickPeriod = m.interval + lambdaMs / 1000;
  const ticks = MONTH_SECONDS / tickPeriod;
  const runs = MONTH_SECONDS / SCHEDULE_PERIOD_SECONDS;
  // A run may live runSecondsFor(interval) (230 s at 3 s), but in steady state it ends at the
  // first tick after the next minute's run took the lease: its minute plus one tick.
  const runSeconds = Math.min(runSecondsFor(m.interval), SCHEDULE_PERIOD_SECONDS + tickPeriod);
  const express = runs * PRICE.expressPerRun + runs * Math.ceil(runSeconds * 10) / 10 * ASSUME.expressMemoryGb * PRICE.expressPerGbSecond;
  const lambda = ticks * (PRICE.lambdaPerRequest + (lambdaMs / 1000) * m.memoryGb * PRICE.lambdaPerGbSecond[m.arch]);
  const dynamo = ticks * (PRICE.dynamoPerRead + ASSUME.writeShare(m.interval) * PRICE.dynamoPerWrite);
  const scheduler = runs * PRICE.schedulerPerInvocation;
  const logs = (ticks * logBytesPerTick / 2 ** 30) * PRICE.logsPerGb;
  const standard = ticks * m.transitionsPerTick * PRICE.standardPerTransition;
  // The controller's custom metrics, and the alarms on by default.
  const monitoring = Object.keys(ControllerMetric).length * PRICE.customMetricPerMonth + m.alarmMetrics * PRICE.alarmMetricPerMonth;
  const loop = express + lambda + dynamo + scheduler + logs;
  return { ticks, express, lambda, dynamo, scheduler, logs, loop, monitoring, total: loop + monitoring, standard };
}

function main() {
  const rows = [1, 3, 10].map(interval => {
    const m = readTemplate(interval);
    const c = monthly(m);
    console.log(`  ${interval} s: $${fixed(c.total)} a month (${m.type}, ${m.memoryGb * 1024} MB ${m.arch}, ${m.transitionsPerTick} transitions a tick)`);
    return `| ${m.interval} s | ${Math.round(c.ticks).toLocaleString('en-US')} | ${fixed(c.express)} | ${fixed(c.lambda)} | ${fixed(c.dynamo)} | ${fixed(c.logs)} | `
      + `${fixed(c.scheduler)} | **${fixed(c.loop)}** | ${fixed(c.monitoring)} | **${fixed(c.total)}** | ${fixed(c.standard)} |`;
  });
  const scaleRows = ASSUME.atScale.map(a => {
    const m = readTemplate(3, a.maxTasks);
    const c = monthly(m, a.lambdaMs, a.logBytesPerTick);
    console.log(`  ${a.maxTasks} tasks at 3 s: $${fixed(c.total)} a month (${m.memoryGb * 1024} MB)`);
    return `| ${a.maxTasks.toLocaleString('en-US')} | ${m.memoryGb * 1024} MB | ${a.lambdaMs} ms | ${fixed(c.express)} | ${fixed(c.lambda)} | ${fixed(c.dynamo)} | `
      + `${fixed(c.logs)} | **${fixed(c.loop)}** | ${fixed(c.monitoring)} | **${fixed(c.total)}** |`;
  });
  // The queue source: one GetQueueAttributes a tick for the service (none per task).
  const queueRows = [1, 3, 10].map(interval => {
    const reads = MONTH_SECONDS / interval;
    return `| ${interval} s | ${Math.round(reads).toLocaleString('en-US')} | ${fixed(reads * PRICE.sqsPerRequest)} |`;
  });
  writeResults('Cost', 'npx ts-node -P tsconfig.dev.json bench/cost-model.ts', [
    'Monthly cost of one autoscaler in US dollars (us-east-1 list prices, no free tier), read from the synthesized template:',
    'Express workflow, 256 MB arm64 Lambda, a tick = Tick → Decide → KeepGoing? → WaitInterval (4 transitions).',
    `Assumed: ${ASSUME.lambdaMs} ms a warm tick; Express at 64 MB; a DynamoDB read every tick and a write only when the state`,
    `changes (a new 10-second history bucket, a new run, an action); ${ASSUME.logBytesPerTick} bytes of logs a tick.`,
    '',
    `Metrics and alarms: the controller's ${Object.keys(ControllerMetric).length} custom metrics at $${PRICE.customMetricPerMonth} and the default`,
    `alarms' metrics at $${PRICE.alarmMetricPerMonth} (standard resolution); an opt-in dashboard adds $3 beyond an account's first three.`,
    '',
    '| interval | ticks / month | Express | Lambda | DynamoDB | Logs | Scheduler | **loop** | metrics & alarms | **total** | same loop as Standard workflow |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    'Larger services at the 3 s interval: the controller\'s memory grows with `maxTasks` (its CPU share follows), and a',
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
    'reserved concurrency is free.',
    '',
    'Target: the loop ≤ $5 a month at 3 s for a service of up to 200 tasks (256 MB, as here); the metrics and alarms that page',
    'someone when it stops are on by default (`createAlarms: false` leaves only the custom metrics). The Standard column is',
    'the state transitions alone of an endless Standard workflow',
    '(which would also die at the 25,000-event history limit after a few hours).',
  ].join('\n'));
}

runBenchmark(main);
