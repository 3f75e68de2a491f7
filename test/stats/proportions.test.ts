import { describe, expect, it } from 'vitest';
import { combinationInterval, wilsonInterval } from '../../src/stats/proportions.js';

describe('combinationInterval (MOVER over Wilson limits)', () => {
  it("is Newcombe's method 10 for a difference: his published examples (Stat Med 1998, Table II)", () => {
    const cases: [number, number, number, number, number, number][] = [
      [56, 70, 48, 80, 0.0524, 0.3339],
      [9, 10, 3, 10, 0.1705, 0.809],
    ];
    for (const [a, m, b, n, lo, hi] of cases) {
      const d = combinationInterval([
        { coef: 1, correct: a, n: m },
        { coef: -1, correct: b, n: n },
      ])!;
      expect(d.estimate).toBeCloseTo(a / m - b / n, 12);
      expect(d.ci95[0]).toBeCloseTo(lo, 4);
      expect(d.ci95[1]).toBeCloseTo(hi, 4);
    }
  });

  it('a single term is its Wilson interval; a negative coefficient swaps the limits', () => {
    const w = wilsonInterval(7, 20);
    expect(combinationInterval([{ coef: 1, correct: 7, n: 20 }])!.ci95).toEqual([expect.closeTo(w.low, 12), expect.closeTo(w.high, 12)]);
    expect(combinationInterval([{ coef: -1, correct: 7, n: 20 }])!.ci95).toEqual([expect.closeTo(-w.high, 12), expect.closeTo(-w.low, 12)]);
  });

  it('a difference of differences approaches the Wald interval when every n is large', () => {
    const terms = [
      { coef: 1, correct: 900_000, n: 1_000_000 },
      { coef: -1, correct: 500_000, n: 1_000_000 },
      { coef: -1, correct: 990_000, n: 1_000_000 },
      { coef: 1, correct: 800_000, n: 1_000_000 },
    ];
    const d = combinationInterval(terms)!;
    const se = Math.sqrt(terms.reduce((s, t) => s + ((t.correct / t.n) * (1 - t.correct / t.n)) / t.n, 0));
    expect(d.estimate).toBeCloseTo(0.9 - 0.5 - 0.99 + 0.8, 12);
    expect(d.ci95[0]).toBeCloseTo(d.estimate - 1.959963984540054 * se, 4);
    expect(d.ci95[1]).toBeCloseTo(d.estimate + 1.959963984540054 * se, 4);
  });

  it('no items on a side: no interval', () => {
    expect(combinationInterval([{ coef: 1, correct: 0, n: 0 }])).toBeNull();
    expect(combinationInterval([])).toBeNull();
  });
});
