/**
 * The loop's configuration: written by the construct into the controller's environment as
 * JSON, read and checked by the handler. One loop drives one service (a FastAutoscaler on its
 * own) or many (a ScalingLoop that services join). No AWS imports here: both sides share it.
 */
import { CONFIG_ENV, ControllerConfig, LIMITS, parseControllerConfig } from './controller-config';

/** The name of the environment variable that carries the loop's configuration. */
export const LOOP_CONFIG_ENV = 'FAST_AUTOSCALER_LOOP';

/**
 * One service as the loop reads it: its own controller configuration without what the loop
 * owns (the table, the interval, the run's length).
 */
export type ServiceEntry = Omit<ControllerConfig, 'table' | 'intervalSeconds' | 'runSeconds'>;

export interface LoopConfig {
  /** The loop's name: its lease's key and its metrics' `Loop` dimension. */
  readonly loop: string;
  /** The DynamoDB table holding the loop's lease and each service's state. */
  readonly table: string;
  readonly intervalSeconds: number;
  /** How long one state-machine run drives the services before it ends. */
  readonly runSeconds: number;
  /** The services, written in the environment: a FastAutoscaler's own loop of one. */
  readonly services?: readonly unknown[];
  /**
   * The SSM parameter path under which each joined service writes its entry (one String
   * parameter per service, from the service's own stack): a shared loop.
   */
  readonly registryPath?: string;
  /** Publish the loop's own metrics (its ticks, for its "stopped" alarm). */
  readonly loopMetrics: boolean;
  /**
   * How often each service's metrics are published, in seconds: one EMF record with every
   * tick's values since the last. 0 publishes every tick. @default 30
   */
  readonly metricsFlushSeconds?: number;
}

/** How often metrics are published unless the configuration says otherwise: well inside the alarms' one-minute periods. */
export const DEFAULT_METRICS_FLUSH_SECONDS = 30;

/** An SSM parameter path: slash-separated, letters, digits and `.-_`, at most 1,011 characters before the service's name. */
export const REGISTRY_PATH = /^(\/[a-zA-Z0-9_.-]+)+$/;

/** Reads and checks the loop's configuration; throws naming every bad field. */
export function parseLoopConfig(raw: string | undefined): LoopConfig {
  if (!raw) throw new Error(`${LOOP_CONFIG_ENV} is not set`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new Error(`${LOOP_CONFIG_ENV} is not JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${LOOP_CONFIG_ENV} must be a JSON object`);
  const c = parsed as Record<string, unknown>;
  const errors: string[] = [];
  for (const k of ['loop', 'table'] as const) {
    if (typeof c[k] !== 'string' || (c[k] as string).length === 0) errors.push(`${LOOP_CONFIG_ENV}.${k} must be a non-empty string, got ${JSON.stringify(c[k])}`);
  }
  const whole = (k: string, [min, max]: readonly [number, number]) => {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      errors.push(`${LOOP_CONFIG_ENV}.${k} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    }
  };
  whole('intervalSeconds', LIMITS.intervalSeconds);
  whole('runSeconds', LIMITS.runSeconds);
  if (c.metricsFlushSeconds !== undefined) whole('metricsFlushSeconds', [0, 50]);
  if (typeof c.loopMetrics !== 'boolean') errors.push(`${LOOP_CONFIG_ENV}.loopMetrics must be a boolean, got ${JSON.stringify(c.loopMetrics)}`);
  const hasServices = c.services !== undefined;
  const hasRegistry = c.registryPath !== undefined;
  if (hasServices === hasRegistry) {
    errors.push(`${LOOP_CONFIG_ENV} must name its services either inline (services) or through an SSM path (registryPath), exactly one of them`);
  }
  if (hasServices && !Array.isArray(c.services)) errors.push(`${LOOP_CONFIG_ENV}.services must be a list, got ${JSON.stringify(c.services)}`);
  if (hasRegistry && (typeof c.registryPath !== 'string' || !REGISTRY_PATH.test(c.registryPath))) {
    errors.push(`${LOOP_CONFIG_ENV}.registryPath must be an SSM parameter path such as /fast-autoscaler/loop, got ${JSON.stringify(c.registryPath)}`);
  }
  if (errors.length > 0) throw new Error(`invalid ${LOOP_CONFIG_ENV}:\n  ${errors.join('\n  ')}`);
  return c as unknown as LoopConfig;
}

/**
 * One service's full configuration: its entry with what the loop owns. Throws naming every
 * bad field; the loop catches it and counts it against that service alone.
 */
export function serviceConfigOf(entry: unknown, loop: LoopConfig): ControllerConfig {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new Error(`invalid ${CONFIG_ENV}: a service entry must be a JSON object, got ${JSON.stringify(entry)}`);
  }
  return parseControllerConfig(JSON.stringify({
    ...entry,
    table: loop.table,
    intervalSeconds: loop.intervalSeconds,
    runSeconds: loop.runSeconds,
  }));
}

/** The key of a service's state item, and of its memory in a warm instance: unique per cluster and service. */
export function serviceKeyOf(config: Pick<ControllerConfig, 'cluster' | 'service'>): string {
  return `service#${config.cluster}#${config.service}`;
}
