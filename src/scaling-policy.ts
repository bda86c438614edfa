import { Duration, Token } from 'aws-cdk-lib';
import { LIMITS, MetricName, PolicyConfig, PROMETHEUS_LABEL_NAME, PROMETHEUS_NAME, PrometheusSeries } from './controller/controller-config';

/**
 * What the controller measures on every task. Each metric is read by some metric sources
 * (`metricSource`): the proxy's nginx stub_status gives connections, requests in flight and
 * requests per second; the task agent connections, CPU and memory; Prometheus the app's own
 * gauges and counters; a queue its messages (`QUEUE_MESSAGES`, read once for the service).
 */
export class ScalingMetric {
  /**
   * Open client connections per task. Through the proxy: stub_status "Active connections",
   * minus the status request's own (idle keep-alive connections from the load balancer
   * included). Through the task agent: the established inbound TCP connections on the app's
   * ports (a draining task's count for nothing).
   */
  public static readonly ACTIVE_CONNECTIONS = new ScalingMetric('ACTIVE_CONNECTIONS');

  /**
   * The task's CPU use, as a percentage of its task-level CPU (100 = every vCPU the task has),
   * from the CPU used between the task metadata endpoint's two latest samples (read by the task
   * agent); Fargate does not document their spacing (one public capture shows 10 s).
   */
  public static readonly CPU_UTILIZATION = new ScalingMetric('CPU_UTILIZATION');

  /**
   * The task's memory use less its inactive file cache, as a percentage of its task-level
   * memory (read by the task agent).
   */
  public static readonly MEMORY_UTILIZATION = new ScalingMetric('MEMORY_UTILIZATION');

  /**
   * A queue's messages (visible, plus in flight and delayed as `MetricSource.sqsQueue` says),
   * read once a tick for the service. With target tracking, `targetPerTask` is each task's
   * share of the backlog: tasks = ceil(messages / targetPerTask).
   */
  public static readonly QUEUE_MESSAGES = new ScalingMetric('QUEUE_MESSAGES');

  /**
   * Requests being read or answered right now (stub_status Reading + Writing, minus the
   * status request): true concurrency, the metric Knative scales on.
   */
  public static readonly IN_FLIGHT_REQUESTS = new ScalingMetric('IN_FLIGHT_REQUESTS');

  /**
   * Requests per second, from the growth of stub_status's request counter between ticks.
   */
  public static readonly REQUESTS_PER_SECOND = new ScalingMetric('REQUESTS_PER_SECOND');

  /**
   * A gauge of the app's own Prometheus exposition (requests in flight, queue depth, busy
   * workers), read by `MetricSource.prometheus`: the samples named `name` whose labels include
   * every pair of `labels`, summed per task. No such sample reads 0 when the exposition declares the
   * family (`# TYPE`); a task whose exposition does not is unread.
   * @param name the sample name exactly as exposed, e.g. `http_requests_in_flight`
   * @param labels label values the samples must have, e.g. `{ route: '/api' }`
   */
  public static prometheusGauge(name: string, labels?: { [name: string]: string }): ScalingMetric {
    return new ScalingMetric('PROMETHEUS_GAUGE', checkSeries('ScalingMetric.prometheusGauge', name, labels));
  }

  /**
   * A counter of the app's own Prometheus exposition, as a rate per second between ticks
   * (read by `MetricSource.prometheus`), with the care `REQUESTS_PER_SECOND` takes: no rate
   * without a baseline, over a gap too short or too long, or across a restart.
   * @param name the sample name exactly as exposed, e.g. `http_requests_total`
   * @param labels label values the samples must have, e.g. `{ code: '200' }`
   */
  public static prometheusCounter(name: string, labels?: { [name: string]: string }): ScalingMetric {
    return new ScalingMetric('PROMETHEUS_COUNTER', checkSeries('ScalingMetric.prometheusCounter', name, labels));
  }

  /** The Prometheus samples this metric sums, for the two Prometheus metrics. @internal */
  public readonly _series?: PrometheusSeries;

  /**
   * @param name the metric's name, as the controller and its logs know it
   */
  private constructor(public readonly name: string, series?: PrometheusSeries) {
    this._series = series;
  }
}

function checkSeries(factory: string, name: string, labels: { [name: string]: string } | undefined): PrometheusSeries {
  if (typeof name !== 'string' || !PROMETHEUS_NAME.test(name)) {
    throw new Error(`\`name\` of ${factory}() must be a Prometheus metric name (letters, digits, _ and :, not beginning with a digit), got ${JSON.stringify(name)}`);
  }
  const pairs = Object.entries(labels ?? {});
  for (const [label, value] of pairs) {
    if (!PROMETHEUS_LABEL_NAME.test(label)) {
      throw new Error(`\`labels\` of ${factory}() must have Prometheus label names (letters, digits and _, not beginning with a digit or __), got ${JSON.stringify(label)}`);
    }
    if (typeof value !== 'string') {
      throw new Error(`\`labels.${label}\` of ${factory}() must be a string, got ${JSON.stringify(value)}`);
    }
  }
  return { name, labels: Object.fromEntries(pairs) };
}

/**
 * Properties of a target-tracking policy.
 */
export interface TargetTrackingPolicyProps {
  /**
   * The metric to track.
   */
  readonly metric: ScalingMetric;

  /**
   * The value of the metric that one task should carry: the desired count is
   * ceil(total / targetPerTask).
   */
  readonly targetPerTask: number;
}

/**
 * Properties of a predictive policy: target tracking that looks ahead by the time a new
 * task takes to start.
 */
export interface PredictivePolicyProps extends TargetTrackingPolicyProps {
  /**
   * How long a new task takes from the scale-out to serving. The controller measures it: the
   * median of the newest five new tasks' times from created to the first reading in which
   * they carry a quarter of the serving tasks' mean load (so the load balancer's health
   * checks and the app's warm-up are in it), never less than their time to RUNNING as ECS
   * reports it, which it uses alone until it has seen a new task begin to serve. It uses this value until it has seen a task start, and
   * never looks further ahead than this, so that one task stuck in an image pull does not
   * make it plan minutes ahead. Set it to about the longest start you expect, health checks
   * included. Whole seconds, from 1 to 600.
   *
   * @default Duration.seconds(60)
   */
  readonly startDelay?: Duration;
}

/**
 * One row of a step policy: from `threshold` (total over all tasks) upwards,
 * run `desiredTasks` tasks.
 */
export interface ScalingStep {
  /**
   * The lowest total metric value at which this step applies.
   */
  readonly threshold: number;

  /**
   * The number of tasks to run from this threshold upwards.
   */
  readonly desiredTasks: number;
}

/**
 * Properties of a step policy.
 */
export interface StepPolicyProps {
  /**
   * The metric whose total over all tasks the thresholds apply to.
   */
  readonly metric: ScalingMetric;

  /**
   * The steps, in ascending order of both threshold and desired tasks. Below the first
   * threshold the service runs `minTasks`.
   */
  readonly steps: ScalingStep[];
}

/**
 * How the controller turns the measured metric into a desired task count.
 */
export abstract class ScalingPolicy {
  /**
   * Keep the metric per task at `targetPerTask`: desired = ceil(total / targetPerTask).
   */
  public static targetTracking(props: TargetTrackingPolicyProps): ScalingPolicy {
    return new TargetTrackingPolicy(props);
  }

  /**
   * Target tracking that has capacity ready when the load arrives: besides what the load
   * needs now (exactly as `targetTracking`), it asks for what the load will need when the
   * tasks it asks for are ready, one start delay ahead along the load's recent trend.
   *
   * The trend is Sen's slope over the last minute of ticks that read every task (seven
   * intervals when longer), and counts only when the load rises beyond its noise: the lower
   * end of the slope's one-sided 99.5 % confidence interval is above zero, with the
   * Mann–Kendall variance widened for noise that persists from tick to tick (Hamed & Rao).
   * It asks for what the load needs one start delay ahead along the line through the last
   * minute: at Sen's slope itself, with room for the noise's peaks, when the trend is sure at
   * 99.99 %; at the lower end of its interval, without room, when it is only just significant
   * (as a noisy plateau is now and then). A single burst or a step to a new level are
   * seldom taken for a ramp, but not never (bench/RESULTS.md: a plateau of persistent noise costs a few task-minutes more than
   * target tracking); a ramp is met by tasks that started before it got there. Scale-in
   * guards are unchanged, but a projected peak, a false one too, enters the recommendation
   * the scale-in window remembers and holds scale-in for a whole window.
   *
   * Use it when load builds over tens of seconds to minutes (daily traffic, campaigns,
   * a queue of users arriving) and new tasks take tens of seconds to serve. A load that
   * jumps within seconds, or a burst shorter than the start delay, is met only by headroom:
   * a `targetPerTask` below what a task can carry.
   */
  public static predictive(props: PredictivePolicyProps): ScalingPolicy {
    return new PredictivePolicy(props);
  }

  /**
   * Fixed tiers: the total metric selects the desired count from a table,
   * e.g. ≥ 50 connections → 2 tasks, ≥ 100 → 10, ≥ 300 → 15, ≥ 500 → 20.
   */
  public static steps(props: StepPolicyProps): ScalingPolicy {
    return new StepPolicy(props);
  }

  /**
   * The metric this policy reads.
   */
  public abstract readonly metric: ScalingMetric;

  /**
   * Checks the policy against the task bounds; returns the errors, each naming the prop.
   * @internal
   */
  public abstract _validate(minTasks: number, maxTasks: number): string[];

  /**
   * The policy as the controller reads it from its configuration.
   * @internal
   */
  public abstract _render(): PolicyConfig;
}

class TargetTrackingPolicy extends ScalingPolicy {
  public readonly metric: ScalingMetric;
  private readonly targetPerTask: number;

  constructor(props: TargetTrackingPolicyProps) {
    super();
    this.metric = props.metric;
    this.targetPerTask = props.targetPerTask;
    if (!Token.isUnresolved(props.targetPerTask) && !(Number.isFinite(props.targetPerTask) && props.targetPerTask > 0)) {
      throw new Error(`\`targetPerTask\` must be a number greater than 0, got ${props.targetPerTask}`);
    }
  }

  public _validate(): string[] {
    return [];
  }

  public _render(): PolicyConfig {
    return { type: 'targetTracking', metric: this.metric.name as MetricName, targetPerTask: this.targetPerTask };
  }
}

class PredictivePolicy extends TargetTrackingPolicy {
  private readonly startDelaySeconds: number;

  constructor(props: PredictivePolicyProps) {
    super(props);
    const delay = props.startDelay ?? Duration.seconds(60);
    if (Token.isUnresolved(delay.toString())) {
      throw new Error('`startDelay` must be a plain duration: the controller compares it at run time, not a token');
    }
    const seconds = delay.toSeconds({ integral: false });
    const [min, max] = LIMITS.startDelaySeconds;
    if (!Number.isInteger(seconds) || seconds < min || seconds > max) {
      throw new Error(`\`startDelay\` must be a whole number of seconds from ${min} to ${max}, got ${delay.toHumanString()}`);
    }
    this.startDelaySeconds = seconds;
  }

  public _render(): PolicyConfig {
    const tracking = super._render() as { metric: MetricName; targetPerTask: number };
    return { type: 'predictive', metric: tracking.metric, targetPerTask: tracking.targetPerTask, startDelaySeconds: this.startDelaySeconds };
  }
}

class StepPolicy extends ScalingPolicy {
  public readonly metric: ScalingMetric;
  private readonly steps: ScalingStep[];

  constructor(props: StepPolicyProps) {
    super();
    this.metric = props.metric;
    this.steps = props.steps.map(s => ({ threshold: s.threshold, desiredTasks: s.desiredTasks }));
    if (this.steps.length === 0) {
      throw new Error('`steps` must hold at least one step, got an empty list');
    }
    this.steps.forEach((step, i) => {
      if (Token.isUnresolved(step.threshold) || Token.isUnresolved(step.desiredTasks)) {
        throw new Error(`\`steps[${i}]\` must be plain numbers: the controller compares them at run time, not tokens`);
      }
      if (!Number.isFinite(step.threshold) || step.threshold <= 0) {
        throw new Error(`\`steps[${i}].threshold\` must be a number greater than 0, got ${step.threshold}: below the first threshold the service runs \`minTasks\``);
      }
      if (!Number.isInteger(step.desiredTasks) || step.desiredTasks < 0) {
        throw new Error(`\`steps[${i}].desiredTasks\` must be a whole number of 0 or more, got ${step.desiredTasks}`);
      }
      const prev = this.steps[i - 1];
      if (prev && step.threshold <= prev.threshold) {
        throw new Error(
          `\`steps\` must be in ascending order of threshold: \`steps[${i}].threshold\` is ${step.threshold}, not above \`steps[${i - 1}].threshold\` ${prev.threshold}`,
        );
      }
      if (prev && step.desiredTasks < prev.desiredTasks) {
        throw new Error(
          `\`steps\` must not ask for fewer tasks at a higher threshold: \`steps[${i}].desiredTasks\` is ${step.desiredTasks}, below \`steps[${i - 1}].desiredTasks\` ${prev.desiredTasks}`,
        );
      }
    });
  }

  public _validate(minTasks: number, maxTasks: number): string[] {
    const errors: string[] = [];
    this.steps.forEach((step, i) => {
      if (step.desiredTasks < minTasks || step.desiredTasks > maxTasks) {
        errors.push(
          `\`steps[${i}].desiredTasks\` must be within \`minTasks\`..\`maxTasks\` (${minTasks}..${maxTasks}), got ${step.desiredTasks}`,
        );
      }
    });
    return errors;
  }

  public _render(): PolicyConfig {
    return { type: 'steps', metric: this.metric.name as MetricName, steps: this.steps };
  }
}
