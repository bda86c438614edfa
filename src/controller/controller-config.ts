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
  | { readonly type: 'steps'; readonly metric: MetricName; readonly steps: readonly StepConfig[] };

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

/**
 * Reads and checks the configuration; throws naming the first bad field, so that a
 * misconfigured controller fails loudly on its first tick instead of mis-scaling.
 */
export function parseControllerConfig(raw: string | undefined): ControllerConfig {
  if (!raw) {
    throw new Error(`${CONFIG_ENV} is not set`);
  }
  const c = JSON.parse(raw) as Record<string, unknown>;
  const str = (k: string): string => {
    const v = c[k];
    if (typeof v !== 'string' || v.length === 0) throw new Error(`${CONFIG_ENV}.${k} must be a non-empty string, got ${JSON.stringify(v)}`);
    return v;
  };
  const num = (k: string, min: number, max: number): number => {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw new Error(`${CONFIG_ENV}.${k} must be a number in ${min}..${max}, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const bool = (k: string): boolean => {
    const v = c[k];
    if (typeof v !== 'boolean') throw new Error(`${CONFIG_ENV}.${k} must be a boolean, got ${JSON.stringify(v)}`);
    return v;
  };
  const config: ControllerConfig = {
    cluster: str('cluster'),
    service: str('service'),
    table: str('table'),
    policy: parsePolicy(c.policy),
    minTasks: num('minTasks', 0, 1_000_000),
    maxTasks: num('maxTasks', 1, 1_000_000),
    maxScaleOutStep: num('maxScaleOutStep', 1, 1_000_000),
    intervalSeconds: num('intervalSeconds', 1, 60),
    scaleInEnabled: bool('scaleInEnabled'),
    scaleInWindowSeconds: num('scaleInWindowSeconds', 1, 86_400),
    maxFailedScrapeRatio: num('maxFailedScrapeRatio', 0, 1),
    statusPort: num('statusPort', 1, 65_535),
    runSeconds: num('runSeconds', 1, 290),
    dryRun: bool('dryRun'),
  };
  if (config.minTasks > config.maxTasks) {
    throw new Error(`${CONFIG_ENV}.minTasks (${config.minTasks}) is above maxTasks (${config.maxTasks})`);
  }
  return config;
}

function parsePolicy(p: unknown): PolicyConfig {
  const policy = p as Record<string, unknown> | undefined;
  if (!policy || typeof policy !== 'object') throw new Error(`${CONFIG_ENV}.policy must be an object`);
  const metric = policy.metric as MetricName;
  if (!METRIC_NAMES.includes(metric)) {
    throw new Error(`${CONFIG_ENV}.policy.metric must be one of ${METRIC_NAMES.join(', ')}, got ${JSON.stringify(metric)}`);
  }
  if (policy.type === 'targetTracking') {
    const target = policy.targetPerTask;
    if (typeof target !== 'number' || !(target > 0)) {
      throw new Error(`${CONFIG_ENV}.policy.targetPerTask must be a number above 0, got ${JSON.stringify(target)}`);
    }
    return { type: 'targetTracking', metric, targetPerTask: target };
  }
  if (policy.type === 'steps') {
    const steps = policy.steps as StepConfig[];
    if (!Array.isArray(steps) || steps.length === 0) throw new Error(`${CONFIG_ENV}.policy.steps must be a non-empty list`);
    return { type: 'steps', metric, steps };
  }
  throw new Error(`${CONFIG_ENV}.policy.type must be targetTracking or steps, got ${JSON.stringify(policy.type)}`);
}
