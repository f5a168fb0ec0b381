/** A value with the time it stood for. */
export interface Weighted {
  readonly value: number;
  readonly weightMs: number;
}

/**
 * The q-quantile (0..1) of values weighted by the time each covers, so a 60 s rollup counts as sixty 1 s
 * samples. The lower empirical quantile: always one of the values, so it lies between their min and max.
 * Without any positive weight every value counts once; without values it is 0.
 */
export function weightedQuantile(items: readonly Weighted[], q: number): number {
  if (items.length === 0) return 0;
  const total = items.reduce((sum, item) => sum + Math.max(item.weightMs, 0), 0);
  const weigh = total > 0 ? (item: Weighted): number => Math.max(item.weightMs, 0) : (): number => 1;
  const sorted = [...items].sort((a, b) => a.value - b.value);
  const target = Math.min(Math.max(q, 0), 1) * (total > 0 ? total : items.length);
  let cumulative = 0;
  for (const item of sorted) {
    cumulative += weigh(item);
    if (cumulative >= target && cumulative > 0) return item.value;
  }
  // Rounding can leave the running sum a hair below the total.
  return sorted[sorted.length - 1]?.value ?? 0;
}
