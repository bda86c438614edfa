import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/**
 * A `metricX()` method, as FastAutoscaler has one per controller metric: the alarms and the
 * dashboard take the methods they read, never the construct's type (no import runs back up to it).
 */
export type MetricMethod = (props?: cloudwatch.MetricOptions) => cloudwatch.Metric;
