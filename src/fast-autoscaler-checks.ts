import { Duration, Token } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { QUEUE_SETTLE_SECONDS } from './controller/controller-config';
import { FastAutoscalerProps } from './fast-autoscaler-props';
import { membershipErrors } from './loop/loop-membership';
import { MetricSource } from './metric-sources/metric-source';
import { checkDuration, checkRatio, checkWhole, safeSeconds } from './prop-checks';

/*
 * A FastAutoscaler's props, checked all at once before anything is added: each error names
 * the prop, the value and what is allowed.
 */

/** The props with their defaults applied. */
export interface ResolvedProps {
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly interval: Duration;
  readonly scaleInWindow: Duration;
  readonly maxFailedScrapeRatio: number;
  readonly reservedConcurrency: number;
  /** Whether the metric source reads the running tasks (then one must run). */
  readonly readsTasks: boolean;
}

/**
 * What the type checker would have refused, from plain JavaScript (or a Python or Java caller
 * passing null): a required prop left out, a `loop` that is not a ScalingLoop.
 */
export function propShapeErrors(props: FastAutoscalerProps | undefined): string[] {
  const missing = (['service', 'policy', 'maxTasks'] as const)
    .filter(k => props?.[k] === undefined || props?.[k] === null)
    .map(k => `\`${k}\` is required`);
  const loop: unknown = props?.loop;
  return loop && !(loop as { _loop?: unknown })._loop ? [...missing, `\`loop\` must be a ScalingLoop, got ${describeValue(loop)}`] : missing;
}

/** A value as an error message shows it: JSON where it has one, else what it is (a construct's path). */
export function describeValue(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    const path = (value as { node?: { path?: string } })?.node?.path;
    return `${(value as object)?.constructor?.name ?? typeof value}${path ? ` ${path}` : ''}`;
  }
}

/**
 * The container the load balancer targets, through the source or directly: a Fargate task's,
 * in the awsvpc network mode (the status reads need the task's own address).
 */
export function appContainerOf(props: FastAutoscalerProps): ecs.ContainerDefinition {
  const taskDefinition = props.service.taskDefinition;
  if (taskDefinition.networkMode !== ecs.NetworkMode.AWS_VPC || !taskDefinition.isFargateCompatible) {
    throw new Error(
      `\`service\` must run a Fargate-compatible task definition in the awsvpc network mode, got network mode ${taskDefinition.networkMode}${taskDefinition.isFargateCompatible ? '' : ' and no FARGATE compatibility'}`,
    );
  }
  const appContainer = props.appContainer ?? taskDefinition.defaultContainer;
  if (!appContainer) {
    throw new Error('`appContainer` is required: the task definition of `service` has no default container');
  }
  return appContainer;
}

/** Every error of the props beside the metric source's own. */
export function propErrors(scope: Construct, props: FastAutoscalerProps, resolved: ResolvedProps): string[] {
  const { minTasks, maxTasks, interval, scaleInWindow, maxFailedScrapeRatio, reservedConcurrency, readsTasks } = resolved;
  const shared = props.loop ?? undefined;
  const errors = [
    ...(shared ? loopOwnedPropErrors(props) : []),
    ...(shared ? membershipErrors(scope, shared._loop, props.service) : []),
    ...(minTasks === 0 && readsTasks
      ? ['`minTasks` must be a whole number from 1 to 5000, got 0: the metric source reads the running tasks, so with none running the autoscaler could never scale out again (MetricSource.sqsQueue() reads without tasks and allows 0)']
      : checkWhole('minTasks', minTasks, readsTasks ? 1 : 0, 5000)),
    ...(!readsTasks && !(props.disableScaleIn ?? true) && (safeSeconds(scaleInWindow) ?? QUEUE_SETTLE_SECONDS) < QUEUE_SETTLE_SECONDS
      ? [`\`scaleInWindow\` must be at least ${QUEUE_SETTLE_SECONDS} seconds with a queue and scale-in on, got ${scaleInWindow.toHumanString()}: SQS's approximate counts may take a minute to settle after producers stop`]
      : []),
    ...checkWhole('maxTasks', maxTasks, 1, 5000),
    ...(props.maxScaleOutStep !== undefined ? checkWhole('maxScaleOutStep', props.maxScaleOutStep, 1, 5000) : []),
    ...checkDuration('interval', interval, 1, 60),
    ...checkDuration('scaleInWindow', scaleInWindow, Math.max(1, safeSeconds(interval) ?? 1), 3600),
    ...checkRatio('maxFailedScrapeRatio', maxFailedScrapeRatio),
    ...checkWhole('controllerReservedConcurrency', reservedConcurrency, 0, 1000),
    // Two props for one idea: the deprecated switch alone, or the number alone (a shared loop's own error says both go).
    ...(!shared && props.reserveControllerConcurrency !== undefined && props.controllerReservedConcurrency !== undefined
      ? [`\`reserveControllerConcurrency\` (deprecated) must not be set beside \`controllerReservedConcurrency\` (${props.controllerReservedConcurrency}): set \`controllerReservedConcurrency\` alone (0 reserves none)`]
      : []),
    ...(props.controllerMemorySize !== undefined ? checkWhole('controllerMemorySize', props.controllerMemorySize, 128, 10240) : []),
    ...(props.topic?.fifo
      ? [`\`topic\` must be a standard SNS topic, got the FIFO topic ${props.topic.node.path}: FIFO topics need a message group id on every publish, which the autoscaler's notifications do not carry`]
      : []),
  ];
  if (!Token.isUnresolved(minTasks) && !Token.isUnresolved(maxTasks) && minTasks > maxTasks) {
    errors.push(`\`minTasks\` (${minTasks}) must not be above \`maxTasks\` (${maxTasks})`);
  }
  return errors;
}

/** The policy's own checks against the task range, once every other prop is right. */
export function policyErrors(props: FastAutoscalerProps, minTasks: number, maxTasks: number): string[] {
  return Token.isUnresolved(minTasks) || Token.isUnresolved(maxTasks) ? [] : props.policy._validate(minTasks, maxTasks);
}

/** The props a shared loop owns: set on the ScalingLoop, never on a service that joins it. */
const LOOP_OWNED_PROPS = {
  interval: 'interval',
  controllerSubnets: 'controllerSubnets',
  stateMachineLogLevel: 'stateMachineLogLevel',
  controllerReservedConcurrency: 'reservedConcurrency',
  reserveControllerConcurrency: 'reservedConcurrency (0 reserves none)',
  controllerMemorySize: 'controllerMemorySize',
  encryptionKey: 'encryptionKey',
} as const;

function loopOwnedPropErrors(props: FastAutoscalerProps): string[] {
  return (Object.keys(LOOP_OWNED_PROPS) as Array<keyof typeof LOOP_OWNED_PROPS>)
    .filter(k => props[k] !== undefined && props[k] !== null)
    .map(k => `\`${k}\` must not be set beside \`loop\`: the shared loop owns it (set \`${LOOP_OWNED_PROPS[k]}\` on the ScalingLoop)`);
}

/** The deprecated proxy props, by the name of their new home in `MetricSource.nginxProxy()`. */
const DEPRECATED_PROXY_PROPS = {
  proxyPort: 'proxyPort', statusPort: 'statusPort', proxyImage: 'image', proxyTimeout: 'timeout', proxyMaxRequestBodySize: 'maxRequestBodySize',
} as const;

/**
 * The metric source: `metricSource`, or the nginx proxy built from the deprecated top-level
 * proxy props (which keep working alone, never beside `metricSource`).
 */
export function metricSourceOf(props: FastAutoscalerProps): { source: MetricSource; errors: string[] } {
  const legacy = (Object.keys(DEPRECATED_PROXY_PROPS) as Array<keyof typeof DEPRECATED_PROXY_PROPS>).filter(k => props[k] !== undefined);
  if (props.metricSource !== undefined && props.metricSource !== null) {
    // Plain JavaScript may pass anything here.
    if (typeof (props.metricSource as { _prepare?: unknown })._prepare !== 'function') {
      throw new Error(`Invalid FastAutoscaler props:\n  \`metricSource\` must be a MetricSource (MetricSource.nginxProxy(), taskAgent(), prometheus() or sqsQueue()), got ${describeValue(props.metricSource)}`);
    }
    return {
      source: props.metricSource,
      errors: legacy.map(k => `\`${k}\` (deprecated) must not be set beside \`metricSource\`: pass it as MetricSource.nginxProxy({ ${DEPRECATED_PROXY_PROPS[k]} })`),
    };
  }
  return {
    source: MetricSource.nginxProxy({
      proxyPort: props.proxyPort,
      statusPort: props.statusPort,
      image: props.proxyImage,
      timeout: props.proxyTimeout,
      maxRequestBodySize: props.proxyMaxRequestBodySize,
    }),
    errors: [],
  };
}
