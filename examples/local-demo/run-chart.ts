import { renderVegaLite, taskStepsLayer } from '../../test/support/vega-svg';

/**
 * The demo's chart: load and tasks over time, rendered to SVG by Vega-Lite.
 */

interface Sample {
  readonly t: number;
  readonly connections: number;
  readonly desired: number;
  readonly running: number;
}

export async function renderRunChart(samples: Sample[], updates: Array<{ t: number; desiredCount: number }>, targetPerTask: number): Promise<string> {
  const rows = samples.flatMap(s => [
    { t: s.t, series: `load (connections / ${targetPerTask})`, value: s.connections / targetPerTask },
    { t: s.t, series: 'desired tasks', value: s.desired },
    { t: s.t, series: 'running tasks', value: s.running },
  ]);
  return renderVegaLite({
    title: 'cdk-fast-autoscaler local demo: tasks follow the load',
    width: 720,
    height: 320,
    layer: [
      taskStepsLayer(rows),
      {
        data: { values: updates },
        mark: { type: 'point', shape: 'triangle-up', size: 80, filled: true, color: 'black' },
        encoding: {
          x: { field: 't', type: 'quantitative' },
          y: { field: 'desiredCount', type: 'quantitative' },
          tooltip: [{ field: 'desiredCount' }],
        },
      },
    ],
  });
}
