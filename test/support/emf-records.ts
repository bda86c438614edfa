/**
 * The data points CloudWatch makes of EMF records, as the embedded metric format
 * specification describes: each directive in `_aws.CloudWatchMetrics` gives, for each of its
 * dimension sets, one metric per entry of `Metrics`, whose dimensions are exactly that set
 * (values taken from the record's members of those names) and whose value is the record's
 * member of the metric's name (a number, or an array of them).
 */
export interface EmittedDatum {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly unit?: string;
  readonly value: number;
  /** Milliseconds since the epoch, from `_aws.Timestamp`. */
  readonly timestamp: number;
}

export function emittedData(records: ReadonlyArray<Record<string, any>>): EmittedDatum[] {
  const data: EmittedDatum[] = [];
  for (const record of records) {
    for (const directive of record._aws?.CloudWatchMetrics ?? []) {
      for (const dimensionSet of directive.Dimensions as string[][]) {
        const dimensions = Object.fromEntries(dimensionSet.map(name => [name, String(record[name])]));
        for (const metric of directive.Metrics as Array<{ Name: string; Unit?: string }>) {
          const values = ([] as unknown[]).concat(record[metric.Name]);
          for (const value of values) {
            if (typeof value !== 'number') throw new Error(`EMF metric ${metric.Name} has no numeric value: ${JSON.stringify(record)}`);
            data.push({
              namespace: directive.Namespace, metricName: metric.Name, dimensions, unit: metric.Unit, value, timestamp: record._aws.Timestamp,
            });
          }
        }
      }
    }
  }
  return data;
}

/** What identifies one CloudWatch series: namespace, name and the whole dimension set. */
export function seriesKey(namespace: string, metricName: string, dimensions: Readonly<Record<string, unknown>>): string {
  const sorted = Object.keys(dimensions).sort().map(k => [k, dimensions[k]]);
  return JSON.stringify([namespace, metricName, sorted]);
}
