/**
 * Intervals for proportions and for linear combinations of independent proportions (accuracies on held-out items):
 * Wilson's score interval for one, and the MOVER method (Newcombe 1998; Zou & Donner 2008) for a sum of them with
 * coefficients, which gives Newcombe's hybrid score interval for a difference and extends to a difference of
 * differences ("does accuracy fall faster with depth for one model than for the other").
 */

/** Wilson score interval for a binomial proportion (z = 1.96: 95%). Defined for n = 0 as [0, 1]. */
export function wilsonInterval(correct: number, n: number, z = 1.959963984540054): { low: number; high: number } {
  if (!Number.isInteger(correct) || !Number.isInteger(n) || correct < 0 || n < 0 || correct > n) {
    throw new RangeError(`wilsonInterval: need integers 0 <= correct <= n, got ${correct}/${n}`);
  }
  if (n === 0) return { low: 0, high: 1 };
  const p = correct / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** One accuracy in a combination: `coef` x (correct / n). */
export interface ProportionTerm {
  coef: number;
  correct: number;
  n: number;
}

/**
 * Estimate and 95% interval of sum(coef_i * p_i) over independent proportions, by MOVER with Wilson limits: the
 * lower limit is the estimate less sqrt(sum (coef_i p_i - lower of coef_i p_i)^2), the upper likewise. For
 * [+1 x a, -1 x b] this is Newcombe's method 10 for a difference of proportions. Null when some n is 0.
 */
export function combinationInterval(terms: readonly ProportionTerm[]): { estimate: number; ci95: [number, number] } | null {
  if (!terms.length || terms.some((t) => t.n === 0)) return null;
  let estimate = 0;
  let down = 0;
  let up = 0;
  for (const t of terms) {
    const p = t.correct / t.n;
    const { low, high } = wilsonInterval(t.correct, t.n);
    const [lo, hi] = t.coef >= 0 ? [t.coef * low, t.coef * high] : [t.coef * high, t.coef * low];
    const v = t.coef * p;
    estimate += v;
    down += (v - lo) ** 2;
    up += (hi - v) ** 2;
  }
  return { estimate, ci95: [estimate - Math.sqrt(down), estimate + Math.sqrt(up)] };
}
