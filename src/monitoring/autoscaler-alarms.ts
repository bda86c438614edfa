import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { MetricMethod } from './metric-method';

/** The controller's metrics the alarms watch: FastAutoscaler's `metricX()` methods. */
export type AlarmedMetrics = Record<'metricTicks' | 'metricFailedScrapes' | 'metricScrapedTasks' | 'metricRecommendation' | 'metricDegraded', MetricMethod>;

/** A service's alarms. */
export interface ServiceAlarmsProps {
  readonly metrics: AlarmedMetrics;
  readonly maxTasks: number;
  /** Whether the policy can ask for more than `maxTasks` (not a step policy): else no "held at maxTasks" alarm. */
  readonly recommendationCanExceedMaxTasks: boolean;
  /** The three detailed alarms: stopped ticking, failed scrapes, held at maxTasks. */
  readonly detailed: boolean;
  /** The one health alarm of a service in a shared loop. */
  readonly health: boolean;
}

/** A loop's alarms. */
export interface LoopAlarmsProps {
  readonly stateMachine: sfn.IStateMachine;
  /** The schedule's dead-letter queue: starts EventBridge Scheduler could not deliver. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The loop's own tick count, for a shared loop's "stopped" alarm. @default - no such alarm */
  readonly ticks?: cloudwatch.IMetric;
}

export interface AutoscalerAlarmsProps {
  readonly service?: ServiceAlarmsProps;
  readonly loop?: LoopAlarmsProps;
  /** Runs when an alarm fires and when it clears. */
  readonly action?: cloudwatch.IAlarmAction;
  /** Names the autoscaler (or the loop) in the alarms' descriptions. */
  readonly subject: string;
}

/** Minutes a service's ticks must be degraded (or missing) before its health alarm fires. */
export const HEALTH_MINUTES = 3;

/** Minutes without a finished tick before the loop counts as stopped. */
export const STOPPED_TICKING_MINUTES = 2;
/** The share of failed status reads, every minute for `SUSTAINED_MINUTES`, that alarms. */
export const FAILED_SCRAPE_SHARE = 0.2;
/** How long a degraded state must last before it alarms: longer than a deployment's hiccup. */
export const SUSTAINED_MINUTES = 5;

/**
 * The alarms that tell an operator the autoscaler cannot do its job: the loop stopped, it
 * cannot read the tasks, the load wants more than `maxTasks`, runs give up, starts are lost.
 * What each means and what to do is in docs/operations.md ("Runbooks"); each description points
 * there through the README's "Alarms" (changing the descriptions would change every deployed alarm).
 */
export class AutoscalerAlarms extends Construct {
  /** No tick measured the service (or, for a shared loop, no tick ran) for two minutes: nothing scales it. */
  public readonly stoppedTicking?: cloudwatch.Alarm;
  /** A fifth or more of the tasks' status pages unread, minute after minute. */
  public readonly failedScrapes?: cloudwatch.Alarm;
  /** A service of a shared loop: most of its ticks degraded, or none, for three minutes. */
  public readonly health?: cloudwatch.Alarm;
  /**
   * The load asks for more than `maxTasks`, minute after minute. Undefined for a step
   * policy, whose table never asks for more than `maxTasks`.
   */
  public readonly heldAtMaxTasks?: cloudwatch.Alarm;
  /** A run failed (gave up after failures in a row) or timed out. */
  public readonly runsGivingUp?: cloudwatch.Alarm;
  /** The schedule could not start a run, even after its retries. */
  public readonly startsDeadLettered?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: AutoscalerAlarmsProps) {
    super(scope, id);
    const { subject } = props;
    const minute = Duration.minutes(1);
    const service = props.service;
    const loop = props.loop;

    if (service?.detailed) {
      const metrics = service.metrics;
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
      this.heldAtMaxTasks = !service.recommendationCanExceedMaxTasks ? undefined : new cloudwatch.Alarm(this, 'HeldAtMaxTasks', {
        alarmDescription: `${subject}: the load has asked for more than maxTasks (${service.maxTasks}) tasks for ${SUSTAINED_MINUTES} minutes; the service is held at maxTasks. See the README, "Alarms".`,
        metric: metrics.metricRecommendation({ statistic: cloudwatch.Stats.MINIMUM, period: minute }),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: service.maxTasks,
        evaluationPeriods: SUSTAINED_MINUTES,
        datapointsToAlarm: SUSTAINED_MINUTES,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    if (service?.health) {
      // One metric, one alarm (about $0.40 a month together): at least half of a minute's
      // ticks degraded, or no tick at all (missing data filled as degraded), three minutes running.
      this.health = new cloudwatch.Alarm(this, 'Health', {
        alarmDescription: `${subject}: for ${HEALTH_MINUTES} minutes, most of the loop's ticks of this service were degraded (they failed, could not see the service, read too few tasks, could not scale, or the load asked for more than maxTasks) or there were none. The tick log lines say which. See the README, "Alarms".`,
        metric: new cloudwatch.MathExpression({
          expression: 'FILL(degraded, 1)',
          usingMetrics: { degraded: service.metrics.metricDegraded({ statistic: cloudwatch.Stats.AVERAGE, period: minute }) },
          label: 'Share of degraded ticks (none: 1)',
          period: minute,
        }),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        threshold: 0.5,
        evaluationPeriods: HEALTH_MINUTES,
        datapointsToAlarm: HEALTH_MINUTES,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
    }

    if (loop?.ticks) {
      this.stoppedTicking = new cloudwatch.Alarm(this, 'LoopStoppedTicking', {
        alarmDescription: `${subject}: the loop did not tick for ${STOPPED_TICKING_MINUTES} minutes, so nothing scales its services. See the README, "Alarms".`,
        metric: loop.ticks,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: 1,
        evaluationPeriods: STOPPED_TICKING_MINUTES,
        datapointsToAlarm: STOPPED_TICKING_MINUTES,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
    }

    if (loop) {
      // Step Functions publishes these when an execution ends; a run that gives up fails with
      // FastAutoscaler.TooManyFailures after starting its successor.
      const fiveMinutes = Duration.minutes(5);
      this.runsGivingUp = new cloudwatch.Alarm(this, 'RunsGivingUp', {
        alarmDescription: `${subject}: control-loop runs failed or timed out in two 5-minute periods in a row (failed ticks in a row). See the README, "Alarms".`,
        metric: new cloudwatch.MathExpression({
          expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
          usingMetrics: {
            failed: loop.stateMachine.metricFailed({ statistic: cloudwatch.Stats.SUM, period: fiveMinutes }),
            timedOut: loop.stateMachine.metricTimedOut({ statistic: cloudwatch.Stats.SUM, period: fiveMinutes }),
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
        metric: loop.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: fiveMinutes }),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    if (props.action) {
      for (const alarm of this.all) {
        alarm.addAlarmAction(props.action);
        alarm.addOkAction(props.action);
      }
    }
  }

  /** Every alarm, for a dashboard or a composite alarm. */
  public get all(): cloudwatch.Alarm[] {
    return [this.health, this.stoppedTicking, this.failedScrapes, this.heldAtMaxTasks, this.runsGivingUp, this.startsDeadLettered]
      .filter((a): a is cloudwatch.Alarm => a !== undefined);
  }
}
