import { Token } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { SourceContext } from './source-binding';
import { MetricName, SOURCE_METRICS, SourceType, sourcesOf } from '../controller/controller-config';

/*
 * Checks every source makes of the task it joins: the metric it reads, the ports it takes.
 */

/**
 * A sidecar's port that another container of the task (the app's other ports, another
 * sidecar) already maps: both would listen in the task's one network namespace.
 */
export function portsTakenErrors(c: SourceContext, ours: Record<string, number>, appPort: number | undefined): string[] {
  const taken = new Map<number, string>();
  for (const container of c.taskDefinition.node.children) {
    if (!(container instanceof ecs.ContainerDefinition)) continue;
    for (const m of container.portMappings) {
      if (!Token.isUnresolved(m.containerPort) && !taken.has(m.containerPort)) taken.set(m.containerPort, container.containerName);
    }
  }
  return Object.entries(ours)
    .filter(([, port]) => !Token.isUnresolved(port) && port !== appPort && taken.has(port))
    .map(([prop, port]) => `\`${prop}\` (${port}) is already a port of the container \`${taken.get(port)}\`: both would listen in the task's one network namespace; choose another`);
}

const SOURCE_LABELS: Record<SourceType, string> = {
  nginxProxy: 'MetricSource.nginxProxy()',
  taskAgent: 'MetricSource.taskAgent()',
  prometheus: 'MetricSource.prometheus()',
  sqsQueue: 'MetricSource.sqsQueue()',
};

/** The error when a source does not read the policy's metric, naming the sources that do. */
export function metricErrors(kind: SourceType, metric: MetricName): string[] {
  if (SOURCE_METRICS[kind].includes(metric)) return [];
  const readers = sourcesOf(metric).map(s => SOURCE_LABELS[s]).join(' or ');
  return [`\`policy\` scales on ${metric}, which \`metricSource\` ${SOURCE_LABELS[kind]} does not read (it reads ${SOURCE_METRICS[kind].join(', ')}); ${readers} does`];
}

/** The app container's port: the autoscaler's `appPort`, else its first port mapping. */
export function firstAppPort(c: SourceContext): number | undefined {
  return c.appPort ?? c.appContainer.portMappings[0]?.containerPort;
}

export function noAppPort(c: SourceContext): string {
  return `\`appPort\` is required: the container \`${c.appContainer.containerName}\` has no port mapping`;
}
