/**
 * A pooled test across many matched cases: is the current run consistently slower than the baseline? With 3
 * repetitions per case no single-case rank test can reach p < 0.1, but twenty cases that are all 40% slower are
 * overwhelming evidence. The per-case effect is log(current / baseline) of the medians, oriented so that positive
 * means worse; a one-sample t-test asks whether the mean effect is zero.
 */
import { mean, studentTCdf, studentTQuantile } from './index.js';

export interface PooledShift {
  /** Cases pooled. */
  n: number;
  /** exp(mean log ratio) - 1: the typical relative change in the worse direction (0.4 = 40% worse). */
  relativeChange: number;
  /** 95% interval of relativeChange; null with fewer than 2 cases. */
  ci95: [number, number] | null;
  /** Two-sided p-value of "no shift"; 1 with fewer than 2 cases. */
  pValue: number;
}

/** effects: one log-ratio per case, positive = worse. */
export function pooledShift(effects: readonly number[]): PooledShift {
  const n = effects.length;
  if (n === 0) return { n, relativeChange: 0, ci95: null, pValue: 1 };
  const m = mean(effects);
  if (n < 2) return { n, relativeChange: Math.expm1(m), ci95: null, pValue: 1 };
  const sd = Math.sqrt(effects.reduce((s, e) => s + (e - m) ** 2, 0) / (n - 1));
  const se = sd / Math.sqrt(n);
  if (se === 0) return { n, relativeChange: Math.expm1(m), ci95: [Math.expm1(m), Math.expm1(m)], pValue: m === 0 ? 1 : 0 };
  const t = m / se;
  const half = studentTQuantile(0.975, n - 1) * se;
  const pValue = Math.min(1, 2 * (1 - studentTCdf(Math.abs(t), n - 1)));
  return { n, relativeChange: Math.expm1(m), ci95: [Math.expm1(m - half), Math.expm1(m + half)], pValue };
}
