import { Duration, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ScalingMetric, ScalingPolicy } from '../src';
import { renderedControllerConfig } from './support/controller-config-fixture';
import { typicalStack } from './support/typical-stack';

/** The controller's configuration as the construct wrote it into the Lambda's environment. */
function renderedConfig(policy: ScalingPolicy) {
  return renderedControllerConfig(Template.fromStack(typicalStack({ props: { policy } }).stack));
}

describe('ScalingPolicy.predictive', () => {
  test('renders target tracking with the start delay, 60 s by default, and the controller reads it back', () => {
    expect(renderedConfig(ScalingPolicy.predictive({ metric: ScalingMetric.IN_FLIGHT_REQUESTS, targetPerTask: 20 })).policy).toEqual({
      type: 'predictive', metric: 'IN_FLIGHT_REQUESTS', targetPerTask: 20, startDelaySeconds: 60,
    });
    const policy = ScalingPolicy.predictive({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 100, startDelay: Duration.minutes(2) });
    expect(policy.metric).toBe(ScalingMetric.ACTIVE_CONNECTIONS);
    expect(renderedConfig(policy).policy).toEqual({ type: 'predictive', metric: 'ACTIVE_CONNECTIONS', targetPerTask: 100, startDelaySeconds: 120 });
  });

  test.each([
    [Duration.seconds(0), '`startDelay` must be a whole number of seconds from 1 to 600, got 0 seconds'],
    [Duration.minutes(11), '`startDelay` must be a whole number of seconds from 1 to 600, got 11 minutes'],
    [Duration.millis(2500), '`startDelay` must be a whole number of seconds from 1 to 600, got 2 seconds 500 millis'],
  ])('rejects a start delay of %s, naming the prop, the value and the range', (startDelay, message) => {
    expect(() => ScalingPolicy.predictive({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 100, startDelay })).toThrow(message);
  });

  test('rejects a start delay that is a token, and a target of 0, as target tracking does', () => {
    expect(() => ScalingPolicy.predictive({
      metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 100, startDelay: Duration.seconds(Token.asNumber({ Ref: 'Delay' })),
    })).toThrow(/`startDelay` must be a plain duration/);
    expect(() => ScalingPolicy.predictive({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 0 }))
      .toThrow('`targetPerTask` must be a number greater than 0, got 0');
  });
});
