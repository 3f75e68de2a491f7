import { describe, expect, it } from 'vitest';
import { judgeVariation, mergePass, passOrder, passShare } from '../../src/scenarios/passes.js';
import { FIXED_COUNT } from '../../src/scenarios/measure.js';
import { summarizeCase } from '../../src/results/summary.js';
import { blockBootstrap, blocksBy, bootstrap } from '../../src/stats/bootstrap.js';
import { mean } from '../../src/stats/index.js';
import type { CaseResult, CompletedCase } from '../../src/results/types.js';
import { buildCase } from '../fixtures/results/builder.js';

/** A case whose repetitions all say `pass`, with a sampling record as measureGroup writes it. */
function measured(tps: number[], pass: number, seed = 1): CompletedCase {
  const c = buildCase({ tokensPerSec: tps, seed }) as CompletedCase;
  const samples = c.samples.map((s) => ({ ...s, pass }));
  return {
    ...c,
    samples,
    ...summarizeCase(samples),
    sampling: { minRepetitions: 3, minTimeSec: 0.25, maxRepetitions: 200, measuredSec: 0.3, stoppedBy: 'time', order: 'interleaved', seed: 0, group: [c.id], positions: tps.map((_, i) => i) },
  };
}

describe('passes over the engines (ABBA)', () => {
  it('alternates the order: A B C, C B A, A B C', () => {
    expect([0, 1, 2].map((i) => passOrder(['a', 'b', 'c'], i).join(''))).toEqual(['abc', 'cba', 'abc']);
  });

  it("each pass takes its share of the count (rounded up, at least one) and of the time", () => {
    expect(passShare(5, { ...FIXED_COUNT, minTimeMs: 500 }, 2)).toMatchObject({ repetitions: 3, sampling: { minTimeMs: 250 } });
    expect(passShare(1, { ...FIXED_COUNT, minTimeMs: 0 }, 3)).toMatchObject({ repetitions: 1, sampling: { minTimeMs: 0 } });
    expect(passShare(5, { ...FIXED_COUNT, minTimeMs: 500 }, 1)).toMatchObject({ repetitions: 5, sampling: { minTimeMs: 500 } });
  });

  it('merges a later pass into the first: repetitions appended, summaries over all of them, sampling summed, quality kept', () => {
    const first = { ...measured([100, 110, 90], 0), quality: { source: 'x', perTask: 1, tasks: [], overall: { correct: 1, total: 2, accuracy: 0.5, ci95: [0.1, 0.9] as [number, number] }, meanNfe: 4 } };
    const second = measured([200, 210, 190, 205], 1, 2);
    const m = mergePass(first, second) as CompletedCase;
    expect(m.samples.map((s) => s.pass)).toEqual([0, 0, 0, 1, 1, 1, 1]);
    expect(m.samples.map((s) => s.tokensPerSec)).toEqual([100, 110, 90, 200, 210, 190, 205]);
    expect(m.summary).toEqual(summarizeCase(m.samples).summary);
    expect(m.summary.tokensPerSec!.mean).toBeCloseTo((300 + 805) / 7, 9);
    expect(m.sampling).toMatchObject({ minRepetitions: 6, minTimeSec: 0.5, measuredSec: 0.6, passes: 2, positions: [0, 1, 2, 0, 1, 2, 3] });
    expect(m.quality).toEqual(first.quality);
    expect(m.state).toBe('completed');
  });

  it('a later pass that failed gives the merged case its state and error, keeping what was measured', () => {
    const failed: CaseResult = { ...measured([150], 1), state: 'errored', error: 'engine crashed' } as CaseResult;
    const m = mergePass(measured([100, 110, 90], 0), failed);
    expect(m.state).toBe('errored');
    expect('error' in m && m.error).toBe('engine crashed');
    expect(m.samples).toHaveLength(4);
  });

  it('judges variation on the merged case: two passes far apart are flagged, with the warning', () => {
    const m = mergePass(measured([100, 101, 99], 0), measured([150, 151, 149], 1));
    const v = judgeVariation(m, 0.1);
    expect(v.case.state === 'completed' && v.case.variation?.flagged).toBe(true);
    expect(v.warning?.code).toBe('high-variation');
    expect(judgeVariation(mergePass(measured([100, 101, 99], 0), measured([100, 100.5, 99.5], 1)), 0.1).warning).toBeNull();
  });
});

describe('blockBootstrap (two-stage, over passes then repetitions)', () => {
  const ratio = ([x, y]: readonly (readonly number[])[]) => mean(x!) / mean(y!);

  it('with one block per group it is the plain bootstrap, exactly', () => {
    const a = [10, 11, 9, 10.5, 9.5];
    const b = [5, 5.2, 4.9, 5.1];
    expect(blockBootstrap([[a], [b]], ratio, { seed: 7 })).toEqual(bootstrap([a, b], ratio, { seed: 7 }));
  });

  it('a shift between passes widens the interval to cover it; without one, about the plain interval', () => {
    // Side A ran 20% slower in its second pass (the machine got busy); side B held still.
    const a0 = [100, 101, 99, 100.5, 99.5];
    const a1 = a0.map((v) => v * 0.8);
    const b = [[50, 50.5, 49.5], [50.2, 49.8, 50]];
    const blocked = blockBootstrap([[a0, a1], b], ratio)!;
    const plain = bootstrap([[...a0, ...a1], b.flat()], ratio)!;
    const w = (x: { ci95: [number, number] | null }) => x.ci95![1] - x.ci95![0];
    expect(blocked.estimate).toBeCloseTo(plain.estimate, 12);
    // The interval reaches toward each pass's own ratio (1.6 and 2.0); the plain one stays near their mean.
    expect(blocked.ci95![0]).toBeLessThan(1.65);
    expect(blocked.ci95![1]).toBeGreaterThan(1.95);
    expect(w(blocked)).toBeGreaterThan(1.5 * w(plain));
    const still = blockBootstrap([[a0, a0.map((v) => v + 0.1)], b], ratio)!;
    expect(w(still)).toBeLessThan(2 * w(bootstrap([[...a0, ...a0.map((v) => v + 0.1)], b.flat()], ratio)));
  });

  it('groups values into blocks by key, in key order; an absent key is block 0', () => {
    const xs = [{ v: 1, k: 1 }, { v: 2 }, { v: 3, k: 1 }, { v: 4, k: 0 }];
    expect(blocksBy(xs, (x) => x.v, (x) => ('k' in x ? x.k : undefined))).toEqual([[2, 4], [1, 3]]);
  });
});
