import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { MetricMethod } from './metric-method';

/** The controller's metrics the dashboard shows: FastAutoscaler's `metricX()` methods. */
export type DashboardMetrics = Record<
  | 'metricLoad' | 'metricLoadPerTask' | 'metricRecommendation' | 'metricDesiredTasks' | 'metricRunningTasks' | 'metricPendingTasks'
  | 'metricScalingActions' | 'metricFailedScrapes' | 'metricScrapedTasks' | 'metricTickDuration' | 'metricTicks', MetricMethod>;

export interface AutoscalerDashboardProps {
  readonly metrics: DashboardMetrics;
  /** The scaling metric's name, for the load graph's labels. */
  readonly loadName: string;
  readonly maxTasks: number;
  /** Alarms whose state the dashboard shows. */
  readonly alarms: cloudwatch.IAlarm[];
  /** The dashboard's title. */
  readonly title: string;
}

/**
 * One page that shows what the autoscaler sees and does: the load, the tasks it asks for
 * against those that run (with its scaling actions), how well it reads the tasks, how long
 * a tick takes, and the alarms.
 */
export class AutoscalerDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: AutoscalerDashboardProps) {
    super(scope, id);
    const m = props.metrics;
    const sum = { statistic: cloudwatch.Stats.SUM };
    const max = { statistic: cloudwatch.Stats.MAXIMUM };
    const height = 6;

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      periodOverride: cloudwatch.PeriodOverride.AUTO,
    });
    this.dashboard.addWidgets(new cloudwatch.TextWidget({
      markdown: `# ${props.title}\nOne-minute figures from the controller's ticks. Alarms: see the README, "Alarms".`,
      width: 24,
      height: 2,
    }));
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `Load (${props.loadName})`,
        width: 12,
        height,
        left: [m.metricLoad({ ...max, label: 'Total (max)' }), m.metricLoad({ label: 'Total (average)' })],
        right: [m.metricLoadPerTask({ label: 'Per task (average)' })],
        leftYAxis: { min: 0, showUnits: false },
        rightYAxis: { min: 0, showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: 'Tasks, and scaling actions',
        width: 12,
        height,
        left: [
          m.metricRecommendation({ ...max, label: 'Load asks for (max)' }),
          m.metricDesiredTasks({ ...max, label: 'Desired (max)' }),
          m.metricRunningTasks({ label: 'Running (average)' }),
          m.metricPendingTasks({ label: 'Pending (average)' }),
        ],
        right: [m.metricScalingActions({ ...sum, label: 'Scaling actions' })],
        leftAnnotations: [{ value: props.maxTasks, label: 'maxTasks', color: cloudwatch.Color.RED }],
        leftYAxis: { min: 0, showUnits: false },
        rightYAxis: { min: 0, showUnits: false },
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Status reads',
        width: 8,
        height,
        left: [m.metricScrapedTasks({ ...sum, label: 'Tried' }), m.metricFailedScrapes({ ...sum, label: 'Failed' })],
        leftYAxis: { min: 0, showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: 'Tick duration (ms)',
        width: 8,
        height,
        left: [m.metricTickDuration({ label: 'Average' }), m.metricTickDuration({ ...max, label: 'Max' })],
        right: [m.metricTicks({ ...sum, label: 'Ticks a minute' })],
        leftYAxis: { min: 0, showUnits: false },
        rightYAxis: { min: 0, showUnits: false },
      }),
      // With the alarms turned off, the row keeps an empty place rather than a widget with nothing in it.
      ...(props.alarms.length > 0 ? [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 8, height, alarms: props.alarms })] : []),
    );
  }
}
