/** Renders a Vega-Lite specification to SVG, headless. */
export async function renderVegaLite(spec: object): Promise<string> {
  // Vega is ESM-only, with top-level await: a real dynamic import, not a require.
  const vega = await import('vega');
  const vl = await import('vega-lite');
  const compiled = vl.compile(spec as Parameters<typeof vl.compile>[0]).spec;
  return new vega.View(vega.parse(compiled), { renderer: 'none' }).toSVG();
}

/** One row of a step chart: a value of a named series at time t (seconds). */
export interface SeriesPoint {
  readonly t: number;
  readonly series: string;
  readonly value: number;
}

/** A Vega-Lite layer drawing each series as steps over time, in tasks. */
export function taskStepsLayer(rows: SeriesPoint[]): object {
  return {
    data: { values: rows },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'seconds' },
      y: { field: 'value', type: 'quantitative', title: 'tasks' },
      color: { field: 'series', type: 'nominal', title: null, legend: { labelLimit: 400, orient: 'bottom', columns: 2 } },
    },
  };
}
