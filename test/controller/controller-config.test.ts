import { Duration } from 'aws-cdk-lib';
import { FastAutoscalerProps, ScalingMetric, ScalingPolicy } from '../../src';
import { ControllerConfig, parseControllerConfig } from '../../src/controller/controller-config';
import { controllerConfig } from '../support/controller-config-fixture';
import { typicalStack } from '../support/typical-stack';

const good = controllerConfig({ service: 's', table: 't' });

describe('parseControllerConfig', () => {
  test('reads a good configuration', () => {
    expect(parseControllerConfig(JSON.stringify(good))).toEqual(good);
  });

  test.each([
    [{ ...good, intervalSeconds: 0 }, /intervalSeconds must be a whole number from 1 to 60, got 0/],
    [{ ...good, minTasks: 9 }, /minTasks \(9\) is above maxTasks \(5\)/],
    [{ ...good, policy: { ...good.policy, metric: 'CPU' } }, /policy.metric must be one of/],
    [{ ...good, policy: { type: 'steps', metric: 'ACTIVE_CONNECTIONS', steps: [] } }, /policy.steps must be a non-empty list/],
    [{ ...good, dryRun: 'no' }, /dryRun must be a boolean/],
    [{ ...good, service: '' }, /service must be a non-empty string/],
  ])('rejects a bad field', (config, message) => {
    expect(() => parseControllerConfig(JSON.stringify(config))).toThrow(message);
  });

  test('reads a predictive policy, and rejects one without its start delay', () => {
    const policy = { type: 'predictive', metric: 'REQUESTS_PER_SECOND', targetPerTask: 50, startDelaySeconds: 45 };
    expect(parseControllerConfig(JSON.stringify({ ...good, policy })).policy).toEqual(policy);
    expect(() => parseControllerConfig(JSON.stringify({ ...good, policy: { ...policy, startDelaySeconds: undefined } })))
      .toThrow(/policy.startDelaySeconds must be a whole number from 1 to 600, got undefined/);
  });

  test('names every bad field at once', () => {
    expect(() => parseControllerConfig(JSON.stringify({ ...good, minTasks: -1, statusPort: 'x' }))).toThrow(
      /invalid FAST_AUTOSCALER_CONFIG:\n {2}FAST_AUTOSCALER_CONFIG.minTasks must be a whole number from 0 to 5000, got -1\n {2}FAST_AUTOSCALER_CONFIG.statusPort must be/,
    );
  });

  test('rejects a missing or malformed configuration', () => {
    expect(() => parseControllerConfig(undefined)).toThrow('FAST_AUTOSCALER_CONFIG is not set');
    expect(() => parseControllerConfig('{nope')).toThrow(/FAST_AUTOSCALER_CONFIG is not JSON/);
    expect(() => parseControllerConfig('[]')).toThrow(/must be a JSON object/);
  });
});

/**
 * The controller rejects what the construct rejects: a bad environment (hand-edited, or
 * written by another version of the construct) fails at the first tick, loudly.
 */
describe('the controller checks what the construct checks', () => {
  const steps = (s: Array<{ threshold: number; desiredTasks: number }>) => ({ type: 'steps' as const, metric: 'ACTIVE_CONNECTIONS' as const, steps: s });
  const predictive = (o: { targetPerTask?: number; startDelaySeconds?: number }) =>
    ({ type: 'predictive' as const, metric: 'ACTIVE_CONNECTIONS' as const, targetPerTask: 10, startDelaySeconds: 60, ...o });
  const cases: Array<[string, Partial<FastAutoscalerProps> | (() => unknown), Partial<ControllerConfig>, RegExp]> = [
    ['minTasks 0', { minTasks: 0 }, { minTasks: 0 }, /minTasks must be (a whole number from 1 to 5000|at least 1 with the source nginxProxy)/],
    ['fractional minTasks', { minTasks: 1.5 }, { minTasks: 1.5 }, /minTasks must be a whole number/],
    ['maxTasks above 5000', { maxTasks: 5001 }, { maxTasks: 5001 }, /maxTasks must be a whole number from 1 to 5000/],
    ['maxScaleOutStep 0', { maxScaleOutStep: 0 }, { maxScaleOutStep: 0 }, /maxScaleOutStep must be a whole number/],
    ['interval 61 s', { interval: Duration.seconds(61) }, { intervalSeconds: 61 }, /intervalSeconds must be a whole number from 1 to 60/],
    ['window above an hour', { scaleInWindow: Duration.seconds(3601) }, { scaleInWindowSeconds: 3601 }, /scaleInWindowSeconds must be a whole number from 3 to 3600/],
    ['window below the interval', { scaleInWindow: Duration.seconds(2) }, { scaleInWindowSeconds: 2 }, /scaleInWindowSeconds must be a whole number from 3 to 3600/],
    ['ratio above 1', { maxFailedScrapeRatio: 1.5 }, { maxFailedScrapeRatio: 1.5 }, /maxFailedScrapeRatio must be a number from 0 to 1/],
    ['status port out of range', { statusPort: 70000 }, { statusPort: 70000 }, /statusPort must be a whole number from 1 to 65535/],
    ['target 0', () => ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 0 }),
      { policy: { type: 'targetTracking', metric: 'ACTIVE_CONNECTIONS', targetPerTask: 0 } }, /targetPerTask must be a number greater than 0/],
    ['unsorted steps', () => ScalingPolicy.steps({ metric: ScalingMetric.ACTIVE_CONNECTIONS, steps: [{ threshold: 100, desiredTasks: 2 }, { threshold: 50, desiredTasks: 3 }] }),
      { policy: steps([{ threshold: 100, desiredTasks: 2 }, { threshold: 50, desiredTasks: 3 }]) }, /steps must be in ascending order of threshold/],
    ['fewer tasks higher up', () => ScalingPolicy.steps({ metric: ScalingMetric.ACTIVE_CONNECTIONS, steps: [{ threshold: 50, desiredTasks: 4 }, { threshold: 100, desiredTasks: 2 }] }),
      { policy: steps([{ threshold: 50, desiredTasks: 4 }, { threshold: 100, desiredTasks: 2 }]) }, /must not ask for fewer tasks at a higher threshold/],
    ['a non-numeric threshold', () => ScalingPolicy.steps({ metric: ScalingMetric.ACTIVE_CONNECTIONS, steps: [{ threshold: NaN, desiredTasks: 2 }] }),
      { policy: steps([{ threshold: NaN, desiredTasks: 2 }]) }, /steps\[0\].threshold must be a number greater than 0, got null/],
    ['predictive target 0', () => ScalingPolicy.predictive({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 0 }),
      { policy: predictive({ targetPerTask: 0 }) }, /targetPerTask must be a number greater than 0/],
    ['start delay 0 s', () => ScalingPolicy.predictive({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 10, startDelay: Duration.seconds(0) }),
      { policy: predictive({ startDelaySeconds: 0 }) }, /policy.startDelaySeconds must be a whole number from 1 to 600, got 0/],
    ['start delay above 10 minutes', () => ScalingPolicy.predictive({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 10, startDelay: Duration.seconds(601) }),
      { policy: predictive({ startDelaySeconds: 601 }) }, /policy.startDelaySeconds must be a whole number from 1 to 600, got 601/],
    ['start delay in fractions of a second', () => ScalingPolicy.predictive({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 10, startDelay: Duration.millis(1500) }),
      { policy: predictive({ startDelaySeconds: 1.5 }) }, /policy.startDelaySeconds must be a whole number from 1 to 600, got 1.5/],
    ['a step outside the bounds', { policy: ScalingPolicy.steps({ metric: ScalingMetric.ACTIVE_CONNECTIONS, steps: [{ threshold: 50, desiredTasks: 80 }] }) },
      { minTasks: 2, maxTasks: 50, policy: steps([{ threshold: 50, desiredTasks: 80 }]) }, /steps\[0\].desiredTasks must be within minTasks..maxTasks \(2..50\), got 80/],
  ];
  test.each(cases)('%s', (_name, props, config, lambdaMessage) => {
    expect(() => (typeof props === 'function' ? props() : typicalStack({ props: props as Partial<FastAutoscalerProps> }))).toThrow();
    expect(() => parseControllerConfig(JSON.stringify({ ...good, maxTasks: 50, maxScaleOutStep: 50, ...config }))).toThrow(lambdaMessage);
  });
});
