/** Renders a Vega-Lite specification to SVG, headless. */
export async function renderVegaLite(spec: object): Promise<string> {
  // Vega is ESM-only, with top-level await: a real dynamic import, not a require.
  const vega = await import('vega');
  const vl = await import('vega-lite');
  const compiled = vl.compile(spec as Parameters<typeof vl.compile>[0]).spec;
  return new vega.View(vega.parse(compiled), { renderer: 'none' }).toSVG();
}
