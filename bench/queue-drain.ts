/**
 * A burst of 10,000 messages on a queue worker of 2 to 50 tasks: time to drain and
 * worker-minutes, ours against the two usual ways of scaling a worker on its backlog. A model,
 * not a run (no AWS here); every period in it is a documented default:
 * - Ours (`MetricSource.sqsQueue`): GetQueueAttributes every tick (3 s, and 1 s), desired =
 *   ceil((visible + in flight) / target), scale-out at once; scale-in after a 5-minute window, at
 *   most halving (the construct's rules).
 * - ECS target tracking on backlog per task, the pattern AWS documents for SQS workers: a
 *   function publishes backlog / running tasks every minute; the metric is read a minute after
 *   its period; target tracking's scale-out alarm needs 3 datapoints of 1 minute above the
 *   target, its scale-in alarm 15 below 90 % of it; each action sets ceil(current × metric /
 *   target); scale-out cooldown 300 s (a later scale-out may still add more), scale-in cooldown 300 s.
 * - KEDA's aws-sqs-queue scaler: polls every 30 s (its default pollingInterval), counting visible
 *   and in-flight messages (scaleOnInFlight), HPA syncs every 15 s with desired =
 *   ceil(backlog / target), scale-up at most double or +4 tasks per 15 s, scale-down after a
 *   300 s stabilization window.
 * Tasks start 45 s after they are asked for (as bench/policy-quality.ts) and each works through
 * `rate` messages a second; a stopped task's message returns to the queue at once.
 *
 * npx ts-node -P tsconfig.dev.json bench/queue-drain.ts
 */
import { fixed, runBenchmark, writeResults } from './bench-results';

const MESSAGES = 10_000;
const MIN_TASKS = 2;
const MAX_TASKS = 50;
const START_DELAY = 45;
const TARGET = 100; // messages of backlog per task
const DT = 0.1;
const HORIZON = 3600;

interface Policy {
  readonly name: string;
  /** Given the time, the backlog (visible + in flight), running and desired tasks: the new desired count. */
  decide(t: number, backlog: number, running: number, desired: number): number;
}

const clamp = (n: number) => Math.max(MIN_TASKS, Math.min(MAX_TASKS, n));

function ours(interval: number): Policy {
  let next = 0;
  const history: Array<[number, number]> = [];
  let lastAction = -Infinity;
  return {
    name: `cdk-fast-autoscaler, ${interval} s tick`,
    decide(t, backlog, _running, desired) {
      if (t < next) return desired;
      next = t + interval;
      const want = clamp(Math.ceil(backlog / TARGET));
      history.push([t, want]);
      while (history.length && history[0][0] < t - 300) history.shift();
      if (want > desired) return want;
      const windowMax = Math.max(...history.map(([, w]) => w));
      if (t - lastAction >= 300 && history[0][0] <= t - 300 + interval && windowMax < desired) {
        lastAction = t;
        history.length = 0;
        return Math.max(windowMax, Math.ceil(desired / 2), MIN_TASKS);
      }
      return desired;
    },
  };
}

function ecsTargetTracking(): Policy {
  const points: number[] = []; // backlog per running task, one a minute
  let minute = 0;
  let lastOut = -Infinity;
  let lastIn = -Infinity;
  return {
    name: 'ECS target tracking on backlog per task (1-minute metric)',
    decide(t, backlog, running, desired) {
      if (t < (minute + 1) * 60) return desired;
      // The datapoint of the minute just ended, available one minute later (the alarm evaluates then).
      points.push(backlog / Math.max(1, running));
      minute++;
      const visible = points.slice(0, Math.max(0, points.length - 1));
      const last = (n: number) => visible.slice(-n);
      const metric = visible[visible.length - 1];
      if (last(3).length === 3 && last(3).every(p => p > TARGET)) {
        const want = clamp(Math.ceil(desired * metric / TARGET));
        if (want > desired && (t - lastOut >= 300 || want > desired)) {
          lastOut = t;
          return want;
        }
      }
      if (last(15).length === 15 && last(15).every(p => p < 0.9 * TARGET) && t - lastIn >= 300 && t - lastOut >= 300) {
        const want = clamp(Math.ceil(desired * metric / TARGET));
        if (want < desired) {
          lastIn = t;
          return want;
        }
      }
      return desired;
    },
  };
}

function keda(): Policy {
  let nextPoll = 0;
  let nextSync = 0;
  let metric = 0;
  const recommendations: Array<[number, number]> = [];
  return {
    name: 'KEDA aws-sqs-queue (30 s poll, HPA every 15 s)',
    decide(t, backlog, _running, desired) {
      if (t >= nextPoll) {
        nextPoll = t + 30;
        metric = backlog;
      }
      if (t < nextSync) return desired;
      nextSync = t + 15;
      const want = clamp(Math.ceil(metric / TARGET));
      recommendations.push([t, want]);
      while (recommendations.length && recommendations[0][0] < t - 300) recommendations.shift();
      if (want > desired) return Math.min(want, Math.max(desired * 2, desired + 4));
      // Scale-down: the highest recommendation of the last 300 s.
      return Math.min(desired, Math.max(...recommendations.map(([, w]) => w)));
    },
  };
}

function simulate(policy: Policy, rate: number): { drainedAt: number; workerMinutes: number; drainWorkerMinutes: number; peak: number } {
  let visible = MESSAGES;
  let desired = MIN_TASKS;
  const starting: number[] = []; // times at which tasks will be running
  let running = MIN_TASKS;
  let workerSeconds = 0;
  let drainedAt = NaN;
  let drainWorkerSeconds = 0;
  let peak = MIN_TASKS;
  for (let t = 0; t < HORIZON; t += DT) {
    while (starting.length && starting[0] <= t) {
      starting.shift();
      running++;
    }
    const inFlight = Math.min(running, visible);
    const next = policy.decide(t, visible, running, desired);
    if (next > desired) for (let i = desired; i < next; i++) starting.push(t + START_DELAY);
    if (next < desired) {
      let stop = desired - next;
      while (stop > 0 && starting.length) {
        starting.pop();
        stop--;
      }
      running -= stop;
    }
    desired = next;
    peak = Math.max(peak, desired);
    workerSeconds += (running + starting.length) * DT; // a starting task is billed too
    visible = Math.max(0, visible - running * rate * DT);
    if (Number.isNaN(drainedAt) && visible <= 0 && inFlight <= 0) {
      drainedAt = t;
      drainWorkerSeconds = workerSeconds;
    }
  }
  return { drainedAt, workerMinutes: workerSeconds / 60, drainWorkerMinutes: drainWorkerSeconds / 60, peak };
}

function main() {
  const rows: string[] = [];
  for (const rate of [1, 4]) {
    for (const make of [() => ours(3), () => ours(1), ecsTargetTracking, keda]) {
      const policy = make();
      const r = simulate(policy, rate);
      console.log(`  ${rate}/s, ${policy.name}: drained at ${fixed(r.drainedAt, 0)} s, ${fixed(r.workerMinutes, 0)} worker-minutes`);
      rows.push(`| ${rate} | ${policy.name} | ${fixed(r.drainedAt / 60, 1)} | ${r.peak} | ${fixed(r.drainWorkerMinutes, 0)} | ${fixed(r.workerMinutes, 0)} |`);
    }
  }
  writeResults('Queue drain', 'npx ts-node -P tsconfig.dev.json bench/queue-drain.ts', [
    `A burst of ${MESSAGES.toLocaleString('en-US')} messages at once on a worker of ${MIN_TASKS} to ${MAX_TASKS} tasks, a target of ${TARGET} messages of`,
    `backlog per task, tasks that start ${START_DELAY} s after they are asked for, each working through 1 or 4 messages a second. A model,`,
    'not a run: the periods are the documented defaults of each (see the file\'s header): ECS target tracking on a backlog-per-task',
    'metric published every minute (3 datapoints to scale out, 15 to scale in), KEDA\'s 30 s poll with HPA\'s 15 s sync and its',
    'scale-up limit (double or +4 per sync), ours reading the live counts every tick. Worker-minutes count starting tasks too, over an hour.',
    '',
    '| messages / s a task | autoscaler | drained after (min) | peak tasks | worker-minutes to drain | worker-minutes in the hour |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n'));
}

runBenchmark(main);
