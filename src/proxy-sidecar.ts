import { Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { renderProxyNginxConfig, STATUS_PATH } from './proxy-nginx-config';

/** The proxy container's name in the task definition. */
export const PROXY_CONTAINER_NAME = 'fast-autoscaler-proxy';

/** The environment variable through which the task definition hands nginx its configuration. */
const CONFIG_VARIABLE = 'FAST_AUTOSCALER_NGINX_CONF';

export interface ProxySidecarOptions {
  readonly taskDefinition: ecs.TaskDefinition;
  readonly appContainer: ecs.ContainerDefinition;
  readonly appPort: number;
  readonly proxyPort: number;
  readonly statusPort: number;
  readonly image: ecs.ContainerImage;
}

/**
 * Adds the nginx reverse proxy to the task definition. The stock image is configured
 * from the task definition itself (the configuration travels in an environment variable
 * and is written out before nginx starts), so deploying needs no Docker build.
 */
export function addProxySidecar(o: ProxySidecarOptions): ecs.ContainerDefinition {
  const config = renderProxyNginxConfig({ proxyPort: o.proxyPort, statusPort: o.statusPort, appPort: o.appPort });
  const proxy = o.taskDefinition.addContainer(PROXY_CONTAINER_NAME, {
    image: o.image,
    essential: true,
    entryPoint: ['/bin/sh', '-c'],
    command: [`printenv ${CONFIG_VARIABLE} > /etc/nginx/nginx.conf && exec nginx -g 'daemon off;'`],
    environment: { [CONFIG_VARIABLE]: config },
    portMappings: [
      { containerPort: o.proxyPort, protocol: ecs.Protocol.TCP, name: 'fast-autoscaler-proxy' },
      { containerPort: o.statusPort, protocol: ecs.Protocol.TCP, name: 'fast-autoscaler-status' },
    ],
    memoryReservationMiB: 32,
    logging: ecs.LogDrivers.awsLogs({ streamPrefix: PROXY_CONTAINER_NAME }),
    healthCheck: {
      command: ['CMD-SHELL', `wget -q -O /dev/null http://127.0.0.1:${o.statusPort}${STATUS_PATH} || exit 1`],
      interval: Duration.seconds(10),
      timeout: Duration.seconds(3),
      retries: 3,
      startPeriod: Duration.seconds(10),
    },
  });
  // The proxy only forwards once the app has started; the app stays essential as it was.
  proxy.addContainerDependencies({ container: o.appContainer, condition: ecs.ContainerDependencyCondition.START });
  return proxy;
}
