/**
 * The local demo: the whole control loop against local tasks, with the default 3-second
 * interval. Two tasks start, a scripted surge arrives, the autoscaler scales out, the surge
 * grows, then ebbs; the run ends with a summary, a chart (SVG) and a JSON record of every tick.
 *
 * Run it with ./examples/local-demo/run.sh (which installs what it needs).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Duration } from 'aws-cdk-lib';
import { renderRunChart } from './run-chart';
import { ScalingMetric, ScalingPolicy } from '../../src';
import { installLoopbackGuard } from '../../test/support/aws-loopback';
import { LocalCluster } from '../../test/support/local-cluster';
import { TickLog } from '../../test/support/local-control-loop';

/** The script: [seconds from start, open connections]. */
export const LOAD_SCRIPT: Array<[number, number]> = [
  [0, 20],
  [12, 200], // the surge
  [50, 300], // it grows
  [80, 40], // it ebbs
];
const DURATION_SECONDS = 150;
const TARGET_PER_TASK = 20;
const START_DELAY_MS = 8000;

interface LoadSample {
  readonly t: number;
  readonly connections: number;
  readonly desired: number;
  readonly running: number;
}

async function main() {
  installLoopbackGuard();
  const outDir = path.join(__dirname, 'out');
  fs.mkdirSync(outDir, { recursive: true });
  // Time counts from the moment the control loop starts, as the load script does.
  let t0 = Date.now();
  const seconds = (at: number) => (at - t0) / 1000;
  console.log(`cdk-fast-autoscaler local demo: 2 tasks, target ${TARGET_PER_TASK} connections per task, 3 s interval,`);
  console.log(`tasks take ${START_DELAY_MS / 1000} s to start; load script ${LOAD_SCRIPT.map(([t, c]) => `${t}s:${c}`).join(' ')}\n`);
  console.log('   time  load  desired running  action       connections per task');

  let cluster: LocalCluster | undefined;
  const samples: LoadSample[] = [];
  /** When each step of the load script was applied, seconds. */
  const loadChanges: number[] = [];
  const timers: NodeJS.Timeout[] = [];
  const stop = async () => {
    timers.forEach(t => clearTimeout(t));
    await cluster?.stop();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    cluster = await LocalCluster.start({
      initialTasks: 2,
      startDelayMs: START_DELAY_MS,
      appDelayMs: 200,
      autoscaler: {
        policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: TARGET_PER_TASK }),
        minTasks: 2,
        maxTasks: 20,
        // Off by default; on here, with a short window, to show the whole loop in two minutes.
        disableScaleIn: false,
        scaleInWindow: Duration.seconds(20),
      },
      onTick: tick => printTick(seconds(tick.seenAt), tick),
    });
    const c = cluster;
    t0 = Date.now();
    c.loop.startSchedule();
    for (const [at, connections] of LOAD_SCRIPT) {
      timers.push(setTimeout(() => {
        loadChanges.push(seconds(Date.now()));
        c.load.setConnections(connections);
        console.log(`  ${seconds(Date.now()).toFixed(1).padStart(5)}s  ---- load: ${connections} connections ----`);
      }, at * 1000));
    }
    const sampler = setInterval(() => samples.push({
      t: seconds(Date.now()), connections: c.load.openConnections, desired: c.ecs.desiredCount, running: c.ecs.runningTasks.length,
    }), 500);
    await new Promise(resolve => setTimeout(resolve, DURATION_SECONDS * 1000));
    clearInterval(sampler);

    const ticks = c.loop.ticks.map(t => ({ ...t, t: seconds(t.seenAt) }));
    const updates = c.ecs.callsOf('UpdateService').filter(u => !u.error).map(u => ({ t: seconds(u.at), desiredCount: u.input.desiredCount }));
    const surgeAt = loadChanges[1];
    const firstScaleOut = updates.find(u => u.t >= surgeAt);
    const peak = Math.max(...samples.map(s => s.running));
    const summary = {
      surgeToFirstUpdateServiceSeconds: firstScaleOut ? round(firstScaleOut.t - surgeAt) : null,
      peakRunningTasks: peak,
      scalingCalls: updates.length,
      notifications: c.sns?.published.length ?? 0,
      ticks: ticks.length,
      interval: '3 s',
      taskStartDelaySeconds: START_DELAY_MS / 1000,
    };
    fs.writeFileSync(path.join(outDir, 'run.json'), JSON.stringify({ summary, loadScript: LOAD_SCRIPT, samples, updates, ticks }, null, 1));
    fs.writeFileSync(path.join(outDir, 'run.svg'), await renderRunChart(samples, updates, TARGET_PER_TASK));
    console.log('\nsummary');
    console.log(`  surge to first UpdateService call: ${summary.surgeToFirstUpdateServiceSeconds ?? 'none'} s`);
    console.log(`  peak running tasks:                ${peak}`);
    console.log(`  scaling calls / notifications:     ${summary.scalingCalls} / ${summary.notifications}`);
    console.log(`  every tick: ${path.relative(process.cwd(), path.join(outDir, 'run.json'))}`);
    console.log(`  chart:      ${path.relative(process.cwd(), path.join(outDir, 'run.svg'))}`);
  } finally {
    await stop();
  }
}

function printTick(t: number, tick: TickLog) {
  if (!tick.continue && tick.scraped === 0) {
    console.log(`  ${t.toFixed(1).padStart(5)}s  (run ${tick.runId.split('-')[1]} ends: ${tick.reason})`);
    return;
  }
  const values = Object.values(tick.perTaskValues ?? {}).map(v => (v === null ? '?' : String(Math.round(v))));
  const action = tick.action === 'HOLD' ? 'hold' : `${tick.action === 'SCALE_OUT' ? 'OUT' : 'IN'} -> ${tick.desiredCount}`;
  console.log(`  ${t.toFixed(1).padStart(5)}s ${String(Math.round(tick.total)).padStart(5)} ${String(tick.previousDesiredCount).padStart(8)} ${String(tick.running).padStart(7)}  ${action.padEnd(12)} ${values.join(' ')}`);
}

function round(n: number) {
  return Math.round(n * 100) / 100;
}

main().then(() => process.exit(0), err => {
  console.error(err);
  process.exit(1);
});
