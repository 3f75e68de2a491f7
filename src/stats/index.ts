/** Statistics as pure functions over raw samples. */

/** A summary of raw values. With one value the interval is unknown: ±Infinity (results.json stores null). */
export interface Summary {
  n: number;
  mean: number;
  sd: number;
  min: number;
  max: number;
  p50: number;
  p90: number;
  p99: number;
  ci95: [number, number];
  /** Indices of values flagged as outliers (|x - median| / MAD > 3.5 scaled). */
  outliers: number[];
}

/** ln Γ(x), Lanczos approximation (g = 7, n = 9). */
function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularized incomplete beta I_x(a, b) by continued fraction (Numerical Recipes' Lentz method). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  const cf = (xx: number, aa: number, bb: number) => {
    const tiny = 1e-300;
    let c = 1;
    let d = 1 - ((aa + bb) * xx) / (aa + 1);
    if (Math.abs(d) < tiny) d = tiny;
    d = 1 / d;
    let h = d;
    for (let m = 1; m <= 300; m++) {
      const m2 = 2 * m;
      let num = (m * (bb - m) * xx) / ((aa + m2 - 1) * (aa + m2));
      d = 1 + num * d;
      if (Math.abs(d) < tiny) d = tiny;
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      d = 1 / d;
      h *= d * c;
      num = (-(aa + m) * (aa + bb + m) * xx) / ((aa + m2) * (aa + m2 + 1));
      d = 1 + num * d;
      if (Math.abs(d) < tiny) d = tiny;
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      d = 1 / d;
      const del = d * c;
      h *= del;
      if (Math.abs(del - 1) < 1e-14) break;
    }
    return h;
  };
  return x < (a + 1) / (a + b + 2) ? (front * cf(x, a, b)) / a : 1 - (front * cf(1 - x, b, a)) / b;
}

/** Student's t CDF with df degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const x = df / (df + t * t);
  const tail = 0.5 * incompleteBeta(x, df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Quantile of Student's t (bisection on the CDF; exact to ~1e-10). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  if (!Number.isFinite(df)) return normalQuantile(p);
  // Widen the bracket until it holds the quantile (heavy tails at df = 1 reach far), then bisect.
  let lo = -1;
  let hi = 1;
  while (studentTCdf(lo, df) > p) lo *= 2;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 via erf, |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(z) / Math.SQRT2));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(z * z) / 2);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

export function normalQuantile(p: number): number {
  let lo = -40;
  let hi = 40;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Linear-interpolation percentile (the "type 7" definition used by numpy and R) over sorted values. */
export function percentileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const i = Math.floor(pos);
  const frac = pos - i;
  return i + 1 < sorted.length ? sorted[i]! + frac * (sorted[i + 1]! - sorted[i]!) : sorted[i]!;
}

export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
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
    min: sorted[0]!,
    max: sorted[n - 1]!,
    p50: percentileSorted(sorted, 0.5),
    p90: percentileSorted(sorted, 0.9),
    p99: percentileSorted(sorted, 0.99),
    // A single sample has no spread to estimate: the interval is unknown, not zero-width.
    ci95: n > 1 ? [m - half, m + half] : [-Infinity, Infinity],
    outliers: madOutliers(values),
  };
}

/** Fits y = a * x^k by least squares on log-log; k's 95% CI from its standard error (t, n - 2 df). */
export function fitPowerLaw(points: readonly { x: number; y: number }[]): { exponent: number; ci95: [number, number]; r2: number } {
  const pts = points.filter((p) => p.x > 0 && p.y > 0);
  const n = pts.length;
  if (n < 2) throw new RangeError('fitPowerLaw: need at least two positive points');
  const lx = pts.map((p) => Math.log(p.x));
  const ly = pts.map((p) => Math.log(p.y));
  const mx = mean(lx);
  const my = mean(ly);
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (lx[i]! - mx) ** 2;
    sxy += (lx[i]! - mx) * (ly[i]! - my);
    syy += (ly[i]! - my) ** 2;
  }
  const k = sxy / sxx;
  const intercept = my - k * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ly[i]! - (intercept + k * lx[i]!)) ** 2;
  const r2 = syy > 0 ? 1 - sse / syy : 1;
  if (n === 2) return { exponent: k, ci95: [-Infinity, Infinity], r2 };
  const se = Math.sqrt(sse / (n - 2) / sxx);
  const half = studentTQuantile(0.975, n - 2) * se;
  return { exponent: k, ci95: [k - half, k + half], r2 };
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
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j++;
    for (let k = i; k <= j; k++) ranks[k] = (i + j) / 2 + 1;
    if (j > i) tieSizes.push(j - i + 1);
    i = j + 1;
  }
  const r1 = all.reduce((s, x, i) => (x.g === 0 ? s + ranks[i]! : s), 0);
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u = Math.min(u1, n1 * n2 - u1);
  if (n1 <= 8 && n2 <= 8 && tieSizes.length === 0) {
    // Exact: count rank-sum distributions of n1 ranks out of n1 + n2 by dynamic programming.
    const N = n1 + n2;
    const maxU = n1 * n2;
    // ways[k][s] = subsets of size k with U-statistic s, built over items.
    let ways: number[][] = Array.from({ length: n1 + 1 }, () => new Array<number>(maxU + 1).fill(0));
    ways[0]![0] = 1;
    for (let item = 0; item < N; item++) {
      const next = ways.map((row) => [...row]);
      for (let k = 0; k < n1; k++) {
        for (let s = 0; s <= maxU; s++) {
          const w = ways[k]![s]!;
          if (!w) continue;
          // Choosing `item` as the (k+1)-th member of group 1 adds (item - k) group-2 items below it.
          const add = item - k;
          if (add <= n2 && s + add <= maxU) next[k + 1]![s + add]! += w;
        }
      }
      ways = next;
    }
    const dist = ways[n1]!;
    const total = dist.reduce((x, y) => x + y, 0);
    let tail = 0;
    for (let s = 0; s <= u; s++) tail += dist[s]!;
    return { u, pValue: Math.min(1, (2 * tail) / total) };
  }
  const N = n1 + n2;
  const tieTerm = tieSizes.reduce((s, t) => s + (t ** 3 - t), 0);
  const sigma = Math.sqrt(((n1 * n2) / 12) * (N + 1 - tieTerm / (N * (N - 1))));
  if (sigma === 0) return { u, pValue: 1 };
  const z = (Math.abs(u1 - (n1 * n2) / 2) - 0.5) / sigma;
  return { u, pValue: Math.min(1, 2 * (1 - normalCdf(Math.max(0, z)))) };
}
