/**
 * Policy quality: replays load traces through the controller's decision (the pure module
 * the Lambda runs) with a simulated task start delay, for target tracking, for the
 * predictive policy (its trend module too), for the original fixed steps, and for the
 * original fixed-threshold design (3 s ticks, then 60 s of pause after every scale-out). Reports seconds under capacity, task-minutes and scaling actions,
 * and draws a chart per trace.
 *
 * npx ts-node -P tsconfig.dev.json bench/policy-quality.ts
 */
import * as fs from 'fs';
import * as path from 'path';
import { fixed, runBenchmark, writeResults } from './bench-results';
import { PolicyConfig } from '../src/controller/controller-config';
import { learnedStartDelaySeconds, LoadHistory, loadProjectionOf } from '../src/controller/decide/load-trend';
import { Bucket, recordRecommendation, windowView } from '../src/controller/decide/recommendation-history';
import { decide, LoadProjection, recommend } from '../src/controller/decide/scaling-decision';
import { ORIGINAL_STEPS } from '../test/support/controller-config-fixture';
import { ansiCGaussian, ansiCUniform, ar1, stationaryInnovation } from '../test/support/seeded-noise';
import { renderVegaLite, taskStepsLayer } from '../test/support/vega-svg';

const TARGET = 100; // connections one task carries
const START_DELAY = 45; // seconds from UpdateService to a task serving (Fargate: tens of seconds)
const INTERVAL = 3;
const WINDOW = 300;
const MIN = 2;
const MAX = 20;
const TRACKING = { type: 'targetTracking' as const, metric: 'ACTIVE_CONNECTIONS' as const, targetPerTask: TARGET };
/** The predictive policy at its default start delay (60 s, the bound); it learns the 45 s from the tasks it sees start. */
const PREDICTIVE = { type: 'predictive' as const, metric: 'ACTIVE_CONNECTIONS' as const, targetPerTask: TARGET, startDelaySeconds: 60 };

/** Deterministic traces, one value a second; written to bench/traces/ so that every run replays the same ones. */
function traces(): Record<string, number[]> {
  const dir = path.join(__dirname, 'traces');
  fs.mkdirSync(dir, { recursive: true });
  const uniform = ansiCUniform(42);
  const noise = () => (uniform() - 0.5) * 0.1;
  const gen: Record<string, (t: number) => number> = {
    'surge': t => (t < 60 ? 80 : t < 420 ? 1200 : 150),
    'sawtooth': t => 50 + ((t % 150) / 150) * 900,
    'slow-ramp': t => 80 + (t / 900) * 1400,
    'flash-crowd': t => (t < 120 ? 120 : 120 + 1700 * Math.exp(-(t - 120) / 90)),
    // A day in 15 minutes: a morning and a higher evening peak, and three bursts of 15–30 s.
    'daily-bursts': t => 120 + 550 * bump(t, 250, 110) + 850 * bump(t, 640, 120)
      + (t >= 150 && t < 170 ? 400 : 0) + (t >= 430 && t < 445 ? 500 : 0) + (t >= 760 && t < 790 ? 300 : 0),
    'noisy-plateau': () => 600,
    // Five minutes at 3/s, three at 0.3/s, then flat: a ramp that slows down.
    'decelerating-ramp': t => (t < 300 ? 80 + 3 * t : t < 480 ? 980 + 0.3 * (t - 300) : 1034),
    // 1,000 connections whose noise persists (AR(1), φ 0.965 a second, 0.9 a tick; 5 %): connections that last many ticks.
    'autocorrelated-plateau': () => 1000,
  };
  // The plateau's noise is ±20 % (four times the others'), from its own sequence.
  const plateauUniform = ansiCUniform(7);
  const plateauNoise = () => (plateauUniform() - 0.5) * 0.4;
  // The autocorrelated plateau's: AR(1) over standard normal draws, from a sequence of its own (seed 11).
  const arNoise = ar1(0.965, stationaryInnovation(0.965, 0.05), ansiCGaussian(11));
  const out: Record<string, number[]> = {};
  for (const [name, f] of Object.entries(gen)) {
    const file = path.join(dir, `${name}.json`);
    if (!fs.existsSync(file)) {
      const n = name === 'noisy-plateau' ? plateauNoise : name === 'autocorrelated-plateau' ? arNoise : noise;
      fs.writeFileSync(file, JSON.stringify(Array.from({ length: 900 }, (_, t) => Math.max(0, Math.round(f(t) * (1 + n()))))));
    }
    out[name] = JSON.parse(fs.readFileSync(file, 'utf8'));
  }
  return out;
}

function bump(t: number, center: number, width: number): number {
  return Math.exp(-(((t - center) / width) ** 2));
}

interface Outcome {
  readonly underCapacitySeconds: number;
  readonly taskMinutes: number;
  readonly actions: number;
  readonly series: Array<{ t: number; load: number; capacity: number }>;
}

/** Replays one trace; `cooldownAfterScaleOut` models the original design's 60-second pause. */
function simulate(load: number[], policy: PolicyConfig, cooldownAfterScaleOut: number, scaleInEnabled: boolean, learnedShortBy = 0): Outcome {
  let desired = MIN;
  let tasks: number[] = Array(MIN).fill(-Infinity); // when each task became (or becomes) ready
  let history: Bucket[] = [];
  let pausedUntil = -1;
  let actions = 0;
  const loadHistory = new LoadHistory();
  // Every task serves START_DELAY after it was created, the service's first ones too: the
  // controller measured that delay (created to carrying load, src/controller/decide/serve-delays.ts)
  // before the trace begins; here tasks serve at a tick's moment, so the measure is exact.
  // `learnedShortBy`: what the look-ahead is before it has measured a task serve: created to
  // RUNNING, which comes that much before serving (health checks, warm-up).
  const lookAheadSeconds = policy.type === 'predictive'
    ? learnedStartDelaySeconds([(START_DELAY - learnedShortBy) * 1000], policy.startDelaySeconds) + INTERVAL : 0;
  let under = 0;
  let taskSeconds = 0;
  const series: Outcome['series'] = [];
  for (let t = 0; t < load.length; t++) {
    const ready = tasks.filter(r => r <= t).length;
    if (load[t] > ready * TARGET) under++;
    taskSeconds += tasks.length;
    series.push({ t, load: load[t] / TARGET, capacity: ready });
    if (t % INTERVAL !== 0 || t < pausedUntil) continue;
    const pending = tasks.length - ready;
    let projection: LoadProjection | undefined;
    if (policy.type === 'predictive') {
      loadHistory.record(t * 1000, load[t]);
      projection = loadProjectionOf(loadHistory.recent(t * 1000), lookAheadSeconds);
    }
    const rec = recommend({ policy, total: load[t], minTasks: MIN, maxTasks: MAX, projection });
    history = recordRecommendation(history, t + 1e6, rec, INTERVAL, WINDOW);
    // Every running task is read: the load of a second is what the tasks hold at once.
    const d = decide({
      policy,
      minTasks: MIN,
      maxTasks: MAX,
      maxScaleOutStep: MAX,
      scaleInEnabled,
      maxFailedScrapeRatio: 0.5,
      desiredCount: desired,
      pendingCount: pending,
      scrapedTasks: Math.max(1, ready),
      failedScrapes: 0,
      unknownValues: 0,
      total: load[t],
      window: windowView(history, t + 1e6, INTERVAL, WINDOW),
      projection,
    });
    if (d.action === 'HOLD') continue;
    actions++;
    if (d.desiredCount > desired) {
      tasks = [...tasks, ...Array(d.desiredCount - desired).fill(t + START_DELAY)];
      pausedUntil = t + cooldownAfterScaleOut;
    } else {
      tasks = [...tasks].sort((a, b) => a - b).slice(0, d.desiredCount);
    }
    desired = d.desiredCount;
  }
  return { underCapacitySeconds: under, taskMinutes: taskSeconds / 60, actions, series };
}

/**
 * The least standing headroom with which plain target tracking is short no longer than the
 * steps (target per task = TARGET / headroom, headroom from 1.0 in steps of 0.1): what meeting
 * that goal by capacity alone, without foreseeing anything, costs on a trace.
 */
function headroomRow(name: string, load: number[], o: Record<string, Outcome>): string | undefined {
  const steps = o['fixed steps'];
  if (o.predictive.underCapacitySeconds <= steps.underCapacitySeconds) return undefined;
  for (let tenths = 10; tenths <= 50; tenths++) {
    const h = tenths / 10;
    const r = simulate(load, { ...TRACKING, targetPerTask: TARGET / h }, 0, true);
    if (r.underCapacitySeconds <= steps.underCapacitySeconds) {
      return `| ${name} | ${steps.underCapacitySeconds} | ${fixed(h, 1)} × | ${fixed(r.taskMinutes, 1)} | ${fixed(0.6 * steps.taskMinutes, 1)} |`;
    }
  }
  return `| ${name} | ${steps.underCapacitySeconds} | more than 5 × | | ${fixed(0.6 * steps.taskMinutes, 1)} |`;
}

/** One row of the goals table: the predictive policy against the steps' and target tracking's figures. */
function goalRow(name: string, o: Record<string, Outcome>): string {
  const p = o.predictive;
  const steps = o['fixed steps'];
  const tracking = o['target tracking'];
  const budget = 0.6 * steps.taskMinutes;
  const plateau = name.endsWith('plateau');
  const checks = [
    p.underCapacitySeconds <= steps.underCapacitySeconds ? undefined : 'short for longer',
    p.taskMinutes <= budget ? undefined : `${fixed((100 * p.taskMinutes) / steps.taskMinutes, 1)} % of the steps' task-minutes`,
    !plateau || p.actions <= tracking.actions ? undefined : 'more actions than target tracking',
    !plateau || p.taskMinutes <= tracking.taskMinutes ? undefined : `${fixed(p.taskMinutes - tracking.taskMinutes, 1)} task-minutes more than target tracking`,
  ].filter(x => x !== undefined);
  const actions = plateau ? `${p.actions} (${tracking.actions})` : `${p.actions}`;
  return `| ${name} | ${p.underCapacitySeconds} (${steps.underCapacitySeconds}) | ${fixed(p.taskMinutes, 1)} (${fixed(budget, 1)}) | ${actions} | `
    + `${checks.length === 0 ? 'yes' : `no: ${checks.join(', ')}`} |`;
}

async function chart(name: string, outcomes: Record<string, Outcome>): Promise<string> {
  const first = Object.values(outcomes)[0];
  const rows = [
    ...first.series.map(s => ({ t: s.t, series: `load / ${TARGET}`, value: s.load })),
    ...Object.entries(outcomes).flatMap(([label, o]) => o.series.map(s => ({ t: s.t, series: `${label}: serving tasks`, value: s.capacity }))),
  ];
  const svg = await renderVegaLite({
    title: `${name}: load and serving tasks (start delay ${START_DELAY} s)`,
    width: 720,
    height: 280,
    layer: [taskStepsLayer(rows)],
  });
  const file = path.join(__dirname, 'charts', `policy-${name}.svg`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, svg);
  return path.relative(__dirname, file);
}

async function main() {
  const rows: string[] = [];
  const goals: string[] = [];
  const headroom: string[] = [];
  const charts: string[] = [];
  const learnedRows: string[] = [];
  for (const [name, load] of Object.entries(traces())) {
    const exact = simulate(load, PREDICTIVE, 0, true);
    const short = simulate(load, PREDICTIVE, 0, true, 10);
    learnedRows.push(`| ${name} | ${exact.underCapacitySeconds} / ${fixed(exact.taskMinutes, 1)} | ${short.underCapacitySeconds} / ${fixed(short.taskMinutes, 1)} |`);
    const outcomes: Record<string, Outcome> = {
      'target tracking': simulate(load, TRACKING, 0, true),
      'target tracking, 70 % headroom': simulate(load, { ...TRACKING, targetPerTask: 0.7 * TARGET }, 0, true),
      'predictive': simulate(load, PREDICTIVE, 0, true),
      'fixed steps': simulate(load, ORIGINAL_STEPS, 0, true),
      'original design (steps, 60 s pause)': simulate(load, ORIGINAL_STEPS, 60, true),
    };
    for (const [label, o] of Object.entries(outcomes)) {
      rows.push(`| ${name} | ${label} | ${o.underCapacitySeconds} | ${fixed(o.taskMinutes, 1)} | ${o.actions} |`);
    }
    goals.push(goalRow(name, outcomes));
    const h = headroomRow(name, load, outcomes);
    if (h) headroom.push(h);
    const file = await chart(name, outcomes);
    charts.push(`- ${name}: [${file}](${file})`);
  }
  writeResults('Policy quality', 'npx ts-node -P tsconfig.dev.json bench/policy-quality.ts', [
    `Eight 15-minute traces (bench/traces/, one value a second) replayed through the controller's decision module, ticking every ${INTERVAL} s,`,
    `tasks serving ${START_DELAY} s after UpdateService, ${MIN}–${MAX} tasks, scale-in on with a ${WINDOW / 60}-minute window; a task carries ${TARGET} connections.`,
    'Seconds under capacity: load above what the serving tasks carry. The steps are the original tiers (≥50 → 2, ≥100 → 10, ≥300 → 15, ≥500 → 20).',
    'The first four traces and decelerating-ramp (5 minutes at 3/s, 3 at 0.3/s, then flat) carry ±5 % of independent noise;',
    'daily-bursts is a day in 15 minutes (a morning and a higher evening peak) with three bursts of 15–30 s (+400, +500,',
    '+300 connections at once); noisy-plateau is 600 connections with ±20 % of independent noise; autocorrelated-plateau is',
    '1,000 connections with 5 % of noise that persists (AR(1), φ 0.965 a second, 0.9 a tick: connections that last many ticks).',
    `The predictive policy runs at its defaults (start delay bound 60 s); the tasks' start delay, ${START_DELAY} s, is what its catalog`,
    'measures from the first tick (the service\'s first tasks took that long too). It is fed every tick\'s total, as a tick with',
    'every task read is.',
    '',
    '| trace | policy | seconds under capacity | task-minutes | scaling actions |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    'Target tracking at exactly the capacity of a task lags a load that keeps growing by the start delay: set',
    '`targetPerTask` below what a task can carry (here 70 %) for headroom. The steps jump to many tasks at once: never short',
    'on the ramps, at about twice the task-minutes. The original design\'s 60 s pause costs nothing on these traces because its steps',
    'already overshoot; it would on a surge that grows past a step within the minute.',
    '',
    'The predictive policy against the goals of issue 16 (seconds under capacity no more than the fixed steps\', at no more',
    'than 60 % of their task-minutes; on the plateaus no more scaling actions and no more task-minutes than target tracking):',
    '',
    '| trace | seconds under capacity (steps) | task-minutes (60 % of steps) | actions (target tracking) | goals met |',
    '| --- | --- | --- | --- | --- |',
    ...goals,
    '',
    'On the traces where it is short for longer than the steps, the least standing headroom with which plain target',
    'tracking is not (a target per task of 100 / headroom, in tenths): what meeting that goal with capacity alone costs.',
    '',
    '| trace | steps: seconds under capacity | headroom target tracking needs | its task-minutes | 60 % of the steps\' |',
    '| --- | --- | --- | --- | --- |',
    ...headroom,
    '',
    'It misses the goals on six of the eight traces. What these replays show about each miss:',
    '- The surge: 60.1 % of the steps\' task-minutes. Target tracking at exactly a task\'s capacity, which buys nothing ahead,',
    '  takes the same 151.3: the load needs 13 tasks for six minutes and the unchanged scale-in guards keep them five more.',
    '  No policy that carries this load once its tasks are ready spends less; the goal sits 0.2 task-minutes below that.',
    '- The sawtooth and the decelerating ramp start to climb at the first second, from two tasks. The steps order ten tasks',
    '  at the tick the load crosses 100 (t = 9 s); a trend needs six readings, and the predictive policy\'s first order comes',
    '  at t = 15 s (sawtooth) and t = 18 s, while the load is over two tasks\' capacity from t = 25 s and t = 40 s. That first',
    '  climb is 39 of the sawtooth\'s 41 s and 23 of the decelerating ramp\'s 27 s.',
    '- The daily trace: 20 s are its first burst (t = 150–169 s: 15–30 s bursts of +300 to +500 connections are shorter than',
    '  the start delay and come without a trend, and only standing capacity meets them, which is what the steps buy); 21 s',
    '  the morning peak\'s first climb from two tasks (t = 99–119 s) and 38 more as it goes on (t = 134–194 s, the burst',
    '  aside); 60 s the evening peak\'s climb (t = 580–656 s). A curve\'s residuals about a straight line are autocorrelated,',
    '  so the widened variance sees these climbs late, and as weak trends.',
    '- The slow ramp is short for 39 s in slices of 1–4 s spread over the ramp: noise peaks above a projection that follows',
    '  the lower end of the slope\'s interval wherever the trend is only weakly significant (the cost of asking little of a',
    '  weak trend: see src/controller/decide/load-trend.ts).',
    '- The autocorrelated plateau: 45 of its 59 s are the first tasks\' start delay, as for every policy; 9 more because the',
    '  load drifted from 991 to 1,096 before the ten tasks the first tick ordered served; 5 are a drift to +11 % at its end',
    '  (the steps hold 20 tasks throughout). Its five actions',
    '  (target tracking three) cost 5.3 task-minutes (3 %): drifts the widened variance still takes for ramps.',
    '- A projected peak, a false one too, enters the scale-in window and holds scale-in for a whole window.',
    '',
    'The projection before this version (the lower end of the slope\'s interval from the 90th percentile of the last',
    'minute\'s readings) was short for 42 s (sawtooth), 52 s (slow ramp), 148 s (daily) and 33 s (decelerating ramp) at',
    '160.5, 136.4, 141.2 and 151.3 task-minutes; the others are unchanged.',
    '',
    'The look-ahead is the time from created to carrying load that the controller measures in its scrapes (up to one interval',
    'long: it sees a task serve at its next tick). Until it has seen a new task begin to serve (a new Lambda instance, a service',
    'that has not scaled since), it uses created → RUNNING from ECS, which comes before serving (health checks, warm-up). The',
    `predictive policy with the measured delay (${START_DELAY} s) and with created → RUNNING when RUNNING comes 10 s before serving`,
    '(seconds under capacity / task-minutes):',
    '',
    '| trace | measured: created → serving | before any measure: created → RUNNING, 10 s short |',
    '| --- | --- | --- |',
    ...learnedRows,
    '',
    'Charts:',
    ...charts,
  ].join('\n'));
}

runBenchmark(main);
