import { describe, expect, it } from 'vitest';
import { usefulTimeMs } from '../../src/scenarios/useful.js';

describe('useful time: when the answer was complete', () => {
  it('AR with per-token times: the arrival of the first EOS, the latest over batch rows', () => {
    // Row 0 emits EOS at index 2 (arrived at 30 ms); row 1 at index 1 (20 ms).
    const out = { tokens: [[5, 6, 9, 7], [5, 9, 7, 7]], usefulTokens: [2, 1], tokenTimesMs: [[10, 20, 30, 40], [10, 20, 30, 40]], totalMs: 45 };
    expect(usefulTimeMs(out)).toBe(30);
  });

  it('a row without EOS needs the whole call', () => {
    expect(usefulTimeMs({ tokens: [[5, 6], [5, 9]], usefulTokens: [2, 1], tokenTimesMs: [[10, 20], [10, 20]], totalMs: 25 })).toBe(25);
  });

  it('EOS first: no useful tokens, done at the first token', () => {
    expect(usefulTimeMs({ tokens: [[9, 6]], usefulTokens: [0], tokenTimesMs: [[12, 20]], totalMs: 25 })).toBe(12);
  });

  it('diffusion (no per-token times) must fill every position: the whole call', () => {
    expect(usefulTimeMs({ tokens: [[5, 9, 9]], usefulTokens: [1], totalMs: 80 })).toBe(80);
  });
});
