/** Statistics as pure functions over raw samples. */
import { at, at2, first, last } from '../util/indexing.js';
import jStat from 'jstat';

/** The summary of one metric's raw samples (results.json keeps one per metric beside the samples). */
export interface Summary {
  n: number;
  mean: number;
  sd: number;
  min: number;
  max: number;
  p50: number;
  p90: number;
  p99: number;
  /** Student's t 95% interval of the mean; [-Infinity, Infinity] (null on disk) when n = 1. */
  ci95: [number, number];
  /** Indices of samples flagged as outliers (|x - median| / MAD > 3.5 scaled). */
  outliers: number[];
}

/** Quantile of Student's t with df degrees of freedom (jstat; df = Infinity is the standard normal). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`df must be > 0, got ${df}`);
  return Number.isFinite(df) ? jStat.studentt.inv(p, df) : jStat.normal.inv(p, 0, 1);
}

/** Student's t CDF with df degrees of freedom (jstat). */
export function studentTCdf(t: number, df: number): number {
  return jStat.studentt.cdf(t, df);
}

/** Standard normal CDF. */
function normalCdf(z: number): number {
  return jStat.normal.cdf(z, 0, 1);
}

/** Linear-interpolation percentile (the "type 7" definition used by numpy and R) over sorted values. */
export function percentileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const i = Math.floor(pos);
  const frac = pos - i;
  const lo = at(sorted, i);
  return i + 1 < sorted.length ? lo + frac * (at(sorted, i + 1) - lo) : lo;
}

/** Type-7 percentile (q in 0..1) of unsorted values; NaN when there are none. */
export function percentile(values: readonly number[], q: number): number {
  return percentileSorted([...values].sort((a, b) => a - b), Math.min(1, Math.max(0, q)));
}

/** Arithmetic mean; NaN when there are no values. */
export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** The mean, undefined (a field left out) when there are no values. */
export function meanOrNone(values: readonly number[]): number | undefined {
  return values.length ? mean(values) : undefined;
}

export function median(values: readonly number[]): number {
  return percentileSorted([...values].sort((a, b) => a - b), 0.5);
}

/** Indices whose modified z-score 0.6745 * |x - median| / MAD exceeds 3.5 (Iglewicz and Hoaglin). */
export function madOutliers(values: readonly number[]): number[] {
  const m = median(values);
  const mad = median(values.map((v) => Math.abs(v - m)));
  if (mad === 0) return [];
  return values.flatMap((v, i) => ((0.6745 * Math.abs(v - m)) / mad > 3.5 ? [i] : []));
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) throw new RangeError('summarize: no values');
  const sorted = [...values].sort((a, b) => a - b);
  const m = mean(values);
  const sd = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (n - 1)) : 0;
  const half = n > 1 ? studentTQuantile(0.975, n - 1) * (sd / Math.sqrt(n)) : NaN;
  return {
    n,
    mean: m,
    sd,
    min: first(sorted),
    max: last(sorted),
    p50: percentileSorted(sorted, 0.5),
    p90: percentileSorted(sorted, 0.9),
    p99: percentileSorted(sorted, 0.99),
    // A single sample has no spread to estimate: the interval is unknown, not zero-width.
    ci95: n > 1 ? [m - half, m + half] : [-Infinity, Infinity],
    outliers: madOutliers(values),
  };
}

/** tput(B) / (B * tput(1)): 1 = perfect scaling, 1/B = no gain from batching. */
export function batchEfficiency(tputB: number, batch: number, tput1: number): number {
  return tput1 > 0 && batch > 0 ? tputB / (batch * tput1) : NaN;
}

/**
 * Two-sided Mann-Whitney U test. Exact p (enumerating rank sums) when both samples have at most 8 values and no
 * ties; otherwise the normal approximation with tie correction and continuity correction.
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): { u: number; pValue: number } {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { u: NaN, pValue: 1 };
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))].sort((x, y) => x.v - y.v);
  const ranks = new Array<number>(all.length);
  const tieSizes: number[] = [];
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && at(all, j + 1).v === at(all, i).v) j++;
    for (let k = i; k <= j; k++) ranks[k] = (i + j) / 2 + 1;
    if (j > i) tieSizes.push(j - i + 1);
    i = j + 1;
  }
  const r1 = all.reduce((s, x, i) => (x.g === 0 ? s + at(ranks, i) : s), 0);
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u = Math.min(u1, n1 * n2 - u1);
  if (n1 <= 8 && n2 <= 8 && tieSizes.length === 0) {
    // Exact: count rank-sum distributions of n1 ranks out of n1 + n2 by dynamic programming.
    const N = n1 + n2;
    const maxU = n1 * n2;
    // ways[k][s] = subsets of size k with U-statistic s, built over items.
    let ways: number[][] = Array.from({ length: n1 + 1 }, () => new Array<number>(maxU + 1).fill(0));
    at(ways, 0)[0] = 1;
    for (let item = 0; item < N; item++) {
      const next = ways.map((row) => [...row]);
      for (let k = 0; k < n1; k++) {
        for (let s = 0; s <= maxU; s++) {
          const w = at2(ways, k, s);
          if (!w) continue;
          // Choosing `item` as the (k+1)-th member of group 1 adds (item - k) group-2 items below it.
          const add = item - k;
          if (add <= n2 && s + add <= maxU) {
            const row = at(next, k + 1);
            row[s + add] = at(row, s + add) + w;
          }
        }
      }
      ways = next;
    }
    const dist = at(ways, n1);
    const total = dist.reduce((x, y) => x + y, 0);
    let tail = 0;
    for (let s = 0; s <= u; s++) tail += at(dist, s);
    return { u, pValue: Math.min(1, (2 * tail) / total) };
  }
  const N = n1 + n2;
  const tieTerm = tieSizes.reduce((s, t) => s + (t ** 3 - t), 0);
  const sigma = Math.sqrt(((n1 * n2) / 12) * (N + 1 - tieTerm / (N * (N - 1))));
  if (sigma === 0) return { u, pValue: 1 };
  const z = (Math.abs(u1 - (n1 * n2) / 2) - 0.5) / sigma;
  return { u, pValue: Math.min(1, 2 * (1 - normalCdf(Math.max(0, z)))) };
}

/**
 * How precisely a summary pins its mean: the 95% CI's half-width over the mean, and the coefficient of variation
 * (sd / mean); both null with one value (no interval can be estimated) or a mean of 0.
 */
export function relativeSpread(s: { n: number; mean: number; sd: number; ci95: readonly [number, number] | null }): { relativeHalfWidth: number | null; cv: number | null } {
  if (s.n < 2 || s.mean === 0 || !s.ci95 || !Number.isFinite(s.ci95[0]) || !Number.isFinite(s.ci95[1])) return { relativeHalfWidth: null, cv: s.n < 2 || s.mean === 0 ? null : s.sd / Math.abs(s.mean) };
  return { relativeHalfWidth: (s.ci95[1] - s.ci95[0]) / 2 / Math.abs(s.mean), cv: s.sd / Math.abs(s.mean) };
}

/**
 * Welch's 95% interval of the difference of two means (a - b) from their summaries; null when either side has one
 * value (no spread to estimate). Two measurements of the same thing agree when it contains 0.
 */
export function welchDifferenceCi(a: { n: number; mean: number; sd: number }, b: { n: number; mean: number; sd: number }): [number, number] | null {
  if (a.n < 2 || b.n < 2) return null;
  const va = (a.sd * a.sd) / a.n;
  const vb = (b.sd * b.sd) / b.n;
  const se = Math.sqrt(va + vb);
  const d = a.mean - b.mean;
  if (se === 0) return [d, d];
  const df = (va + vb) ** 2 / ((va * va) / (a.n - 1) + (vb * vb) / (b.n - 1));
  const half = studentTQuantile(0.975, df) * se;
  return [d - half, d + half];
}
