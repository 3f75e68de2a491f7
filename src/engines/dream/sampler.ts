/**
 * Dream's masked-diffusion sampler, as `diffusion_generate` / `_sample` define it in Dream-v0's generation_utils.py
 * (HKUNLP/Dream), written here from its description over any forward that returns (already shifted) logits:
 *  - the canvas is the prompt followed by gen_length [MASK]s; `steps` forwards over the whole canvas;
 *  - timesteps fall linearly from 1 to eps over steps + 1 points; step i goes from t = ts[i] to s = ts[i + 1];
 *  - 'origin': every masked position is revealed with probability 1 - s / t (all of them at the last step), its
 *    token sampled from the logits;
 *  - 'maskgit_plus' (confidence = probability of the chosen token), 'topk_margin' (top-1 minus top-2 probability),
 *    'entropy' (negative entropy of the distribution): the step commits floor(m * (1 - s / t)) tokens (m: masked
 *    positions per row; all of them at the last step), the most confident ones when alg_temp is 0, otherwise drawn
 *    without replacement from softmax(confidence / alg_temp);
 *  - tokens: argmax at temperature 0; otherwise sampled from softmax(logits / temperature) after top_p and top_k.
 * Randomness comes from the caller's uniform generator, consumed in a fixed order, so a seed reproduces a run.
 */

import { DreamAlg } from '../../config/kinds.js';
import { at } from '../../util/indexing.js';

export type { DreamAlg } from '../../config/kinds.js';
export const DREAM_ALGS: readonly DreamAlg[] = DreamAlg.options;

export interface DreamSamplerOptions {
  genLength: number;
  steps: number;
  /** Last timestep (Dream's default 1e-3). */
  eps: number;
  alg: DreamAlg;
  /** 0 (or null in Dream): pick the top confidences; > 0: sample positions from softmax(confidence / alg_temp). */
  algTemp: number;
  temperature: number;
  topP: number | null;
  topK: number | null;
  maskId: number;
}

export const DEFAULT_DREAM_OPTIONS: Omit<DreamSamplerOptions, 'genLength' | 'maskId'> = {
  steps: 512,
  eps: 1e-3,
  alg: 'origin',
  algTemp: 0,
  temperature: 0,
  topP: null,
  topK: null,
};

/** Shifted logits of every position of every row: logits[row][position] (length V). */
export type DreamForward = (canvas: number[][]) => Promise<ArrayLike<number>[][]>;

export interface DreamResult {
  /** The generated positions of each row (gen_length ids; [MASK] where a position stayed masked). */
  tokens: number[][];
  /** Tokens committed per step, summed over rows. */
  committed: number[];
}

/** Timesteps 1 -> eps, steps + 1 points (torch.linspace). */
export function dreamTimesteps(steps: number, eps: number): number[] {
  return Array.from({ length: steps + 1 }, (_, i) => (i === steps ? eps : 1 + ((eps - 1) * i) / steps));
}

/** top_p then top_k filtering of one row's logits (removed entries become -Infinity). */
export function filterLogits(logits: ArrayLike<number>, temperature: number, topP: number | null, topK: number | null): Float64Array {
  const out = Float64Array.from(logits, (v) => (temperature > 0 ? v / temperature : v));
  if (topP !== null && topP < 1) {
    const order = [...out.keys()].sort((a, b) => at(out, b, 'out') - at(out, a, 'out') || a - b);
    const p = softmax(order.map((i) => at(out, i, 'out')));
    let cum = 0;
    const removed: number[] = [];
    for (let r = 0; r < order.length; r++) {
      // A position is dropped when the mass before it already exceeds top_p (the first always stays).
      if (r > 0 && cum > topP) removed.push(at(order, r, 'order'));
      cum += at(p, r, 'p');
    }
    for (const i of removed) out[i] = -Infinity;
  }
  if (topK !== null) {
    const k = Math.min(topK, out.length);
    const kth = at([...out].sort((a, b) => b - a), k - 1, '[...out].sort((a, b) => b - a)');
    for (let i = 0; i < out.length; i++) if (at(out, i, 'out') < kth) out[i] = -Infinity;
  }
  return out;
}

function softmax(v: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < v.length; i++) m = Math.max(m, at(v, i, 'v'));
  const e = Float64Array.from(v, (x) => (x === -Infinity ? 0 : Math.exp(x - m)));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

/** Index drawn from unnormalised non-negative weights with one uniform number. */
function draw(weights: ArrayLike<number>, u: number): number {
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += at(weights, i, 'weights');
  let acc = 0;
  let last = -1;
  for (let i = 0; i < weights.length; i++) {
    if (at(weights, i, 'weights') <= 0) continue;
    last = i;
    acc += at(weights, i, 'weights') / total;
    if (u < acc) return i;
  }
  return last;
}

/** One position's (confidence, token) under an algorithm. */
export function scorePosition(logits: ArrayLike<number>, alg: DreamAlg, o: Pick<DreamSamplerOptions, 'temperature' | 'topP' | 'topK'>, random: () => number): { confidence: number; token: number } {
  const probs = softmax(filterLogits(logits, o.temperature, o.topP, o.topK));
  let token = 0;
  if (o.temperature > 0) token = draw(probs, random());
  else for (let i = 1; i < probs.length; i++) if (at(probs, i, 'probs') > at(probs, token, 'probs')) token = i;
  if (alg === 'topk_margin') {
    let a = -Infinity;
    let b = -Infinity;
    for (const p of probs) {
      if (p > a) [a, b] = [p, a];
      else if (p > b) b = p;
    }
    return { confidence: a - b, token };
  }
  if (alg === 'entropy') {
    let s = 0;
    for (const p of probs) s += p * Math.log(p + 1e-10);
    return { confidence: s, token };
  }
  return { confidence: at(probs, token, 'probs'), token };
}

/** Dream's `_sample` for rows of equal prompt length (no padding). */
export async function dreamSample(prompts: number[][], forward: DreamForward, o: DreamSamplerOptions, random: () => number): Promise<DreamResult> {
  const P = at(prompts, 0, 'prompts').length;
  if (prompts.some((p) => p.length !== P)) throw new Error('dreamSample: prompts must have equal length');
  const canvas = prompts.map((p) => [...p, ...Array<number>(o.genLength).fill(o.maskId)]);
  const ts = dreamTimesteps(o.steps, o.eps);
  const committed: number[] = [];
  for (let i = 0; i < o.steps; i++) {
    const masked = canvas.map((row) => row.flatMap((id, p) => (id === o.maskId ? [p] : [])));
    const logits = await forward(canvas.map((r) => [...r]));
    const ratio = i < o.steps - 1 ? 1 - at(ts, i + 1, 'ts') / at(ts, i, 'ts') : 1;
    let n = 0;
    if (o.alg === 'origin') {
      // Row-major over the masked positions: one uniform number decides each reveal, then the revealed are sampled.
      const reveal = masked.map((ps) => ps.map(() => random() < ratio));
      masked.forEach((ps, r) =>
        ps.forEach((p, j) => {
          if (!at(reveal, r, 'reveal')[j]) return;
          at(canvas, r, 'canvas')[p] = scorePosition(at(at(logits, r, 'logits'), p, 'logits[r]'), 'maskgit_plus', o, random).token;
          n++;
        }),
      );
    } else {
      const total = masked.reduce((a, ps) => a + ps.length, 0);
      const k = Math.floor((total / canvas.length) * ratio);
      const scored = masked.map((ps, r) => ps.map((p) => ({ p, ...scorePosition(at(at(logits, r, 'logits'), p, 'logits[r]'), o.alg, o, random) })));
      if (k > 0) {
        scored.forEach((cands, r) => {
          let chosen: typeof cands;
          if (o.algTemp === 0) {
            chosen = [...cands].sort((a, b) => b.confidence - a.confidence || a.p - b.p).slice(0, k);
          } else {
            const w = softmax(cands.map((c) => c.confidence / o.algTemp));
            chosen = [];
            const left = [...cands.keys()];
            for (let j = 0; j < Math.min(k, cands.length); j++) {
              const pick = draw(left.map((c) => at(w, c, 'w')), random());
              chosen.push(at(cands, at(left, pick, 'left'), 'cands'));
              left.splice(pick, 1);
            }
          }
          for (const c of chosen) at(canvas, r, 'canvas')[c.p] = c.token;
          n += chosen.length;
        });
      }
    }
    committed.push(n);
  }
  return { tokens: canvas.map((row) => row.slice(P)), committed };
}
