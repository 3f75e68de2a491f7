/**
 * The pure parts of LLaDA's masked-diffusion sampler (after ML-GSAI/LLaDA generate.py), kept free of I/O so they
 * can be tested on their own:
 *  - semi-autoregressive blocks: gen_length = num_blocks * block_length, each block gets steps / num_blocks steps;
 *  - per block, a linear schedule: k = masked // steps per step, the first masked % steps steps take one more;
 *  - per step, among the masked positions of the current block, the k with the highest confidence take x0;
 *  - Fast-dLLM threshold decoding instead commits every masked position of the block above the threshold, at
 *    least the most confident one, and moves on when the block is full.
 */
import { CacheMode } from '../../config/schema.js';

export type { CacheMode } from '../../config/schema.js';

export type Remasking = 'low_confidence' | 'random';
/** Fast-dLLM KV cache: none (the reference), prefix cache, dual cache (src/engines/llada/cached.ts). */
export const CACHE_MODES = CacheMode.options;

export interface LladaOptions {
  steps: number;
  blockLength: number;
  temperature: number;
  cfgScale: number;
  remasking: Remasking;
  /** Fast-dLLM parallel decoding; null = the reference fixed schedule. */
  threshold: number | null;
  seed: number;
  /** Fast-dLLM KV cache mode; absent = 'none'. */
  cache?: CacheMode;
}

export const DEFAULT_LLADA_OPTIONS: LladaOptions = {
  steps: 32,
  blockLength: 32,
  temperature: 0,
  cfgScale: 0,
  remasking: 'low_confidence',
  threshold: null,
  seed: 0,
};

/** Returns a message for the first invalid combination, or null. Checked before any work. */
export function validateLladaOptions(genLength: number, o: LladaOptions): string | null {
  const int = (v: number) => Number.isInteger(v) && v > 0;
  if (!int(genLength)) return `gen_length must be a positive integer, got ${genLength}`;
  if (!int(o.blockLength)) return `block_length must be a positive integer, got ${o.blockLength}`;
  if (genLength % o.blockLength !== 0) return `gen_length (${genLength}) must be a multiple of block_length (${o.blockLength})`;
  const blocks = genLength / o.blockLength;
  if (o.threshold === null) {
    if (!int(o.steps)) return `steps must be a positive integer, got ${o.steps}`;
    if (o.steps % blocks !== 0) return `steps (${o.steps}) must be a multiple of the number of blocks (gen_length / block_length = ${blocks})`;
  } else if (!(o.threshold > 0 && o.threshold <= 1)) {
    return `threshold must be in (0, 1], got ${o.threshold}`;
  }
  if (!(o.temperature >= 0) || !Number.isFinite(o.temperature)) return `temperature must be >= 0, got ${o.temperature}`;
  if (!(o.cfgScale >= 0) || !Number.isFinite(o.cfgScale)) return `cfg scale must be >= 0, got ${o.cfgScale}`;
  if (o.remasking !== 'low_confidence' && o.remasking !== 'random') return `remasking must be low_confidence or random, got ${String(o.remasking)}`;
  if (!Number.isInteger(o.seed) || o.seed < 0) return `seed must be a non-negative integer, got ${o.seed}`;
  if (o.cache !== undefined && !CACHE_MODES.includes(o.cache)) return `cache must be none, prefix or dual, got ${String(o.cache)}`;
  return null;
}

/** Tokens to commit at each of `steps` steps for `masked` masked positions (the reference linear schedule). */
export function transferSchedule(masked: number, steps: number): number[] {
  const base = Math.floor(masked / steps);
  const rem = masked % steps;
  return Array.from({ length: steps }, (_, i) => base + (i < rem ? 1 : 0));
}

/**
 * Picks positions to commit in one row. `candidates` are masked positions of the current block; `confidence[p]`
 * their scores. Fixed schedule: the top k (ties: lower position first). Threshold: all above it, at least the top.
 */
export function selectPositions(candidates: number[], confidence: (p: number) => number, k: number | { threshold: number }): number[] {
  if (candidates.length === 0) return [];
  const ranked = [...candidates].sort((a, b) => confidence(b) - confidence(a) || a - b);
  if (typeof k === 'number') return ranked.slice(0, Math.min(k, ranked.length));
  const above = ranked.filter((p) => confidence(p) >= k.threshold); // equality passes (Fast-dLLM)
  return above.length > 0 ? above : ranked.slice(0, 1);
}

/** The noise seed fed to the graph at a step: a function of the user seed and the step, so a run reproduces. */
export function stepNoiseSeed(seed: number, step: number): number {
  return (seed * 1_000_003 + step * 7919 + 1) % 2_147_483_647;
}
