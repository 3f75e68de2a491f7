/**
 * Least squares for cost models: y = c0 + c1·x + c2·x² (or any low degree), with each coefficient's 95% confidence
 * interval from its standard error (Student's t, n - p degrees of freedom). Points may carry weights (weighted least
 * squares: minimise Σ w·(y - ŷ)², covariance σ²·(XᵀWX)⁻¹ with σ² = Σ w·r² / (n - p)); without them it is ordinary
 * least squares. Used to ask whether a quadratic term in sequence length is there at all, which a log-log exponent
 * cannot answer when a large linear cost hides it.
 */
import { at, at2 } from '../util/indexing.js';
import { studentTQuantile } from './index.js';

export interface Coefficient {
  value: number;
  /** null when the fit has no residual degrees of freedom (as many points as coefficients). */
  ci95: [number, number] | null;
  standardError: number | null;
}

export interface PolynomialFit {
  degree: number;
  /** c0, c1, ... in the units of y per x^i. */
  coefficients: Coefficient[];
  r2: number;
  n: number;
  /** Residual degrees of freedom, n - (degree + 1). */
  dof: number;
}

/** Solves the symmetric positive-definite system A x = b (Gauss-Jordan with partial pivoting); returns A⁻¹ too. */
function solveWithInverse(a: number[][], b: number[]): { x: number[]; inverse: number[][] } {
  const p = a.length;
  // Augmented rows [A | I | b], one Float64Array each.
  const m = a.map((row, i) => Float64Array.from([...row, ...Array.from({ length: p }, (_, j) => (i === j ? 1 : 0)), at(b, i)]));
  for (let col = 0; col < p; col++) {
    let pivot = col;
    for (let r = col + 1; r < p; r++) if (Math.abs(at2(m, r, col)) > Math.abs(at2(m, pivot, col))) pivot = r;
    const row = at(m, pivot);
    const d = at(row, col);
    if (Math.abs(d) < 1e-300) throw new RangeError('fitPolynomial: the design is singular (too few distinct x values)');
    m[pivot] = at(m, col);
    m[col] = row;
    for (let j = 0; j < row.length; j++) row[j] = at(row, j) / d;
    m.forEach((other, r) => {
      if (r === col) return;
      const f = at(other, col);
      if (f === 0) return;
      for (let j = 0; j < other.length; j++) other[j] = at(other, j) - f * at(row, j);
    });
  }
  return { x: m.map((row) => at(row, 2 * p)), inverse: m.map((row) => [...row.subarray(p, 2 * p)]) };
}

/**
 * Fits y = Σ c_i x^i (i = 0..degree) by (weighted) least squares; a point's weight `w` defaults to 1 and must be
 * positive. x is rescaled internally (x / max|x|) so that x² at thousands of tokens does not ruin the conditioning;
 * coefficients are returned in the original units. r² is the weighted one (1 - Σw·r² / Σw·(y - ȳ_w)²).
 */
export function fitPolynomial(points: readonly { x: number; y: number; w?: number }[], degree: number): PolynomialFit {
  const p = degree + 1;
  const n = points.length;
  if (n < p) throw new RangeError(`fitPolynomial: degree ${degree} needs at least ${p} points, got ${n}`);
  const w = points.map((q) => q.w ?? 1);
  if (w.some((v) => !(v > 0) || !Number.isFinite(v))) throw new RangeError('fitPolynomial: weights must be positive and finite');
  const scale = Math.max(...points.map((q) => Math.abs(q.x))) || 1;
  const rows = points.map((q) => Array.from({ length: p }, (_, i) => (q.x / scale) ** i));
  const ata = Array.from({ length: p }, (_, i) => Array.from({ length: p }, (_, j) => rows.reduce((s, r, k) => s + at(w, k) * at(r, i) * at(r, j), 0)));
  const aty = Array.from({ length: p }, (_, i) => rows.reduce((s, r, k) => s + at(w, k) * at(r, i) * at(points, k).y, 0));
  const { x: beta, inverse } = solveWithInverse(ata, aty);
  const fitted = rows.map((r) => r.reduce((s, v, i) => s + v * at(beta, i), 0));
  const sse = points.reduce((s, q, k) => s + at(w, k) * (q.y - at(fitted, k)) ** 2, 0);
  const sw = w.reduce((s, v) => s + v, 0);
  const my = points.reduce((s, q, k) => s + at(w, k) * q.y, 0) / sw;
  const sst = points.reduce((s, q, k) => s + at(w, k) * (q.y - my) ** 2, 0);
  const dof = n - p;
  const sigma2 = dof > 0 ? sse / dof : NaN;
  const t = dof > 0 ? studentTQuantile(0.975, dof) : NaN;
  const coefficients = beta.map((b, i): Coefficient => {
    const unscale = scale ** i;
    const value = b / unscale;
    if (dof <= 0) return { value, ci95: null, standardError: null };
    const se = Math.sqrt(Math.max(0, sigma2 * at2(inverse, i, i))) / unscale;
    return { value, ci95: [value - t * se, value + t * se], standardError: se };
  });
  return { degree, coefficients, r2: sst > 0 ? 1 - sse / sst : 1, n, dof };
}
