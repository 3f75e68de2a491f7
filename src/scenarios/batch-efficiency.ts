/**
 * Batch efficiency over the same prompts: tput(B) / (B * tput(1)), where tput(B) is the throughput of one request
 * whose B rows are prompts 0..B-1 and tput(1) that of the same B prompts sent one at a time (the first B requests
 * of the batch scenario's B=1 case). Comparing against B=1 on some other prompt would mix prompt length into the
 * figure. The interval is a seeded percentile bootstrap over the repetitions of both cases (by pass first).
 */
import type { BatchEfficiency, CaseResult } from '../results/types.js';
import { ci95OrNull } from '../results/summary.js';
import { blockBootstrap, blocksBy } from '../stats/bootstrap.js';
import { mean } from '../stats/index.js';
import { at } from '../util/indexing.js';

/** Fixed seed: the same results give the same interval whenever they are analysed. */
const SEED = 0xba7c4;

/**
 * tput(1) of each repetition of the B=1 case over its first B requests: their generated tokens over their summed
 * wall time (every request of a fixed-length run generates the same count). Null when a repetition has fewer.
 */
export function singleRowThroughputs(one: CaseResult, B: number): number[] | null {
  const out: number[] = [];
  for (const s of one.samples) {
    const lat = s.values.latencyMs.slice(0, B);
    if (lat.length < B) return null;
    const ms = lat.reduce((a, b) => a + b, 0);
    if (!(ms > 0)) return null;
    out.push((B * s.generatedTokens) / (ms / 1000));
  }
  return out.length ? out : null;
}

/** Batch efficiency of the B-row case against the B=1 case of the same engine; null when it cannot be computed. */
export function batchEfficiencyOf(one: CaseResult, many: CaseResult, B: number): BatchEfficiency | null {
  if (one.state !== 'completed' || many.state !== 'completed') return null;
  const t1 = singleRowThroughputs(one, B);
  const tB = many.samples.map((s) => s.tokensPerSec);
  if (!t1 || tB.length === 0) return null;
  const stat = (g: readonly (readonly number[])[]) => mean(at(g, 0, 'g')) / (B * mean(at(g, 1, 'g')));
  // Resampled by pass over the engines first (one block per pass; one pass: the plain bootstrap).
  const passOf = (c: CaseResult) => c.samples.map((s) => s.pass);
  const blocks = (xs: number[], passes: (number | undefined)[]) => blocksBy(xs.map((v, i) => ({ v, k: passes[i] })), (x) => x.v, (x) => x.k);
  const b = blockBootstrap([blocks(tB, passOf(many)), blocks(t1, passOf(one))], stat, { seed: SEED + B });
  if (!Number.isFinite(b.estimate)) return null;
  return { engine: many.engine, ...(many.role ? { role: many.role } : {}), batchSize: B, efficiency: b.estimate, ci95: ci95OrNull(b.ci95), tokensPerSec: mean(tB), tokensPerSecB1: mean(t1) };
}
