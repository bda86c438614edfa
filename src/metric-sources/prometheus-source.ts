import { checkPort } from '../prop-checks';
import { PreparedSource, SourceContext, SourcePreparer } from './source-binding';
import { firstAppPort, metricErrors } from './source-checks';
import { PrometheusSourceOptions } from './source-options';

/** The Prometheus series travels in the Lambda's environment, which holds 4 KB in all. */
const MAX_SERIES_CHARS = 1024;

/** The app's own Prometheus endpoint: no sidecar. */
export function prometheusSource(o: PrometheusSourceOptions): SourcePreparer {
  if (o === undefined || o === null || o.port === undefined || o.port === null) {
    throw new Error('`port` of MetricSource.prometheus() is required: the port on which the app serves its metrics');
  }
  return (c: SourceContext): PreparedSource => {
    const path = o.path ?? '/metrics';
    const appPort = firstAppPort(c);
    const errors = [
      ...metricErrors('prometheus', c.metric),
      ...checkPort('port', o.port),
      // A worker with no port mapping needs no load balancer target: `loadBalancerTarget` says so if asked.
      ...(c.series && JSON.stringify(c.series).length > MAX_SERIES_CHARS
        ? [`the Prometheus series of \`policy\` (name and labels) must be at most ${MAX_SERIES_CHARS} characters as JSON, got ${JSON.stringify(c.series).length}: it travels in the controller's environment (4 KB in all)`]
        : []),
      ...(/^\/[\x21-\x7e]*$/.test(path) ? [] : [`\`path\` of MetricSource.prometheus() must be an absolute path of printable ASCII without spaces, got ${JSON.stringify(path)}`]),
    ];
    return {
      errors,
      readsTasks: true,
      appPort,
      attach: () => ({
        config: { type: 'prometheus', path, series: c.series! },
        statusPort: o.port,
        targetContainerName: c.appContainer.containerName,
        targetPort: appPort,
      }),
    };
  };
}
