import { Match, Template } from 'aws-cdk-lib/assertions';
import { CONFIG_ENV, ControllerConfig, parseControllerConfig, PolicyConfig } from '../../src/controller/controller-config';

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

/** The controller's configuration as the construct wrote it into the Lambda's environment, read back by the controller. */
export function renderedControllerConfig(template: Template): ControllerConfig {
  const functions = template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { [CONFIG_ENV]: Match.anyValue() } } },
  });
  const [fn] = Object.values(functions);
  // The configuration is JSON with CloudFormation references inside; resolve them to placeholders.
  const joined = fn.Properties.Environment.Variables[CONFIG_ENV]['Fn::Join'][1]
    .map((part: unknown) => (typeof part === 'string' ? part : 'REF'))
    .join('');
  return parseControllerConfig(joined);
}
