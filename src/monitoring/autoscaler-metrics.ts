import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { IConstruct } from 'constructs';
import { ControllerMetricName, METRIC_NAMESPACE, serviceDimensions } from '../controller/controller-metrics';

/**
 * Builds the `cloudwatch.Metric` of one controller metric for one service: the namespace and
 * exactly the dimensions the handler emits (see controller/controller-metrics.ts), a
 * one-minute period, and a label, so that the `metricX()` methods, the alarms and the
 * dashboard all ask CloudWatch for the same series.
 */
export class AutoscalerMetrics {
  /**
   * Every metric asked for, by the alarms, the dashboard or the user's own code: the
   * controller publishes these (each custom metric is a monthly fee per service).
   */
  public readonly asked = new Set<string>();
  private readonly dimensions: Record<string, string>;

  /**
   * @param scope the construct the metrics belong to (`attachTo`: a dashboard in another
   * region or account then refers to the right one)
   * @param clusterName the service's cluster, as `ecs.ICluster.clusterName` gives it
   * @param serviceName the service's name, as `ecs.BaseService.serviceName` gives it
   */
  constructor(private readonly scope: IConstruct, clusterName: string, serviceName: string) {
    this.dimensions = serviceDimensions(clusterName, serviceName);
  }

  /** One of the controller's metrics; `props` override the defaults, as in aws-cdk-lib's `metric()`. */
  public metric(metricName: ControllerMetricName | string, defaults: DefaultsOf, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    this.asked.add(metricName);
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName,
      dimensionsMap: { ...this.dimensions },
      period: Duration.minutes(1),
      ...defaults,
      ...props,
    }).attachTo(this.scope);
  }
}

/** The statistic and label a metric method gives unless told otherwise. */
export interface DefaultsOf {
  readonly statistic: string;
  readonly label?: string;
}
