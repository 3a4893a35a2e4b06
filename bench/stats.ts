/** The small statistics the benchmark needs: percentiles and a least-squares line. */

/** The nearest-rank percentile (p in 0-100) of `values`; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

/** The nearest-rank median: one of the values, as every p50 the benchmark reports. */
export const median = (values: readonly number[]): number => percentile(values, 50);

/** y = intercept + slope * x, fitted by least squares (at least two distinct x). */
export interface Line {
  readonly intercept: number;
  readonly slope: number;
}

export function linearFit(points: readonly (readonly [number, number])[]): Line {
  const n = points.length;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const sxx = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  if (n < 2 || sxx === 0) throw new Error('a line needs points at two different x at least');
  const sxy = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  const slope = sxy / sxx;
  return { intercept: meanY - slope * meanX, slope };
}

export const at = (line: Line, x: number): number => line.intercept + line.slope * x;
