/** Pooled distributions: percentiles over every request / answer / gap of a case, not over repetition means. */
import { describe, expect, it } from 'vitest';
import { distribution, poolSamples, summarizeCase } from '../../src/results/summary.js';
import type { Sample } from '../../src/results/types.js';

const base = { generatedTokens: 4, usefulTokens: 4, tokensPerSec: 1, usefulTokensPerSec: 1 };

describe('pooled percentiles', () => {
  it('type-7 percentiles of the raw values (hand-computed)', () => {
    // 1..10: p50 = 5.5; p90 at position 8.1 -> 9.1; p99 at 8.91 -> 9.91.
    expect(distribution([10, 9, 8, 7, 6, 5, 4, 3, 2, 1])).toEqual({ n: 10, mean: 5.5, min: 1, max: 10, p50: 5.5, p90: 9.1, p99: 9.91 });
  });

  it('pools every gap of every repetition: three slow gaps show in p99, not in the repetition means', () => {
    const quick = Array<number>(99).fill(10);
    const samples: Sample[] = [
      { ...base, requests: 1, latencyMs: 1000, itlMs: 10, values: { latencyMs: [1000], itlMs: quick } },
      { ...base, requests: 1, latencyMs: 3960, itlMs: 40, values: { latencyMs: [3960], itlMs: [...quick.slice(3), 1000, 1000, 1000] } },
    ];
    const { summary, pooled } = summarizeCase(samples);
    expect(pooled.itlMs!.n).toBe(198);
    expect(pooled.itlMs!.p50).toBe(10);
    expect(pooled.itlMs!.max).toBe(1000);
    // Over repetition means the p99 is about the larger mean (40); over the 198 gaps (1.5% slow) it is the slow gap.
    expect(summary.itlMs!.p99).toBeLessThan(41);
    expect(pooled.itlMs!.p99).toBe(1000);
    expect(pooled.ttftMs).toBeUndefined();
    expect(pooled.latencyMs).toMatchObject({ n: 2, p50: 2480 });
  });

  it('nothing to pool: an empty record', () => {
    expect(poolSamples([])).toEqual({});
  });
});
