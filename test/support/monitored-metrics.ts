/**
 * Every metric a synthesized template's alarms and dashboards ask CloudWatch for, in one
 * shape, so that a test can hold them against what the controller really emits.
 * Dimension values stay as the template has them (a string, or a Ref / Fn::GetAtt).
 */
export interface MonitoredMetric {
  /** The alarm's or dashboard's logical id. */
  readonly readBy: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, unknown>;
  readonly statistic?: string;
  readonly period?: number;
  readonly unit?: string;
}

type ResourceType = 'AWS::CloudWatch::Alarm' | 'AWS::CloudWatch::Dashboard';

export function monitoredMetrics(template: any, ...types: ResourceType[]): MonitoredMetric[] {
  const wanted = types.length > 0 ? types : ['AWS::CloudWatch::Alarm', 'AWS::CloudWatch::Dashboard'];
  const found: MonitoredMetric[] = [];
  for (const [id, resource] of Object.entries(template.Resources ?? {}) as Array<[string, any]>) {
    if (!wanted.includes(resource.Type)) continue;
    if (resource.Type === 'AWS::CloudWatch::Alarm') found.push(...alarmMetrics(id, resource.Properties));
    else found.push(...dashboardMetrics(id, resource.Properties.DashboardBody));
  }
  return found;
}

function dimensionMap(dimensions: Array<{ Name: string; Value: unknown }> | undefined): Record<string, unknown> {
  return Object.fromEntries((dimensions ?? []).map(d => [d.Name, d.Value]));
}

function alarmMetrics(id: string, p: any): MonitoredMetric[] {
  if (p.MetricName) {
    return [{
      readBy: id,
      namespace: p.Namespace,
      metricName: p.MetricName,
      dimensions: dimensionMap(p.Dimensions),
      statistic: p.Statistic ?? p.ExtendedStatistic,
      period: p.Period,
      unit: p.Unit,
    }];
  }
  return (p.Metrics ?? []).filter((q: any) => q.MetricStat).map((q: any) => ({
    readBy: id,
    namespace: q.MetricStat.Metric.Namespace,
    metricName: q.MetricStat.Metric.MetricName,
    dimensions: dimensionMap(q.MetricStat.Metric.Dimensions),
    statistic: q.MetricStat.Stat,
    period: q.MetricStat.Period,
    unit: q.MetricStat.Unit,
  }));
}

/**
 * A dashboard body is a JSON text joined from strings and CloudFormation references: each
 * reference becomes a placeholder for the parse, and is put back in the dimension values.
 */
function dashboardMetrics(id: string, body: any): MonitoredMetric[] {
  const parts: unknown[] = typeof body === 'string' ? [body] : body['Fn::Join'][1];
  const tokens: unknown[] = [];
  const text = parts.map(part => {
    if (typeof part === 'string') return part;
    tokens.push(part);
    return `@@token${tokens.length - 1}@@`;
  }).join('');
  const restore = (v: unknown) => {
    const m = typeof v === 'string' ? /^@@token(\d+)@@$/.exec(v) : null;
    return m ? tokens[Number(m[1])] : v;
  };
  const found: MonitoredMetric[] = [];
  for (const widget of JSON.parse(text).widgets) {
    for (const row of widget.properties?.metrics ?? []) {
      const options = typeof row[row.length - 1] === 'object' ? row[row.length - 1] : {};
      const names = typeof row[row.length - 1] === 'object' ? row.slice(0, -1) : row;
      if (names.length < 2) continue; // a math expression: its inputs are rows of their own
      const [namespace, metricName, ...pairs] = names;
      const dimensions: Record<string, unknown> = {};
      for (let i = 0; i < pairs.length; i += 2) dimensions[pairs[i]] = restore(pairs[i + 1]);
      found.push({ readBy: id, namespace, metricName, dimensions, statistic: options.stat, period: options.period, unit: options.unit });
    }
  }
  return found;
}
