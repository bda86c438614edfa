import * as ecs from 'aws-cdk-lib/aws-ecs';
import { checkPlainPort, checkSidecarPort } from '../prop-checks';
import { PreparedSource, SourceContext, SourcePreparer } from './source-binding';
import { metricErrors, noAppPort, portsTakenErrors } from './source-checks';
import { DEFAULT_STATUS_PORT, TaskAgentSourceOptions } from './source-options';
import { addTaskAgentSidecar, DEFAULT_AGENT_IMAGE } from './task-agent-sidecar';

/** The task agent: a sidecar beside the data path that reads the task's connections or its CPU and memory. */
export function taskAgentSource(o: TaskAgentSourceOptions): SourcePreparer {
  return (c: SourceContext): PreparedSource => {
    const statusPort = o.statusPort ?? DEFAULT_STATUS_PORT;
    const mapped = c.appContainer.portMappings.map(m => m.containerPort);
    const errors = [...metricErrors('taskAgent', c.metric), ...checkSidecarPort('statusPort', statusPort)];
    const given = o.appPorts;
    if (given !== undefined && !Array.isArray(given)) {
      errors.push(`\`appPorts\` of MetricSource.taskAgent() must be a list of port numbers, got ${JSON.stringify(given)}`);
    }
    let appPorts = Array.isArray(given) ? given : (c.appPort !== undefined ? [c.appPort] : mapped.length === 1 ? mapped : undefined);
    if (appPorts === undefined) {
      errors.push(mapped.length === 0
        ? noAppPort(c)
        : `\`appPort\` is required: the container \`${c.appContainer.containerName}\` maps several ports (${mapped.join(', ')}); name the one the load balancer targets, and the ports whose connections count with MetricSource.taskAgent({ appPorts })`);
      appPorts = [];
    } else if (appPorts.length === 0) {
      errors.push('`appPorts` of MetricSource.taskAgent() must name at least one port, got an empty list');
    }
    // The agent's script holds the ports as /proc/net/tcp writes them: they must be plain numbers.
    appPorts.forEach((p, i) => errors.push(...checkPlainPort(given !== undefined ? `appPorts[${i}]` : 'appPort', p)));
    if (appPorts.includes(statusPort)) {
      errors.push(`\`statusPort\` (${statusPort}) of MetricSource.taskAgent() must not be one of the app's ports (${appPorts.join(', ')}): the agent would listen where the app does`);
    }
    // The load balancer's port: `appPort`, else the first of `appPorts`, else the only mapping.
    const appPort = c.appPort ?? (Array.isArray(given) ? given[0] : appPorts[0]);
    errors.push(...portsTakenErrors(c, { statusPort }, appPort));
    return {
      errors,
      readsTasks: true,
      appPort,
      attach: () => {
        const sidecar = addTaskAgentSidecar(c.scope, {
          taskDefinition: c.taskDefinition,
          statusPort,
          appPorts: appPorts!,
          reads: c.metric === 'ACTIVE_CONNECTIONS' ? 'connections' : 'stats',
          image: o.image ?? ecs.ContainerImage.fromRegistry(DEFAULT_AGENT_IMAGE),
          logRetention: c.logRetention,
          encryptionKey: c.encryptionKey,
        });
        return { config: { type: 'taskAgent' }, statusPort, targetContainerName: c.appContainer.containerName, targetPort: appPort!, sidecar };
      },
    };
  };
}
