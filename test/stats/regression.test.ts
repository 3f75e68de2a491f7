import { describe, expect, it } from 'vitest';
import { bootstrap } from '../../src/stats/bootstrap.js';
import { pooledShift } from '../../src/stats/pooled.js';
import { fitPolynomial } from '../../src/stats/regression.js';

const xs = [256, 512, 768, 1024, 1536, 2048, 3072];

describe('fitPolynomial (reference: numpy.polyfit(x, y, 2, cov=True))', () => {
  it('recovers a clearly positive quadratic term with numpy coefficients and standard errors', () => {
    const ys = [1.3416608, 1.8826432, 2.5279472, 3.1575728, 4.5997888, 6.1442912, 9.7791552];
    const fit = fitPolynomial(xs.map((x, i) => ({ x, y: ys[i]! })), 2);
    const want = [0.7999661904088259, 0.0020030699858410985, 2.992172173062431e-7];
    const se = [0.019381162437773273, 2.9571608677992813e-5, 8.674538098349801e-9];
    fit.coefficients.forEach((c, i) => {
      expect(c.value).toBeCloseTo(want[i]!, 10 + i * 2);
      expect(c.standardError! / se[i]!).toBeCloseTo(1, 8);
    });
    expect(fit.dof).toBe(4);
    expect(fit.coefficients[2]!.ci95![0]).toBeGreaterThan(0);
  });

  it('a purely linear cost gives a c2 interval that contains zero', () => {
    const ys = [1.322, 1.804, 2.351, 2.843, 3.892, 4.886, 6.948];
    const fit = fitPolynomial(xs.map((x, i) => ({ x, y: ys[i]! })), 2);
    expect(fit.coefficients[2]!.value).toBeCloseTo(-7.827826937562416e-10, 15);
    const [lo, hi] = fit.coefficients[2]!.ci95!;
    expect(lo).toBeLessThan(0);
    expect(hi).toBeGreaterThan(0);
  });

  it('weighted least squares equals numpy (lstsq on the √w-scaled system, cov σ²(XᵀWX)⁻¹) on heteroscedastic timings', () => {
    const x = [256, 256, 256, 1024, 1024, 1024, 2048, 2048, 2048, 4096, 4096, 4096];
    const y = [2.11, 1.93, 2.02, 5.31, 4.72, 5.05, 10.9, 9.6, 10.3, 24.8, 21.1, 23.4];
    const mean = (v: number) => y.filter((_, i) => x[i] === v).reduce((s, q) => s + q, 0) / 3;
    const fit = fitPolynomial(x.map((v, i) => ({ x: v, y: y[i]!, w: 1 / mean(v) ** 2 })), 2);
    const want = [1.120537297016761, 0.003368510552309251, 4.956061928729043e-7];
    const se = [0.11853737895816957, 0.0003119764915484098, 1.0085752807963007e-7];
    fit.coefficients.forEach((c, i) => {
      expect(c.value / want[i]!).toBeCloseTo(1, 9);
      expect(c.standardError! / se[i]!).toBeCloseTo(1, 8);
    });
    expect(fit.r2).toBeCloseTo(0.9932815221468089, 10);
  });

  it('by construction: weight 1 everywhere is OLS, and an integer weight k is the point repeated k times', () => {
    const ys = [1.3416608, 1.8826432, 2.5279472, 3.1575728, 4.5997888, 6.1442912, 9.7791552];
    const plain = fitPolynomial(xs.map((x, i) => ({ x, y: ys[i]! })), 2);
    const ones = fitPolynomial(xs.map((x, i) => ({ x, y: ys[i]!, w: 1 })), 2);
    expect(ones).toEqual(plain);
    const weighted = fitPolynomial(xs.map((x, i) => ({ x, y: ys[i]!, w: i === 2 ? 3 : 1 })), 2);
    const repeated = fitPolynomial([...xs, xs[2]!, xs[2]!].map((x, i) => ({ x, y: ys[i < xs.length ? i : 2]! })), 2);
    weighted.coefficients.forEach((c, i) => expect(c.value / repeated.coefficients[i]!.value).toBeCloseTo(1, 9));
    expect(() => fitPolynomial(xs.map((x, i) => ({ x, y: ys[i]!, w: i === 0 ? 0 : 1 })), 2)).toThrow(/weights must be positive/);
  });

  it('no residual degrees of freedom: values but no intervals; too few points is an error', () => {
    const fit = fitPolynomial([{ x: 1, y: 1 }, { x: 2, y: 4 }, { x: 3, y: 9 }], 2);
    expect(fit.coefficients[2]!.value).toBeCloseTo(1, 10);
    expect(fit.coefficients[2]!.ci95).toBeNull();
    expect(() => fitPolynomial([{ x: 1, y: 1 }], 1)).toThrow(/at least 2 points/);
  });
});

describe('bootstrap', () => {
  it('is seeded and brackets the estimate; a ratio of two tight groups has a tight interval', () => {
    const ratio = (g: readonly (readonly number[])[]) => g[0]!.reduce((a, b) => a + b, 0) / g[0]!.length / (g[1]!.reduce((a, b) => a + b, 0) / g[1]!.length);
    const a = bootstrap([[10, 11, 9, 10.5], [5, 5.2, 4.9]], ratio, { seed: 1 });
    const b = bootstrap([[10, 11, 9, 10.5], [5, 5.2, 4.9]], ratio, { seed: 1 });
    expect(a).toEqual(b);
    expect(a.ci95![0]).toBeLessThanOrEqual(a.estimate);
    expect(a.ci95![1]).toBeGreaterThanOrEqual(a.estimate);
    expect(a.ci95![1] - a.ci95![0]).toBeLessThan(0.5);
    expect(bootstrap([[3], [4]], ratio).ci95).toBeNull();
  });
});

describe('pooledShift', () => {
  it('twenty cases each about 40% slower are a significant shift; noise around zero is not', () => {
    const slow = Array.from({ length: 20 }, (_, i) => Math.log(1.4) + ((i % 5) - 2) * 0.02);
    const s = pooledShift(slow);
    expect(s.relativeChange).toBeCloseTo(0.4, 2);
    expect(s.pValue).toBeLessThan(1e-6);
    const noise = Array.from({ length: 20 }, (_, i) => ((i % 5) - 2) * 0.02);
    const z = pooledShift(noise);
    expect(Math.abs(z.relativeChange)).toBeLessThan(0.01);
    expect(z.pValue).toBeGreaterThan(0.5);
    expect(pooledShift([0.3]).pValue).toBe(1);
  });
});
