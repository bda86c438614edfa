import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
// A type only: no module cycle at run time.
import type { FastAutoscaler } from './fast-autoscaler';

/** The controller's metrics the alarms watch: FastAutoscaler's `metricX()` methods. */
export type AlarmedMetrics = Pick<FastAutoscaler, 'metricTicks' | 'metricFailedScrapes' | 'metricScrapedTasks' | 'metricRecommendation'>;

export interface AutoscalerAlarmsProps {
  readonly metrics: AlarmedMetrics;
  readonly stateMachine: sfn.IStateMachine;
  /** The schedule's dead-letter queue: starts EventBridge Scheduler could not deliver. */
  readonly deadLetterQueue: sqs.IQueue;
  readonly maxTasks: number;
  /** Whether the policy can ask for more than `maxTasks` (not a step policy): else no "held at maxTasks" alarm. */
  readonly recommendationCanExceedMaxTasks: boolean;
  /** Runs when an alarm fires and when it clears. */
  readonly action?: cloudwatch.IAlarmAction;
  /** Names the autoscaler in the alarms' descriptions. */
  readonly subject: string;
}

/** Minutes without a finished tick before the loop counts as stopped. */
export const STOPPED_TICKING_MINUTES = 2;
/** The share of failed status reads, every minute for `SUSTAINED_MINUTES`, that alarms. */
export const FAILED_SCRAPE_SHARE = 0.2;
/** How long a degraded state must last before it alarms: longer than a deployment's hiccup. */
export const SUSTAINED_MINUTES = 5;

/**
 * The alarms that tell an operator the autoscaler cannot do its job: the loop stopped, it
 * cannot read the tasks, the load wants more than `maxTasks`, runs give up, starts are lost.
 * What each means and what to do is in the README ("Alarms").
 */
export class AutoscalerAlarms extends Construct {
  /** No tick measured the service for two minutes: nothing scales it. */
  public readonly stoppedTicking: cloudwatch.Alarm;
  /** A fifth or more of the tasks' status pages unread, minute after minute. */
  public readonly failedScrapes: cloudwatch.Alarm;
  /**
   * The load asks for more than `maxTasks`, minute after minute. Undefined for a step
   * policy, whose table never asks for more than `maxTasks`.
   */
  public readonly heldAtMaxTasks?: cloudwatch.Alarm;
  /** A run failed (gave up after failures in a row) or timed out. */
  public readonly runsGivingUp: cloudwatch.Alarm;
  /** The schedule could not start a run, even after its retries. */
  public readonly startsDeadLettered: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: AutoscalerAlarmsProps) {
    super(scope, id);
    const { metrics, subject } = props;
    const minute = Duration.minutes(1);

    // Missing data is the point: a loop that stopped emits nothing, not zero.
    this.stoppedTicking = new cloudwatch.Alarm(this, 'StoppedTicking', {
      alarmDescription: `${subject}: no control-loop tick measured the service for ${STOPPED_TICKING_MINUTES} minutes, so nothing scales it. See the README, "Alarms".`,
      metric: metrics.metricTicks({ statistic: cloudwatch.Stats.SUM, period: minute }),
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      threshold: 1,
      evaluationPeriods: STOPPED_TICKING_MINUTES,
      datapointsToAlarm: STOPPED_TICKING_MINUTES,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });

    // A minute without any read (no serving task) has no share: the stopped-ticking and
    // task-count graphs cover that, so missing data does not breach here.
    this.failedScrapes = new cloudwatch.Alarm(this, 'FailedScrapes', {
      alarmDescription: `${subject}: at least ${FAILED_SCRAPE_SHARE * 100}% of the tasks' status reads failed every minute for ${SUSTAINED_MINUTES} minutes; the controller sees only part of the load. See the README, "Alarms".`,
      metric: new cloudwatch.MathExpression({
        expression: 'failed / scraped',
        usingMetrics: {
          failed: metrics.metricFailedScrapes({ statistic: cloudwatch.Stats.SUM, period: minute }),
          scraped: metrics.metricScrapedTasks({ statistic: cloudwatch.Stats.SUM, period: minute }),
        },
        label: 'Share of failed status reads',
        period: minute,
      }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: FAILED_SCRAPE_SHARE,
      evaluationPeriods: SUSTAINED_MINUTES,
      datapointsToAlarm: SUSTAINED_MINUTES,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // The minimum: every tick of the minute asked for more than the ceiling.
    this.heldAtMaxTasks = !props.recommendationCanExceedMaxTasks ? undefined : new cloudwatch.Alarm(this, 'HeldAtMaxTasks', {
      alarmDescription: `${subject}: the load has asked for more than maxTasks (${props.maxTasks}) tasks for ${SUSTAINED_MINUTES} minutes; the service is held at maxTasks. See the README, "Alarms".`,
      metric: metrics.metricRecommendation({ statistic: cloudwatch.Stats.MINIMUM, period: minute }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: props.maxTasks,
      evaluationPeriods: SUSTAINED_MINUTES,
      datapointsToAlarm: SUSTAINED_MINUTES,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Step Functions publishes these when an execution ends; a run that gives up fails with
    // FastAutoscaler.TooManyFailures after starting its successor.
    const fiveMinutes = Duration.minutes(5);
    this.runsGivingUp = new cloudwatch.Alarm(this, 'RunsGivingUp', {
      alarmDescription: `${subject}: control-loop runs failed or timed out in two 5-minute periods in a row (failures in a row: ticks or scaling calls). See the README, "Alarms".`,
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
        usingMetrics: {
          failed: props.stateMachine.metricFailed({ statistic: cloudwatch.Stats.SUM, period: fiveMinutes }),
          timedOut: props.stateMachine.metricTimedOut({ statistic: cloudwatch.Stats.SUM, period: fiveMinutes }),
        },
        label: 'Runs failed or timed out',
        period: fiveMinutes,
      }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      // One run that gives up while an older one keeps ticking is a blip (a short DynamoDB or
      // Lambda outage); runs giving up period after period is not. Blindness itself pages
      // sooner, through "stopped ticking".
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.startsDeadLettered = new cloudwatch.Alarm(this, 'StartsDeadLettered', {
      alarmDescription: `${subject}: the schedule could not start a control-loop run, even after its retries; the undelivered starts wait in its dead-letter queue. See the README, "Alarms".`,
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: fiveMinutes }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    if (props.action) {
      for (const alarm of this.all) {
        alarm.addAlarmAction(props.action);
        alarm.addOkAction(props.action);
      }
    }
  }

  /** Every alarm, for a dashboard or a composite alarm. */
  public get all(): cloudwatch.Alarm[] {
    const held = this.heldAtMaxTasks ? [this.heldAtMaxTasks] : [];
    return [this.stoppedTicking, this.failedScrapes, ...held, this.runsGivingUp, this.startsDeadLettered];
  }
}
