/**
 * Fast-dLLM's cached decoding for Dream (NVlabs/Fast-dLLM dream/: its `_sample` with `alg = confidence_threshold`),
 * written here from its description over a cached forward:
 *  - the generated region is cut into blocks of block_length; each block starts with a full forward over the whole
 *    canvas that rebuilds every layer's K/V, and its first position takes that forward's token at once;
 *  - then, until the block holds no [MASK]: a forward of only the block (dual cache: prefix and suffix K/V from the
 *    block start) or of the block and everything after it (prefix cache), the fed window's logits shifted within the
 *    window (its first row reads itself); among the block's masked positions, by confidence, the most confident is
 *    committed and every other one whose confidence reaches the threshold;
 *  - the K/V cache is refreshed only at block starts (the approximation Fast-dLLM makes).
 * Tokens: argmax at temperature 0, else sampled after temperature / top_p / top_k (as in sampler.ts). Rows are
 * decoded independently (Fast-dLLM's Dream code decodes one row).
 */
import { at } from '../../util/indexing.js';
import { type DreamSamplerOptions, scorePosition } from './sampler.js';

export type DreamCacheMode = 'prefix' | 'dual';

export interface DreamCachedForward<Cache> {
  /** No cache, the whole canvas: shifted logits of every position, and the K/V of every position. */
  full(canvas: number[]): Promise<{ logits: ArrayLike<number>[]; cache: Cache }>;
  /** The window [from, from + ids.length) at its absolute positions, other rows' K/V from `cache`: shifted logits. */
  window(ids: number[], from: number, canvasLength: number, cache: Cache): Promise<ArrayLike<number>[]>;
}

export interface DreamCachedOptions extends Pick<DreamSamplerOptions, 'genLength' | 'temperature' | 'topP' | 'topK' | 'maskId'> {
  blockLength: number;
  threshold: number;
  cache: DreamCacheMode;
}

export interface DreamCachedResult {
  tokens: number[];
  /** Forward calls made (block starts included). */
  forwards: number;
  /** Tokens committed by each call. */
  committed: number[];
}

export async function dreamSampleCached<C>(prompt: number[], f: DreamCachedForward<C>, o: DreamCachedOptions, random: () => number): Promise<DreamCachedResult> {
  if (o.genLength % o.blockLength !== 0) throw new Error(`gen_length ${o.genLength} is not a multiple of block_length ${o.blockLength}`);
  const x = [...prompt, ...Array<number>(o.genLength).fill(o.maskId)];
  const L = x.length;
  const committed: number[] = [];
  for (let b = 0; b < o.genLength / o.blockLength; b++) {
    const s = prompt.length + b * o.blockLength;
    const e = s + o.blockLength;
    const start = await f.full(x);
    if (x[s] === o.maskId) {
      x[s] = scorePosition(at(start.logits, s, 'start.logits'), 'maskgit_plus', o, random).token;
      committed.push(1);
    } else committed.push(0);
    // A model that predicts [MASK] itself leaves its position masked; the cap (as LLaDA's threshold loop has) ends the block.
    for (let calls = 0; calls < 4 * o.blockLength && x.slice(s, e).includes(o.maskId); calls++) {
      const to = o.cache === 'dual' ? e : L;
      const logits = await f.window(x.slice(s, to), s, L, start.cache);
      const cands: { p: number; confidence: number; token: number }[] = [];
      for (let p = s; p < e; p++) if (x[p] === o.maskId) cands.push({ p, ...scorePosition(at(logits, p - s, 'logits'), 'maskgit_plus', o, random) });
      cands.sort((a, c) => c.confidence - a.confidence || a.p - c.p);
      const take = cands.filter((c, r) => r === 0 || c.confidence >= o.threshold);
      for (const c of take) x[c.p] = c.token;
      committed.push(take.length);
    }
  }
  return { tokens: x.slice(prompt.length), forwards: committed.length, committed };
}
