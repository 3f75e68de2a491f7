/**
 * Batch efficiency over the same prompts, checked against figures worked out by hand and against a plain
 * re-implementation of the percentile bootstrap written here (resampling each group with the same seeded stream).
 */
import { describe, expect, it } from 'vitest';
import { summarizeCase } from '../../src/results/summary.js';
import type { CaseResult, Sample } from '../../src/results/types.js';
import { batchEfficiencyOf, singleRowThroughputs } from '../../src/scenarios/batch-efficiency.js';
import { mulberry32 } from '../../src/util/random.js';

/** A sample of `latencies.length` requests of `tokens` generated tokens each. */
function sample(latencies: number[], tokens: number): Sample {
  const ms = latencies.reduce((a, b) => a + b, 0);
  const requests = latencies.length;
  return {
    requests,
    latencyMs: ms / requests,
    generatedTokens: tokens,
    usefulTokens: tokens,
    tokensPerSec: (tokens * requests) / (ms / 1000),
    usefulTokensPerSec: (tokens * requests) / (ms / 1000),
    values: { latencyMs: latencies },
  };
}

function kase(samples: Sample[], batchSize: number): CaseResult {
  return {
    id: `batch/ar/b${batchSize}`,
    scenario: 'batch',
    engine: 'ar',
    model: 'tiny',
    params: { batchSize, promptTokens: 10, genLength: 32 },
    conditions: { device: 'cpu', executionProvider: 'cpu', dtype: 'fp32', synthetic: true, handicaps: [] },
    warmupRuns: 0,
    state: 'completed',
    samples,
    ...summarizeCase(samples),
  };
}

// B=1: four prompts one at a time, 32 tokens each. The first two took 100 + 300 ms in repetition 0, 200 + 200 in 1.
const one = kase([sample([100, 300, 1000, 1000], 32), sample([200, 200, 1000, 1000], 32)], 1);
// B=2: the first two prompts as one request of 64 tokens, 250 ms and 320 ms.
const two = kase([sample([250], 64), sample([320], 64)], 2);

describe('batch efficiency over the same prompts', () => {
  it('tput(1) over the first B requests of the B=1 case only', () => {
    // 64 tokens in 0.4 s, both repetitions.
    expect(singleRowThroughputs(one, 2)).toEqual([160, 160]);
    // All four: 128 tokens in 2.4 s.
    expect(singleRowThroughputs(one, 4)![0]).toBeCloseTo(128 / 2.4, 9);
    expect(singleRowThroughputs(one, 8)).toBeNull();
  });

  it('efficiency = mean tput(B) / (B * mean tput(1)), with a seeded bootstrap interval around it', () => {
    const e = batchEfficiencyOf(one, two, 2)!;
    const tB = [64 / 0.25, 64 / 0.32];
    expect(e.tokensPerSec).toBeCloseTo((tB[0]! + tB[1]!) / 2, 9);
    expect(e.tokensPerSecB1).toBe(160);
    expect(e.efficiency).toBeCloseTo((tB[0]! + tB[1]!) / 2 / (2 * 160), 12);
    // Plain reference: the same resampling, written out.
    const rand = mulberry32(0xba7c4 + 2);
    const draws: number[] = [];
    for (let r = 0; r < 2000; r++) {
      const b = [tB[Math.floor(rand() * 2)]!, tB[Math.floor(rand() * 2)]!];
      const s = [160, 160].map(() => 160);
      draws.push((b[0]! + b[1]!) / 2 / (2 * ((s[0]! + s[1]!) / 2)));
      rand();
      rand();
    }
    draws.sort((a, b) => a - b);
    const q = (p: number) => {
      const pos = (draws.length - 1) * p;
      const i = Math.floor(pos);
      return draws[i]! + (pos - i) * (draws[i + 1]! - draws[i]!);
    };
    expect(e.ci95![0]).toBeCloseTo(q(0.025), 12);
    expect(e.ci95![1]).toBeCloseTo(q(0.975), 12);
    expect(e.ci95![0]).toBeLessThan(e.efficiency);
    expect(e.ci95![1]).toBeGreaterThan(e.efficiency);
  });

  it('is null for a case that did not complete', () => {
    expect(batchEfficiencyOf({ ...one, state: 'errored', error: 'x' } as CaseResult, two, 2)).toBeNull();
  });
});
