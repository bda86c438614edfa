import { Template } from 'aws-cdk-lib/assertions';
import { controllerFunction, placeholderText } from './template-lookups';
import { ControllerConfig, PolicyConfig } from '../../src/controller/controller-config';
import { LOOP_CONFIG_ENV, LoopConfig, parseLoopConfig, serviceConfigOf } from '../../src/controller/loop-config';

/** The original fixed tiers: total connections → tasks. */
export const ORIGINAL_STEPS: PolicyConfig = {
  type: 'steps',
  metric: 'ACTIVE_CONNECTIONS',
  steps: [
    { threshold: 50, desiredTasks: 2 },
    { threshold: 100, desiredTasks: 10 },
    { threshold: 300, desiredTasks: 15 },
    { threshold: 500, desiredTasks: 20 },
  ],
};

/** A valid controller configuration for tests and benchmarks, with the given fields replaced. */
export function controllerConfig(overrides: Partial<ControllerConfig> = {}): ControllerConfig {
  return {
    cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/web',
    service: 'web',
    table: 'state',
    policy: { type: 'targetTracking', metric: 'ACTIVE_CONNECTIONS', targetPerTask: 10 },
    minTasks: 1,
    maxTasks: 5,
    maxScaleOutStep: 5,
    intervalSeconds: 3,
    scaleInEnabled: false,
    scaleInWindowSeconds: 300,
    maxFailedScrapeRatio: 0.5,
    source: { type: 'nginxProxy' },
    statusPort: 8022,
    runSeconds: 90,
    dryRun: false,
    ...overrides,
  };
}

/** The one service's controller configuration as the construct wrote it into the loop's environment, read back by the controller. */
export function renderedControllerConfig(template: Template): ControllerConfig {
  const loop = renderedLoopConfig(template);
  if (!loop.services || loop.services.length !== 1) throw new Error(`expected one inline service, got ${JSON.stringify(loop.services)}`);
  return serviceConfigOf(loop.services[0], loop);
}

/** The loop's configuration as the construct wrote it into the controller's environment, references as placeholders. */
export function renderedLoopConfig(template: Template): LoopConfig {
  // The configuration is JSON with CloudFormation references inside; resolve them to placeholders.
  return parseLoopConfig(placeholderText(controllerFunction(template).Properties.Environment.Variables[LOOP_CONFIG_ENV]));
}

/**
 * The controller's environment for a loop of these services, listed inline (as a
 * FastAutoscaler's own loop lists its one service): the table, interval and run length are
 * the first service's, and every tick is logged (DEBUG), as the tests and benchmarks read each.
 */
export function loopEnvironment(configs: readonly ControllerConfig[], loop: Partial<LoopConfig> = {}): Record<string, string> {
  const [first] = configs;
  const services = configs.map(({ table: _t, intervalSeconds: _i, runSeconds: _r, ...entry }) => entry);
  const config: LoopConfig = {
    loop: 'bench', table: first.table, intervalSeconds: first.intervalSeconds, runSeconds: first.runSeconds, loopMetrics: false, metricsFlushSeconds: 0, services, ...loop,
  };
  return { [LOOP_CONFIG_ENV]: JSON.stringify(config), POWERTOOLS_LOG_LEVEL: 'DEBUG' };
}
