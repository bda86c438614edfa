/**
 * The controller's configuration: written by the construct into the Lambda's
 * environment as JSON, read and checked by the handler. No AWS imports here: both
 * sides share this file.
 */

/** The name of the environment variable that carries the configuration. */
export const CONFIG_ENV = 'FAST_AUTOSCALER_CONFIG';

export type MetricName =
  | 'ACTIVE_CONNECTIONS' | 'IN_FLIGHT_REQUESTS' | 'REQUESTS_PER_SECOND'
  | 'CPU_UTILIZATION' | 'MEMORY_UTILIZATION'
  | 'PROMETHEUS_GAUGE' | 'PROMETHEUS_COUNTER'
  | 'QUEUE_MESSAGES';

export const METRIC_NAMES: readonly MetricName[] = [
  'ACTIVE_CONNECTIONS', 'IN_FLIGHT_REQUESTS', 'REQUESTS_PER_SECOND', 'CPU_UTILIZATION', 'MEMORY_UTILIZATION',
  'PROMETHEUS_GAUGE', 'PROMETHEUS_COUNTER', 'QUEUE_MESSAGES',
];

/** Where the load is read: on each task, or (a queue) once for the service. */
export type SourceType = 'nginxProxy' | 'taskAgent' | 'prometheus' | 'sqsQueue';

/** Whether a source reads the tasks (and so needs one running), or reads without them. */
export function readsTasks(type: SourceType): boolean {
  return type !== 'sqsQueue';
}

/**
 * SQS documents that its approximate counts may not be consistent until at least a minute
 * after producers stop sending: no scale-in on a queue's count sooner than this after its last
 * non-zero reading, which a scale-in window at least this long guarantees.
 */
export const QUEUE_SETTLE_SECONDS = 60;

/** The metrics each source reads: the construct refuses any other pair, and so does the controller. */
export const SOURCE_METRICS: Readonly<Record<SourceType, readonly MetricName[]>> = {
  nginxProxy: ['ACTIVE_CONNECTIONS', 'IN_FLIGHT_REQUESTS', 'REQUESTS_PER_SECOND'],
  taskAgent: ['ACTIVE_CONNECTIONS', 'CPU_UTILIZATION', 'MEMORY_UTILIZATION'],
  prometheus: ['PROMETHEUS_GAUGE', 'PROMETHEUS_COUNTER'],
  sqsQueue: ['QUEUE_MESSAGES'],
};

/** The sources that read a metric, for error messages. */
export function sourcesOf(metric: MetricName): SourceType[] {
  return (Object.keys(SOURCE_METRICS) as SourceType[]).filter(s => SOURCE_METRICS[s].includes(metric));
}

/** One Prometheus series family: its samples named `name` whose labels include every pair of `labels`. */
export interface PrometheusSeries {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A metric name as the Prometheus text format allows it, and a label name (names beginning `__` are reserved). */
export const PROMETHEUS_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
export const PROMETHEUS_LABEL_NAME = /^(?!__)[a-zA-Z_][a-zA-Z0-9_]*$/;

export type SourceConfig =
  | { readonly type: 'nginxProxy' }
  | { readonly type: 'taskAgent' }
  | {
    readonly type: 'prometheus';
    /** The exposition's path on `statusPort`, e.g. /metrics. */
    readonly path: string;
    /** What the policy's PROMETHEUS_GAUGE or PROMETHEUS_COUNTER sums. */
    readonly series: PrometheusSeries;
  }
  | {
    readonly type: 'sqsQueue';
    readonly queueUrl: string;
    /** Count messages received but not yet deleted (a worker is busy with them). */
    readonly countInFlight: boolean;
    /** Count messages not yet visible (delayed). */
    readonly countDelayed: boolean;
  };

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
  /** Where each task's load is read, and how. */
  readonly source: SourceConfig;
  /** The port on each task where the load is read: the proxy's or the agent's status port, or the app's metrics port (0 for a queue). */
  readonly statusPort: number;
  /** How long one state-machine run drives the service before it ends. */
  readonly runSeconds: number;
  readonly dryRun: boolean;
  /** The SNS topic told of every scaling decision. @default - none */
  readonly topicArn?: string;
  /**
   * In a shared loop, the service's own role: the controller assumes it for every call on the
   * service (ECS, SNS, SQS). @default - the controller's own role (a loop of one)
   */
  readonly roleArn?: string;
  /**
   * The metrics published for this service (each custom metric costs a month's fee per
   * service): what its alarms and dashboard read, or more on request. @default - every one
   */
  readonly publishMetrics?: readonly string[];
}

/** The bounds both the construct and the controller enforce. */
export const LIMITS = {
  minTasks: [0, 5000],
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
  const source = parseSource(c.source, errors);
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
    source,
    // A queue is read through the SQS API, not on the tasks.
    statusPort: readsTasks(source.type) ? whole('statusPort', LIMITS.statusPort) : whole('statusPort', [0, 0]),
    runSeconds: whole('runSeconds', LIMITS.runSeconds),
    dryRun: bool('dryRun'),
    ...(c.topicArn !== undefined ? { topicArn: topicArnOf(c.topicArn, errors) } : {}),
    ...(c.roleArn !== undefined ? { roleArn: roleArnOf(c.roleArn, errors) } : {}),
    ...(c.publishMetrics !== undefined ? { publishMetrics: metricListOf(c.publishMetrics, errors) } : {}),
  };
  if (errors.length === 0) {
    if (config.minTasks > config.maxTasks) {
      errors.push(`${CONFIG_ENV}.minTasks (${config.minTasks}) is above maxTasks (${config.maxTasks})`);
    }
    if (config.minTasks === 0 && readsTasks(config.source.type)) {
      errors.push(`${CONFIG_ENV}.minTasks must be at least 1 with the source ${config.source.type}, which reads the running tasks, got 0`);
    }
    if (config.source.type === 'sqsQueue' && config.scaleInEnabled && config.scaleInWindowSeconds < QUEUE_SETTLE_SECONDS) {
      errors.push(`${CONFIG_ENV}.scaleInWindowSeconds must be at least ${QUEUE_SETTLE_SECONDS} with a queue and scale-in on, got ${config.scaleInWindowSeconds}`);
    }
    if (!SOURCE_METRICS[config.source.type].includes(config.policy.metric)) {
      errors.push(`${CONFIG_ENV}.policy.metric ${config.policy.metric} is not read by the source ${config.source.type}; it reads ${SOURCE_METRICS[config.source.type].join(', ')}`);
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

function topicArnOf(v: unknown, errors: string[]): string {
  if (typeof v !== 'string' || v.length === 0) {
    errors.push(`${CONFIG_ENV}.topicArn must be an SNS topic ARN, got ${JSON.stringify(v)}`);
  }
  return v as string;
}

function roleArnOf(v: unknown, errors: string[]): string {
  if (typeof v !== 'string' || v.length === 0) errors.push(`${CONFIG_ENV}.roleArn must be an IAM role ARN, got ${JSON.stringify(v)}`);
  return v as string;
}

/** The metrics to publish: a name it does not know is left out, never a reason to stop scaling the service. */
function metricListOf(v: unknown, errors: string[]): string[] {
  if (!Array.isArray(v)) {
    errors.push(`${CONFIG_ENV}.publishMetrics must be a list of metric names, got ${JSON.stringify(v)}`);
    return [];
  }
  return v.filter((m): m is string => typeof m === 'string');
}

function parseSource(raw: unknown, errors: string[]): SourceConfig {
  const source = raw as Record<string, unknown> | undefined;
  const at = `${CONFIG_ENV}.source`;
  if (!source || typeof source !== 'object') {
    errors.push(`${at} must be an object, got ${JSON.stringify(raw)}`);
    return { type: 'nginxProxy' };
  }
  if (source.type === 'nginxProxy' || source.type === 'taskAgent') return { type: source.type };
  if (source.type === 'sqsQueue') {
    const { queueUrl, countInFlight, countDelayed } = source;
    if (typeof queueUrl !== 'string' || queueUrl.length === 0) errors.push(`${at}.queueUrl must be a queue URL, got ${JSON.stringify(queueUrl)}`);
    if (typeof countInFlight !== 'boolean') errors.push(`${at}.countInFlight must be a boolean, got ${JSON.stringify(countInFlight)}`);
    if (typeof countDelayed !== 'boolean') errors.push(`${at}.countDelayed must be a boolean, got ${JSON.stringify(countDelayed)}`);
    return { type: 'sqsQueue', queueUrl: queueUrl as string, countInFlight: countInFlight as boolean, countDelayed: countDelayed as boolean };
  }
  if (source.type !== 'prometheus') {
    errors.push(`${at}.type must be nginxProxy, taskAgent, prometheus or sqsQueue, got ${JSON.stringify(source.type)}`);
    return { type: 'nginxProxy' };
  }
  const path = source.path;
  if (typeof path !== 'string' || !/^\/[\x21-\x7e]*$/.test(path)) {
    errors.push(`${at}.path must be an absolute path of printable ASCII without spaces, got ${JSON.stringify(path)}`);
  }
  const series = source.series as { name?: unknown; labels?: unknown } | undefined;
  const name = series?.name;
  if (typeof name !== 'string' || !PROMETHEUS_NAME.test(name)) {
    errors.push(`${at}.series.name must be a Prometheus metric name (${PROMETHEUS_NAME.source}), got ${JSON.stringify(name)}`);
  }
  const labels = series?.labels;
  if (!labels || typeof labels !== 'object' || Array.isArray(labels)
    || !Object.entries(labels).every(([k, v]) => PROMETHEUS_LABEL_NAME.test(k) && typeof v === 'string')) {
    errors.push(`${at}.series.labels must map label names (${PROMETHEUS_LABEL_NAME.source}) to strings, got ${JSON.stringify(labels)}`);
  }
  return { type: 'prometheus', path: path as string, series: { name: name as string, labels: labels as Record<string, string> } };
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
      if (typeof step.threshold !== 'number' || !Number.isFinite(step.threshold) || step.threshold <= 0) {
        errors.push(`${at}.threshold must be a number greater than 0, got ${JSON.stringify(step.threshold)}`);
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
