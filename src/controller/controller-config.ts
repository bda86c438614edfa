/**
 * The controller's configuration: written by the construct into the Lambda's
 * environment as JSON, read and checked by the handler. No AWS imports here: both
 * sides share this file.
 */

/** The name of the environment variable that carries the configuration. */
export const CONFIG_ENV = 'FAST_AUTOSCALER_CONFIG';

export type MetricName = 'ACTIVE_CONNECTIONS' | 'IN_FLIGHT_REQUESTS' | 'REQUESTS_PER_SECOND';

export const METRIC_NAMES: readonly MetricName[] = ['ACTIVE_CONNECTIONS', 'IN_FLIGHT_REQUESTS', 'REQUESTS_PER_SECOND'];

export interface StepConfig {
  readonly threshold: number;
  readonly desiredTasks: number;
}

export type PolicyConfig =
  | { readonly type: 'targetTracking'; readonly metric: MetricName; readonly targetPerTask: number }
  | { readonly type: 'steps'; readonly metric: MetricName; readonly steps: readonly StepConfig[] }
  | {
    readonly type: 'predictive';
    readonly metric: MetricName;
    readonly targetPerTask: number;
    /** The start delay assumed until tasks were seen starting, and the most the policy looks ahead by. */
    readonly startDelaySeconds: number;
  };

export interface ControllerConfig {
  /** The cluster's ARN or name. */
  readonly cluster: string;
  /** The service's name. */
  readonly service: string;
  /** The DynamoDB table holding the controller's state. */
  readonly table: string;
  readonly policy: PolicyConfig;
  readonly minTasks: number;
  readonly maxTasks: number;
  /** Most tasks one scale-out may add. */
  readonly maxScaleOutStep: number;
  readonly intervalSeconds: number;
  readonly scaleInEnabled: boolean;
  readonly scaleInWindowSeconds: number;
  /** The share of scrapes (0..1) that may fail before the controller holds. */
  readonly maxFailedScrapeRatio: number;
  readonly statusPort: number;
  /** How long one state-machine run drives the service before it ends. */
  readonly runSeconds: number;
  readonly dryRun: boolean;
}

/** The bounds both the construct and the controller enforce. */
export const LIMITS = {
  minTasks: [1, 5000],
  maxTasks: [1, 5000],
  maxScaleOutStep: [1, 5000],
  intervalSeconds: [1, 60],
  scaleInWindowSecondsMax: 3600,
  statusPort: [1, 65535],
  runSeconds: [1, 290],
  startDelaySeconds: [1, 600],
} as const;

/**
 * Reads and checks the configuration; throws naming every bad field, so that a
 * misconfigured controller (a hand-edited environment, a construct from another
 * version) fails loudly on its first tick instead of mis-scaling. It rejects what the
 * construct rejects.
 */
export function parseControllerConfig(raw: string | undefined): ControllerConfig {
  if (!raw) {
    throw new Error(`${CONFIG_ENV} is not set`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new Error(`${CONFIG_ENV} is not JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${CONFIG_ENV} must be a JSON object`);
  const c = parsed as Record<string, unknown>;
  const errors: string[] = [];
  const str = (k: string): string => {
    const v = c[k];
    if (typeof v !== 'string' || v.length === 0) errors.push(`${CONFIG_ENV}.${k} must be a non-empty string, got ${JSON.stringify(v)}`);
    return v as string;
  };
  const whole = (k: string, [min, max]: readonly [number, number]): number => {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      errors.push(`${CONFIG_ENV}.${k} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    }
    return v as number;
  };
  const bool = (k: string): boolean => {
    const v = c[k];
    if (typeof v !== 'boolean') errors.push(`${CONFIG_ENV}.${k} must be a boolean, got ${JSON.stringify(v)}`);
    return v as boolean;
  };
  const intervalSeconds = whole('intervalSeconds', LIMITS.intervalSeconds);
  const ratio = c.maxFailedScrapeRatio;
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) {
    errors.push(`${CONFIG_ENV}.maxFailedScrapeRatio must be a number from 0 to 1, got ${JSON.stringify(ratio)}`);
  }
  const config: ControllerConfig = {
    cluster: str('cluster'),
    service: str('service'),
    table: str('table'),
    policy: parsePolicy(c.policy, errors),
    minTasks: whole('minTasks', LIMITS.minTasks),
    maxTasks: whole('maxTasks', LIMITS.maxTasks),
    maxScaleOutStep: whole('maxScaleOutStep', LIMITS.maxScaleOutStep),
    intervalSeconds,
    scaleInEnabled: bool('scaleInEnabled'),
    scaleInWindowSeconds: whole('scaleInWindowSeconds',
      [Number.isInteger(intervalSeconds) && intervalSeconds >= 1 ? intervalSeconds : 1, LIMITS.scaleInWindowSecondsMax]),
    maxFailedScrapeRatio: ratio as number,
    statusPort: whole('statusPort', LIMITS.statusPort),
    runSeconds: whole('runSeconds', LIMITS.runSeconds),
    dryRun: bool('dryRun'),
  };
  if (errors.length === 0) {
    if (config.minTasks > config.maxTasks) {
      errors.push(`${CONFIG_ENV}.minTasks (${config.minTasks}) is above maxTasks (${config.maxTasks})`);
    }
    if (config.policy.type === 'steps') {
      config.policy.steps.forEach((step, i) => {
        if (step.desiredTasks < config.minTasks || step.desiredTasks > config.maxTasks) {
          errors.push(`${CONFIG_ENV}.policy.steps[${i}].desiredTasks must be within minTasks..maxTasks (${config.minTasks}..${config.maxTasks}), got ${step.desiredTasks}`);
        }
      });
    }
  }
  if (errors.length > 0) throw new Error(`invalid ${CONFIG_ENV}:\n  ${errors.join('\n  ')}`);
  return config;
}

function parsePolicy(p: unknown, errors: string[]): PolicyConfig {
  const policy = p as Record<string, unknown> | undefined;
  const invalid = { type: 'targetTracking', metric: 'ACTIVE_CONNECTIONS', targetPerTask: 1 } as PolicyConfig;
  if (!policy || typeof policy !== 'object') {
    errors.push(`${CONFIG_ENV}.policy must be an object, got ${JSON.stringify(p)}`);
    return invalid;
  }
  const metric = policy.metric as MetricName;
  if (!METRIC_NAMES.includes(metric)) {
    errors.push(`${CONFIG_ENV}.policy.metric must be one of ${METRIC_NAMES.join(', ')}, got ${JSON.stringify(metric)}`);
  }
  if (policy.type === 'targetTracking' || policy.type === 'predictive') {
    const target = policy.targetPerTask;
    if (typeof target !== 'number' || !Number.isFinite(target) || !(target > 0)) {
      errors.push(`${CONFIG_ENV}.policy.targetPerTask must be a number greater than 0, got ${JSON.stringify(target)}`);
    }
    if (policy.type === 'targetTracking') return { type: 'targetTracking', metric, targetPerTask: target as number };
    const delay = policy.startDelaySeconds;
    const [min, max] = LIMITS.startDelaySeconds;
    if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < min || delay > max) {
      errors.push(`${CONFIG_ENV}.policy.startDelaySeconds must be a whole number from ${min} to ${max}, got ${JSON.stringify(delay)}`);
    }
    return { type: 'predictive', metric, targetPerTask: target as number, startDelaySeconds: delay as number };
  }
  if (policy.type === 'steps') {
    const steps = policy.steps as StepConfig[];
    if (!Array.isArray(steps) || steps.length === 0) {
      errors.push(`${CONFIG_ENV}.policy.steps must be a non-empty list, got ${JSON.stringify(steps)}`);
      return invalid;
    }
    steps.forEach((step, i) => {
      const at = `${CONFIG_ENV}.policy.steps[${i}]`;
      if (!step || typeof step !== 'object') {
        errors.push(`${at} must be an object, got ${JSON.stringify(step)}`);
        return;
      }
      if (typeof step.threshold !== 'number' || !Number.isFinite(step.threshold) || step.threshold < 0) {
        errors.push(`${at}.threshold must be a number of 0 or more, got ${JSON.stringify(step.threshold)}`);
      }
      if (typeof step.desiredTasks !== 'number' || !Number.isInteger(step.desiredTasks) || step.desiredTasks < 0) {
        errors.push(`${at}.desiredTasks must be a whole number of 0 or more, got ${JSON.stringify(step.desiredTasks)}`);
      }
      const prev = steps[i - 1];
      if (prev && typeof prev === 'object') {
        if (!(step.threshold > prev.threshold)) {
          errors.push(`${CONFIG_ENV}.policy.steps must be in ascending order of threshold: steps[${i}].threshold is ${JSON.stringify(step.threshold)}, not above steps[${i - 1}].threshold ${JSON.stringify(prev.threshold)}`);
        }
        if (step.desiredTasks < prev.desiredTasks) {
          errors.push(`${CONFIG_ENV}.policy.steps must not ask for fewer tasks at a higher threshold: steps[${i}].desiredTasks is ${step.desiredTasks}, below steps[${i - 1}].desiredTasks ${prev.desiredTasks}`);
        }
      }
    });
    return { type: 'steps', metric, steps: steps.map(st => ({ threshold: st?.threshold, desiredTasks: st?.desiredTasks })) };
  }
  errors.push(`${CONFIG_ENV}.policy.type must be targetTracking, predictive or steps, got ${JSON.stringify(policy.type)}`);
  return invalid;
}
