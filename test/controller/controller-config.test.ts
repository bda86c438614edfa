import { parseControllerConfig } from '../../src/controller/controller-config';
import { controllerConfig } from '../support/controller-config-fixture';

const good = controllerConfig({ service: 's', table: 't' });

describe('parseControllerConfig', () => {
  test('reads a good configuration', () => {
    expect(parseControllerConfig(JSON.stringify(good))).toEqual(good);
  });

  test.each([
    [{ ...good, intervalSeconds: 0 }, /intervalSeconds must be a number in 1..60, got 0/],
    [{ ...good, minTasks: 9 }, /minTasks \(9\) is above maxTasks \(5\)/],
    [{ ...good, policy: { ...good.policy, metric: 'CPU' } }, /policy.metric must be one of/],
    [{ ...good, policy: { type: 'steps', metric: 'ACTIVE_CONNECTIONS', steps: [] } }, /policy.steps must be a non-empty list/],
    [{ ...good, dryRun: 'no' }, /dryRun must be a boolean/],
    [{ ...good, service: '' }, /service must be a non-empty string/],
  ])('rejects a bad field', (config, message) => {
    expect(() => parseControllerConfig(JSON.stringify(config))).toThrow(message);
  });

  test('rejects a missing configuration', () => {
    expect(() => parseControllerConfig(undefined)).toThrow('FAST_AUTOSCALER_CONFIG is not set');
  });
});
