/** The longest pause between consecutive instants, in ms. */
export function maxGap(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return Math.max(...sorted.slice(1).map((t, i) => t - sorted[i]));
}
