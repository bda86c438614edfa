import { Annotations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { AlarmedMetrics, AutoscalerAlarms, LoopAlarmsProps } from './autoscaler-alarms';
import { AutoscalerDashboard, DashboardMetrics } from './autoscaler-dashboard';

/** What one autoscaler's alarms and dashboard watch. */
export interface AutoscalerMonitoringProps {
  readonly metrics: AlarmedMetrics & DashboardMetrics;
  readonly service: ecs.BaseService;
  readonly maxTasks: number;
  /** Whether the policy can ask for more than `maxTasks` (not a step policy). */
  readonly recommendationCanExceedMaxTasks: boolean;
  /** The loop of its own, whose alarms are the autoscaler's; undefined in a shared loop (the loop has them). */
  readonly ownLoop?: LoopAlarmsProps;
  /** The detailed alarms (a service in a shared loop always has its health alarm). */
  readonly createAlarms: boolean;
  readonly alarmAction?: cloudwatch.IAlarmAction;
  /** The load's name on the dashboard; undefined: no dashboard. */
  readonly dashboardLoadName?: string;
}

/**
 * One autoscaler's alarms (the health alarm always on in a shared loop, the detailed ones
 * opt-in there and on by default alone) and its dashboard, if asked for.
 */
export function addAutoscalerMonitoring(scope: Construct, props: AutoscalerMonitoringProps): {
  readonly alarms?: AutoscalerAlarms; readonly dashboard?: cloudwatch.Dashboard;
} {
  const { service, createAlarms, ownLoop } = props;
  const shared = ownLoop === undefined;
  const alarms = createAlarms || shared
    ? new AutoscalerAlarms(scope, 'Alarms', {
      service: {
        metrics: props.metrics,
        maxTasks: props.maxTasks,
        recommendationCanExceedMaxTasks: props.recommendationCanExceedMaxTasks,
        detailed: createAlarms,
        health: shared,
      },
      loop: createAlarms ? ownLoop : undefined,
      action: props.alarmAction,
      subject: `fast-autoscaler of ECS service ${service.serviceName} (cluster ${service.cluster.clusterName})`,
    })
    : undefined;
  if (!createAlarms && props.alarmAction && !shared) {
    Annotations.of(scope).addWarningV2('cdk-fast-autoscaler:alarmActionUnused',
      '`alarmAction` is set but `createAlarms` is false: no alarm will ever run it.');
  }
  const dashboard = props.dashboardLoadName === undefined ? undefined : new AutoscalerDashboard(scope, 'Dashboard', {
    metrics: props.metrics,
    loadName: props.dashboardLoadName,
    maxTasks: props.maxTasks,
    alarms: alarms?.all ?? [],
    title: `fast-autoscaler: ${scope.node.path}`,
  }).dashboard;
  return { alarms, dashboard };
}
