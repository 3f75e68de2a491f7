/** Claims over served sides: a served case counts as the side it was given on, and a ratio needs the same prompts. */
import { describe, expect, it } from 'vitest';
import { evaluateClaims } from '../../src/claims/claims.js';
import type { ClaimVerdict } from '../../src/claims/schema.js';
import type { CaseResult, ResultsFile } from '../../src/results/types.js';
import { buildCase, buildResults } from '../fixtures/results/builder.js';

const claim = (r: ResultsFile, id: ClaimVerdict['id'], o = {}) => evaluateClaims(r, o).find((v) => v.id === id)!;
const HTTP = 'measured over HTTP: times include the network, server queueing and SSE framing';
const real = { synthetic: false, handicaps: [] as string[] };

/** A served AR case at a load level: role from its side, the HTTP handicap, no forward-pass fields. */
function servedAr(tps: number, over: { concurrency?: number; requestRate?: number | 'inf'; serverPromptTokens?: number; promptTokens?: number } = {}): CaseResult {
  const level = over.requestRate !== undefined ? { requestRate: over.requestRate } : { concurrency: over.concurrency ?? 1 };
  const params = { promptTokens: over.promptTokens ?? 16, genLength: 32, ...level };
  const lvl = over.requestRate !== undefined ? `r${over.requestRate}` : `c${over.concurrency ?? 1}`;
  const c = buildCase({ engine: 'openai', id: `throughput/openai-ar/b1/p${params.promptTokens}/g32/${lvl}`, model: 'http://127.0.0.1:9/v1', params, tokensPerSec: { mean: tps, sd: tps / 50, n: 5 }, conditions: { ...real, device: 'remote', executionProvider: 'http', handicaps: [HTTP] }, seed: 3 });
  return { ...c, role: 'ar', ...(over.serverPromptTokens !== undefined ? { serverPromptTokens: over.serverPromptTokens } : {}) };
}

const llada = (tps: number, promptTokens = 16) =>
  ({ ...buildCase({ engine: 'llada', model: 'twins', params: { promptTokens, genLength: 32, steps: 32, blockLength: 32 }, tokensPerSec: { mean: tps, sd: tps / 50, n: 5 }, conditions: real, seed: 1 }), role: 'diffusion' as const });

describe('claims judge a served AR side', () => {
  it('speed-10x pairs LLaDA with the served AR side at one request at a time (concurrency 1), not its load levels', () => {
    const r = buildResults({ cases: [llada(1000), servedAr(200), servedAr(900, { concurrency: 4 }), servedAr(950, { requestRate: 'inf' })] });
    const v = claim(r, 'speed-10x');
    expect(v.verdict).toBe('not-reproduced'); // 1000 / 200 = 5x, well below 10x
    expect(v.evidenceUsed).toEqual(['throughput/llada/b1/p16/g32/s32/bl32', 'throughput/openai-ar/b1/p16/g32/c1']);
    expect(v.figures.usefulTokensPerSecRatio).toBeCloseTo(5, 0);
    expect(v.evidence).toContain('served http://127.0.0.1:9/v1');
    expect(v.evidence).not.toMatch(/Cannot compare/);
  });

  it('refuses a ratio between sides whose prompts differ by more than a few tokens, unless told otherwise', () => {
    // The served side counted 131 prompt tokens where the local side had 16: not the same work.
    const r = buildResults({ cases: [llada(1000), servedAr(200, { serverPromptTokens: 131 })] });
    const v = claim(r, 'speed-10x');
    expect(v.verdict).toBe('not-measurable');
    expect(v.evidence).toMatch(/prompts differ by more than 4 tokens/);
    expect(v.evidence).toContain('(16 prompt tokens) vs throughput/openai-ar/b1/p16/g32/c1 (131)');
    const allowed = claim(r, 'speed-10x', { promptToleranceTokens: Infinity });
    expect(allowed.verdict).toBe('not-reproduced');
    expect(allowed.figures).toMatchObject({ lladaPromptTokens: 16, arPromptTokens: 131 });
    // Within the tolerance (a BOS token more on the server) the ratio stands.
    expect(claim(buildResults({ cases: [llada(1000), servedAr(200, { serverPromptTokens: 17 })] }), 'speed-10x').verdict).toBe('not-reproduced');
  });

  it('a served diffusion side is the diffusion side: the ratio is its useful tokens/s over the AR side\'s', () => {
    const served = { ...servedAr(3000), id: 'throughput/openai-diffusion/b1/p16/g32/c1', role: 'diffusion' as const };
    const ar = { ...buildCase({ engine: 'ar-loop', model: 'twins', params: { promptTokens: 16, genLength: 32 }, tokensPerSec: { mean: 200, sd: 4, n: 5 }, conditions: real, seed: 2 }), role: 'ar' as const };
    const v = claim(buildResults({ cases: [served, ar] }), 'speed-10x');
    expect(v.verdict).toBe('reproduced'); // 3000 / 200 = 15x
    expect(v.evidence).toContain('served by http://127.0.0.1:9/v1');
  });
});
