/**
 * CloudWatch's evaluation of a single-metric alarm, as its user guide documents it
 * ("Evaluating an alarm"; "Configuring how CloudWatch alarms treat missing data"): data
 * points are aggregated into periods aligned to the period's length; at each evaluation
 * the last `EvaluationPeriods` complete periods are looked at; a period without data counts
 * as breaching, not breaching, or is left out, as `TreatMissingData` says; the alarm is in
 * ALARM when at least `DatapointsToAlarm` of them breach. (CloudWatch's own evaluation
 * delay and its look-back for sparse data are not modelled: they only shift the moment.)
 */
export interface AlarmDefinition {
  /** Seconds. */
  readonly period: number;
  readonly statistic: 'Sum' | 'Minimum' | 'Maximum' | 'Average' | 'SampleCount';
  readonly comparisonOperator: string;
  readonly threshold: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: 'breaching' | 'notBreaching' | 'ignore' | 'missing';
}

export interface DataPoint {
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly value: number;
}

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** The alarm definition of a synthesized AWS::CloudWatch::Alarm on one metric (plain or as a one-element `Metrics`). */
export function alarmDefinition(properties: any): AlarmDefinition {
  const stat = properties.Metrics?.length === 1 ? properties.Metrics[0].MetricStat : undefined;
  if (properties.Metrics && !stat) throw new Error('only single-metric alarms are modelled');
  return {
    period: stat?.Period ?? properties.Period,
    statistic: stat?.Stat ?? properties.Statistic,
    comparisonOperator: properties.ComparisonOperator,
    threshold: properties.Threshold,
    evaluationPeriods: properties.EvaluationPeriods,
    datapointsToAlarm: properties.DatapointsToAlarm ?? properties.EvaluationPeriods,
    treatMissingData: properties.TreatMissingData ?? 'missing',
  };
}

/** The alarm's state when evaluated at `at` (milliseconds since the epoch). */
export function evaluateAlarm(alarm: AlarmDefinition, points: readonly DataPoint[], at: number): AlarmState {
  const periodMs = alarm.period * 1000;
  const lastEnd = Math.floor(at / periodMs) * periodMs;
  const verdicts: boolean[] = [];
  for (let i = alarm.evaluationPeriods; i >= 1; i--) {
    const end = lastEnd - (i - 1) * periodMs;
    const values = points.filter(p => p.timestamp >= end - periodMs && p.timestamp < end).map(p => p.value);
    if (values.length === 0) {
      if (alarm.treatMissingData === 'breaching') verdicts.push(true);
      else if (alarm.treatMissingData === 'notBreaching') verdicts.push(false);
      continue;
    }
    verdicts.push(breaches(alarm, aggregate(alarm.statistic, values)));
  }
  if (verdicts.length === 0) return 'INSUFFICIENT_DATA';
  return verdicts.filter(Boolean).length >= alarm.datapointsToAlarm ? 'ALARM' : 'OK';
}

function aggregate(statistic: AlarmDefinition['statistic'], values: number[]): number {
  switch (statistic) {
    case 'Sum': return values.reduce((a, b) => a + b, 0);
    case 'Minimum': return Math.min(...values);
    case 'Maximum': return Math.max(...values);
    case 'Average': return values.reduce((a, b) => a + b, 0) / values.length;
    case 'SampleCount': return values.length;
  }
}

function breaches(alarm: AlarmDefinition, value: number): boolean {
  switch (alarm.comparisonOperator) {
    case 'GreaterThanThreshold': return value > alarm.threshold;
    case 'GreaterThanOrEqualToThreshold': return value >= alarm.threshold;
    case 'LessThanThreshold': return value < alarm.threshold;
    case 'LessThanOrEqualToThreshold': return value <= alarm.threshold;
    default: throw new Error(`comparison ${alarm.comparisonOperator} is not modelled`);
  }
}
