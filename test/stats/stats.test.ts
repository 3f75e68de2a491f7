import { describe, expect, it } from 'vitest';
import { batchEfficiency, madOutliers, mannWhitneyU, mean, meanOrNone, percentile, relativeSpread, studentTCdf, studentTQuantile, summarize, welchDifferenceCi } from '../../src/stats/index.js';

describe('statistics', () => {
  it('Student t quantiles match tables', () => {
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.706, 2);
    expect(studentTQuantile(0.975, 4)).toBeCloseTo(2.776, 3);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.042, 3);
    expect(studentTQuantile(0.025, 10)).toBeCloseTo(-2.228, 3);
    expect(studentTQuantile(0.9999, 1)).toBeCloseTo(3183.1, 0); // beyond any fixed search bracket
  });

  it('Student t quantiles agree with scipy.stats.t.ppf to 1e-7 (relative)', () => {
    const scipy: [p: number, df: number, ppf: number][] = [
      [0.975, 2, 4.302652729749462],
      [0.975, 30, 2.0422724563012378],
      [0.975, 1000, 1.9623390808264083],
      [0.999999, 2, 707.1057205157672],
      [0.975, Infinity, 1.959963984540054],
    ];
    for (const [p, df, ppf] of scipy) expect(Math.abs(studentTQuantile(p, df) / ppf - 1), `t(${p}, ${df})`).toBeLessThan(1e-7);
    const cdf: [t: number, df: number, p: number][] = [
      [2, 5, 0.9490302605850708],
      [-1.5, 3, 0.11529193262241147],
      [0.3, 1, 0.5927735790777423],
      [4, 30, 0.9998090771819581],
    ];
    for (const [t, df, p] of cdf) expect(Math.abs(studentTCdf(t, df) / p - 1), `cdf(${t}, ${df})`).toBeLessThan(1e-7);
    expect(() => studentTQuantile(1, 3)).toThrow(RangeError);
    expect(() => studentTQuantile(0.5, 0)).toThrow(RangeError);
  });

  it('summarize: mean, sample sd, interpolated percentiles, t interval', () => {
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.mean).toBe(5);
    expect(s.sd).toBeCloseTo(2.138, 3);
    expect(s.p50).toBe(4.5);
    expect(s.p90).toBeCloseTo(7.6, 6);
    const half = 2.365 * (2.138 / Math.sqrt(8));
    expect(s.ci95[0]).toBeCloseTo(5 - half, 2);
    expect(s.ci95[1]).toBeCloseTo(5 + half, 2);
    expect(summarize([3]).ci95).toEqual([-Infinity, Infinity]);
  });

  it('flags MAD outliers only', () => {
    expect(madOutliers([10, 10.2, 9.9, 10.1, 10, 30])).toEqual([5]);
    expect(madOutliers([1, 1, 1, 1])).toEqual([]);
  });

  it('batch efficiency', () => {
    expect(batchEfficiency(368, 4, 100)).toBeCloseTo(0.92, 6);
  });

  it('Mann-Whitney U: exact for small samples, normal approximation with ties', () => {
    expect(mannWhitneyU([1, 2, 3], [4, 5, 6])).toEqual({ u: 0, pValue: 0.1 });
    const same = mannWhitneyU([1, 2, 3, 4, 5], [1.5, 2.5, 3.5, 4.5, 5.5]);
    expect(same.pValue).toBeGreaterThan(0.5);
    const a = Array.from({ length: 20 }, (_, i) => 100 + (i % 5));
    const b = Array.from({ length: 20 }, (_, i) => 80 + (i % 5));
    expect(mannWhitneyU(a, b).pValue).toBeLessThan(1e-6);
  });

  it('percentile interpolates linearly over unsorted values (numpy type 7)', () => {
    expect(percentile([], 0.95)).toBeNaN();
    expect(percentile([7], 0.95)).toBe(7);
    // positions 0..4, p95 at 3.8: 40 + 0.8 * (50 - 40)
    expect(percentile([50, 10, 40, 20, 30], 0.95)).toBeCloseTo(48, 10);
    expect(percentile([1, 2, 3], 0.5)).toBe(2);
    expect(percentile([3, 1], 1.5)).toBe(3);
    expect(mean([1, 2, 6])).toBe(3);
    expect(mean([])).toBeNaN();
    expect(meanOrNone([1, 2, 6])).toBe(3);
    expect(meanOrNone([])).toBeUndefined();
  });
});

describe('spread and agreement', () => {
  it('relativeSpread: the 95% half-width over the mean and the CV; none from one value', () => {
    // [9, 10, 11]: mean 10, sd 1, half-width t(0.975, 2) / sqrt(3) = 4.302653 * 0.577350 = 2.484138.
    const r = relativeSpread(summarize([9, 10, 11]));
    expect(r.relativeHalfWidth!).toBeCloseTo(0.2484138, 6);
    expect(r.cv!).toBeCloseTo(0.1, 12);
    expect(relativeSpread(summarize([5]))).toEqual({ relativeHalfWidth: null, cv: null });
  });

  it("welchDifferenceCi: Welch's interval, by hand", () => {
    // a: n 5, mean 10, sd 2; b: n 8, mean 7, sd 3. Var of the means 0.8 and 1.125; se = sqrt(1.925);
    // df = 1.925^2 / (0.8^2 / 4 + 1.125^2 / 7) = 10.8732 (Welch-Satterthwaite).
    const ci = welchDifferenceCi({ n: 5, mean: 10, sd: 2 }, { n: 8, mean: 7, sd: 3 })!;
    const df = 1.925 ** 2 / (0.8 ** 2 / 4 + 1.125 ** 2 / 7);
    expect(df).toBeCloseTo(10.8732, 3);
    const half = studentTQuantile(0.975, df) * Math.sqrt(1.925);
    expect(ci[0]).toBeCloseTo(3 - half, 10);
    expect(ci[1]).toBeCloseTo(3 + half, 10);
    // t(0.975, 10.87) lies between t(0.975, 11) = 2.2010 and t(0.975, 10) = 2.2281.
    expect(half / Math.sqrt(1.925)).toBeGreaterThan(2.201);
    expect(half / Math.sqrt(1.925)).toBeLessThan(2.2281);
    expect(welchDifferenceCi({ n: 1, mean: 1, sd: 0 }, { n: 5, mean: 1, sd: 1 })).toBeNull();
    expect(welchDifferenceCi({ n: 3, mean: 2, sd: 0 }, { n: 3, mean: 1, sd: 0 })).toEqual([1, 1]);
  });
});
