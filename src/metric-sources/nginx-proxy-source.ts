import { Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { checkBodySize, checkDistinctPorts, checkDuration, checkPort, checkSidecarPort } from '../prop-checks';
import { DEFAULT_PROXY_TIMEOUT_SECONDS } from './proxy-nginx-config';
import { addProxySidecar, PROXY_CONTAINER_NAME } from './proxy-sidecar';
import { PreparedSource, SourceContext, SourcePreparer } from './source-binding';
import { firstAppPort, metricErrors, noAppPort, portsTakenErrors } from './source-checks';
import { DEFAULT_PROXY_IMAGE, DEFAULT_STATUS_PORT, NginxProxySourceOptions } from './source-options';

/** The nginx proxy: a sidecar in front of the app whose stub_status the controller reads. */
export function nginxProxySource(o: NginxProxySourceOptions): SourcePreparer {
  return (c: SourceContext): PreparedSource => {
    const appPort = firstAppPort(c);
    const proxyPort = o.proxyPort ?? 8012;
    const statusPort = o.statusPort ?? DEFAULT_STATUS_PORT;
    const timeout = o.timeout ?? Duration.seconds(DEFAULT_PROXY_TIMEOUT_SECONDS);
    const errors = [
      ...metricErrors('nginxProxy', c.metric),
      ...(appPort === undefined ? [noAppPort(c)] : checkPort('appPort', appPort)),
      ...checkSidecarPort('proxyPort', proxyPort),
      ...checkSidecarPort('statusPort', statusPort),
      ...checkDistinctPorts({ ...(appPort !== undefined ? { appPort } : {}), proxyPort, statusPort }),
      ...portsTakenErrors(c, { proxyPort, statusPort }, appPort),
      ...checkDuration('proxyTimeout', timeout, 1, 86400),
      ...checkBodySize('proxyMaxRequestBodySize', o.maxRequestBodySize),
    ];
    return {
      errors,
      readsTasks: true,
      appPort,
      attach: () => {
        const sidecar = addProxySidecar(c.scope, {
          taskDefinition: c.taskDefinition,
          appContainer: c.appContainer,
          appPort: appPort!,
          proxyPort,
          statusPort,
          image: o.image ?? ecs.ContainerImage.fromRegistry(DEFAULT_PROXY_IMAGE),
          logRetention: c.logRetention,
          encryptionKey: c.encryptionKey,
          timeoutSeconds: timeout.toSeconds(),
          maxRequestBodyBytes: o.maxRequestBodySize?.toBytes(),
          // Only the default image is known to understand the early_hints directive.
          earlyHints: o.image === undefined,
        });
        return { config: { type: 'nginxProxy' }, statusPort, targetContainerName: PROXY_CONTAINER_NAME, targetPort: proxyPort, sidecar };
      },
    };
  };
}
