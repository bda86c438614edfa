import { parseControllerConfig } from '../../src/controller/controller-config';

const good = {
  cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/c',
  service: 's',
  table: 't',
  policy: { type: 'targetTracking', metric: 'ACTIVE_CONNECTIONS', targetPerTask: 10 },
  minTasks: 1,
  maxTasks: 5,
  maxScaleOutStep: 5,
  intervalSeconds: 3,
  scaleInEnabled: false,
  scaleInWindowSeconds: 300,
  maxFailedScrapeRatio: 0.5,
  statusPort: 8022,
  runSeconds: 90,
  dryRun: false,
};

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
