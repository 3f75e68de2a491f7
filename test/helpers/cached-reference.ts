/**
 * An independent float64 implementation of Fast-dLLM's cached LLaDA decoding (prefix and dual KV cache), written
 * from the algorithm's description for the tests. It shares no code with src/: its own forward over a key/value
 * table, its own schedule and commit rule. One batch row at a time (rows never interact; a finished row's block
 * only waits for the others, which changes none of its tokens).
 */
import { type RefSpec, argmax, softmax } from './reference-forward.js';

type Weights = Map<string, { shape: number[]; data: Float64Array }>;
/** Per layer, per key position: K and V rows (KV heads x head dim, K after rotary). */
export type KvTable = { k: Float64Array[]; v: Float64Array[] }[];

function param(w: Weights, name: string): Float64Array {
  const t = w.get(name);
  if (!t) throw new Error(`cached reference: missing ${name}`);
  return t.data;
}

function matVec(m: Float64Array, x: Float64Array, rows: number): Float64Array {
  const cols = x.length;
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    for (let c = 0; c < cols; c++) acc += m[r * cols + c]! * x[c]!;
    y[r] = acc;
  }
  return y;
}

function rms(x: Float64Array, g: Float64Array, eps: number): Float64Array {
  const ms = x.reduce((a, v) => a + v * v, 0) / x.length;
  const inv = 1 / Math.sqrt(ms + eps);
  return x.map((v, i) => v * inv * g[i]!);
}

/** Rotate-half rotary embedding at an absolute position, in place. */
function rotate(x: Float64Array, nHeads: number, hd: number, position: number, theta: number): void {
  const h2 = hd / 2;
  for (let h = 0; h < nHeads; h++) {
    const o = h * hd;
    for (let i = 0; i < h2; i++) {
      const ang = position / theta ** ((2 * i) / hd);
      const a = x[o + i]!;
      const b = x[o + h2 + i]!;
      x[o + i] = a * Math.cos(ang) - b * Math.sin(ang);
      x[o + h2 + i] = b * Math.cos(ang) + a * Math.sin(ang);
    }
  }
}

function layerName(spec: RefSpec, l: number, part: string): string {
  if (spec.family === 'llada') {
    const m: Record<string, string> = { an: 'attn_norm', q: 'q_proj', k: 'k_proj', v: 'v_proj', o: 'attn_out', fn: 'ff_norm', g: 'ff_proj', u: 'up_proj', d: 'ff_out' };
    return `model.transformer.blocks.${l}.${m[part]}.weight`;
  }
  throw new Error('cached reference: LLaDA checkpoints only');
}

/**
 * Forward over the fed tokens at absolute positions offset..offset+S-1. Keys: `past` rows (from the block-start
 * forward) with rows offset..offset+S-1 replaced by this call's; with past = null every row is fed (S = L).
 * keyMask[t] = 0 hides key t. Returns the logits of the fed positions and the key/value table it attended to.
 */
export function cachedForward(spec: RefSpec, w: Weights, fed: number[], offset: number, keyMask: number[], past: KvTable | null): { logits: Float64Array[]; kv: KvTable } {
  const { d, heads: H, kvHeads: KV, headDim: hd } = spec;
  const T = keyMask.length;
  if (!past && fed.length !== T) throw new Error('cached reference: without a cache every position must be fed');
  const wte = param(w, 'model.transformer.wte.weight');
  let hs = fed.map((id) => wte.slice(id * d, (id + 1) * d));
  const kv: KvTable = [];
  for (let l = 0; l < spec.layers; l++) {
    const P = (part: string) => param(w, layerName(spec, l, part));
    const normed = hs.map((x) => rms(x, P('an'), spec.eps));
    const q = normed.map((x, i) => {
      const y = matVec(P('q'), x, H * hd);
      rotate(y, H, hd, offset + i, spec.theta);
      return y;
    });
    const keys = past ? [...past[l]!.k] : new Array<Float64Array>(T);
    const vals = past ? [...past[l]!.v] : new Array<Float64Array>(T);
    normed.forEach((x, i) => {
      const k = matVec(P('k'), x, KV * hd);
      rotate(k, KV, hd, offset + i, spec.theta);
      keys[offset + i] = k;
      vals[offset + i] = matVec(P('v'), x, KV * hd);
    });
    kv.push({ k: keys, v: vals });
    hs = hs.map((x, i) => {
      const ctx = new Float64Array(H * hd);
      for (let h = 0; h < H; h++) {
        const g = Math.floor((h * KV) / H);
        const sc = new Float64Array(T).fill(-Infinity);
        for (let t = 0; t < T; t++) {
          if (!keyMask[t]) continue;
          let dot = 0;
          for (let j = 0; j < hd; j++) dot += q[i]![h * hd + j]! * keys[t]![g * hd + j]!;
          sc[t] = dot / Math.sqrt(hd);
        }
        const p = softmax(sc);
        for (let t = 0; t < T; t++) for (let j = 0; j < hd; j++) ctx[h * hd + j]! += p[t]! * vals[t]![g * hd + j]!;
      }
      const r = x.map((v, j) => v + matVec(P('o'), ctx, d)[j]!);
      const m = rms(r, P('fn'), spec.eps);
      const gate = matVec(P('g'), m, spec.mlp);
      const up = matVec(P('u'), m, spec.mlp);
      const act = gate.map((gv, j) => (gv / (1 + Math.exp(-gv))) * up[j]!);
      const down = matVec(P('d'), act, d);
      return r.map((v, j) => v + down[j]!);
    });
  }
  const head = param(w, spec.tied ? 'model.transformer.wte.weight' : 'model.transformer.ff_out.weight');
  const fin = param(w, 'model.transformer.ln_f.weight');
  return { logits: hs.map((x) => matVec(head, rms(x, fin, spec.eps), spec.vocab)), kv };
}

export interface CachedJob {
  mode: 'prefix' | 'dual';
  genLength: number;
  blockLength: number;
  /** Fixed schedule (steps) or threshold decoding. */
  steps: number | null;
  threshold: number | null;
  maskId: number;
  padId: number;
}

/** Decodes one left-padded row (padded prompt length P); returns its generated tokens and the number of calls. */
export function cachedDecodeRow(spec: RefSpec, w: Weights, prompt: number[], P: number, job: CachedJob): { tokens: number[]; calls: number } {
  const L = P + job.genLength;
  const x = [...new Array<number>(P - prompt.length).fill(job.padId), ...prompt, ...new Array<number>(job.genLength).fill(job.maskId)];
  const keyMask = x.map((_, t) => (t < P - prompt.length ? 0 : 1));
  const nBlocks = job.genLength / job.blockLength;
  let calls = 0;
  for (let n = 0; n < nBlocks; n++) {
    const s = P + n * job.blockLength;
    const e = s + job.blockLength;
    const perBlock = job.steps === null ? Infinity : job.steps / nBlocks;
    const budget = (i: number) => {
      const total = job.blockLength; // prompts never hold a mask: the whole block starts masked
      const spb = job.steps! / nBlocks;
      return Math.floor(total / spb) + (i < total % spb ? 1 : 0);
    };
    let cache: KvTable | null = null;
    for (let i = 0; i < perBlock && i < 4 * job.blockLength; i++) {
      const open: number[] = [];
      for (let t = s; t < e; t++) if (x[t] === job.maskId) open.push(t);
      if (open.length === 0) break;
      let logitsAt: (t: number) => Float64Array;
      if (cache === null) {
        const r = cachedForward(spec, w, x, 0, keyMask, null);
        cache = r.kv;
        logitsAt = (t) => r.logits[t]!;
      } else {
        const to = job.mode === 'prefix' ? L : e;
        const r = cachedForward(spec, w, x.slice(s, to), s, keyMask, cache);
        logitsAt = (t) => r.logits[t - s]!;
      }
      calls++;
      const pick = open.map((t) => {
        const lg = logitsAt(t);
        const tok = argmax(lg);
        return { t, tok, conf: softmax(lg)[tok]! };
      });
      pick.sort((a, b) => b.conf - a.conf || a.t - b.t);
      const chosen = job.threshold === null ? pick.slice(0, budget(i)) : [pick[0]!, ...pick.slice(1).filter((p) => p.conf >= job.threshold!)];
      for (const c of chosen) x[c.t] = c.tok;
    }
  }
  return { tokens: x.slice(P), calls };
}
