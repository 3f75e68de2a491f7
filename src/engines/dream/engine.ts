/**
 * A Dream model on the diffusion engine: the same composed session as LLaDA (src/engines/llada/engine.ts opens it),
 * decoded by Dream's own sampler (sampler.ts) or, with a threshold, by Fast-dLLM's Dream decoding (cached.ts). The
 * family adapter chooses this path and gives the settings the run's config has no place for (alg, alg_temp, eps,
 * top_p, top_k); steps, block length, temperature, threshold, cache mode and seed come from the run's `llada` block.
 *  - no threshold: Dream's `_sample` over the whole answer (one block), one forward of the whole canvas per step;
 *    rows are left-padded to one length (pads masked out of attention, positions counted from each row's first token);
 *  - threshold: Fast-dLLM's Dream decoding in blocks of block_length, one row at a time as Fast-dLLM's Dream code
 *    does; cache prefix or dual uses the cached entry, cache none recomputes the whole canvas every call.
 * Dream's sampler reads full logits (its algorithms need the distribution, not only the top token), so every forward
 * moves gen_length x vocabulary floats per row off the device; hostDeviceBytesPerForward says so.
 */
import ort from 'onnxruntime-node';
import type { DiffusionDecoding } from '../../models/families.js';
import { IO } from '../../models/emit.js';
import { type TransformerSpec, padIdOf } from '../../models/spec.js';
import { at, field } from '../../util/indexing.js';
import { mulberry32 } from '../../util/random.js';
import type { EntrySession } from '../entries.js';
import { ForwardTimer } from '../forward.js';
import type { LladaGenerateOptions } from '../options.js';
import { ABORTED, type EngineResult, completed, runtimeError } from '../types.js';
import { type DreamCachedForward, dreamSampleCached } from './cached.js';
import { type DreamSamplerOptions, dreamSample } from './sampler.js';

export type DreamDecoding = Extract<DiffusionDecoding, { sampler: 'dream' }>;

export interface DreamSessions {
  forward: EntrySession;
  cached: EntrySession;
}

/** Thrown inside a forward when the caller asked to stop; turned into ABORTED. */
class Stopped extends Error {}

const i64 = (v: ArrayLike<number | bigint>, dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(Array.from(v, BigInt)), dims);
const f32 = (v: number) => new ort.Tensor('float32', Float32Array.from([v]), [1]);

/** The run's settings Dream's sampler cannot honour, as one message; null when it can. */
export function dreamOptionsError(genLength: number, o: LladaGenerateOptions): string | null {
  if (o.cfgScale > 0) return "Dream's sampler has no classifier-free guidance: cfg scale must be 0";
  if (o.remasking !== 'low_confidence') return `Dream's sampler orders positions by its own algorithm; remasking ${o.remasking} is LLaDA's`;
  if (o.threshold === null && (o.cache ?? 'none') !== 'none') return "Fast-dLLM's Dream caches decode by threshold: give a threshold with cache prefix or dual";
  if (o.threshold === null && o.blockLength !== genLength) {
    return `Dream's sampler decodes the whole answer as one block: block length (${o.blockLength}) must equal gen length (${genLength}) without a threshold`;
  }
  return null;
}

export async function generateDream(
  s: DreamSessions,
  spec: TransformerSpec,
  device: string,
  prompts: number[][],
  genLength: number,
  o: LladaGenerateOptions,
  d: DreamDecoding,
): Promise<EngineResult> {
  const bad = dreamOptionsError(genLength, o);
  if (bad) return { ok: false, error: { code: 'invalid-options', message: bad } };
  const maskId = spec.maskTokenId!;
  const timer = new ForwardTimer();
  const random = mulberry32(o.seed);
  const pending: ((tokens: number) => void)[] = [];
  let bytes = 0;
  const check = () => {
    if (o.shouldStop?.()) throw new Stopped();
  };
  try {
    if (o.threshold === null) {
      const P = Math.max(...prompts.map((p) => p.length));
      const L = P + genLength;
      const B = prompts.length;
      const padId = padIdOf(spec);
      const pads = prompts.map((p) => P - p.length);
      const attn = pads.flatMap((pad) => Array.from({ length: L }, (_, t) => (t < pad ? 0 : 1)));
      // Dream's positions with left padding: counted from each row's first real token.
      const pos = pads.flatMap((pad) => Array.from({ length: L }, (_, t) => Math.max(0, t - pad)));
      const fixed = {
        [IO.attentionMask]: i64(attn, [B, L]),
        [IO.positionIds]: i64(pos, [B, L]),
        [IO.logitsStart]: i64([P], [1]),
        [IO.cfgScale]: f32(0),
        [IO.temperature]: f32(0),
        [IO.noiseSeed]: i64([0], [1]),
      };
      const V = spec.vocabSize;
      const none = new Float32Array(0);
      let step = 0;
      const forward = async (canvas: number[][]) => {
        check();
        if (step > 0) o.onStep?.({ step: step - 1, block: 0, tokens: canvas.map((r) => r.slice(P)), committed: 0, maskId });
        step++;
        const { out, commit } = await timer.time(() => s.forward.run({ ...fixed, [IO.inputIds]: i64(canvas.flat(), [B, L]) }, [IO.logits]));
        pending.push(commit);
        const data = field(out, IO.logits, 'out').data as Float32Array;
        // Only masked positions are read, and they are all in the generated region (rows P.. of the canvas).
        return canvas.map((_, b) => Array.from({ length: L }, (_, p) => (p < P ? none : data.subarray((b * genLength + p - P) * V, (b * genLength + p - P + 1) * V))));
      };
      const so: DreamSamplerOptions = { genLength, steps: o.steps, eps: d.eps, alg: d.alg, algTemp: d.algTemp, temperature: o.temperature, topP: d.topP, topK: d.topK, maskId };
      const padded = prompts.map((p, b) => [...Array<number>(at(pads, b, 'pads')).fill(padId), ...p]);
      const r = await dreamSample(padded, forward, so, random);
      r.committed.forEach((n, i) => at(pending, i, 'pending')(n));
      o.onStep?.({ step: step - 1, block: 0, tokens: r.tokens, committed: r.committed.at(-1) ?? 0, maskId });
      // On a GPU every step uploads ids/mask/positions and downloads the generated region's logits.
      bytes = device === 'cpu' ? 0 : B * L * 8 * 3 + B * genLength * V * 4;
      return completed(r.tokens, spec.eosTokenIds, timer.timing(), { hostDeviceBytesPerForward: bytes });
    }
    const rows: number[][] = [];
    const committed: number[] = [];
    for (const prompt of prompts) {
      const timed = <C>(f: DreamCachedForward<C>): DreamCachedForward<C> => ({
        full: async (canvas) => {
          check();
          const { out, commit } = await timer.time(() => f.full(canvas));
          pending.push(commit);
          return out;
        },
        window: async (ids, from, L, cache) => {
          check();
          const { out, commit } = await timer.time(() => f.window(ids, from, L, cache));
          pending.push(commit);
          return out;
        },
      });
      const co = { genLength, temperature: o.temperature, topP: d.topP, topK: d.topK, maskId, blockLength: o.blockLength, threshold: o.threshold, cache: o.cache === 'dual' ? ('dual' as const) : ('prefix' as const) };
      const r =
        o.cache === 'prefix' || o.cache === 'dual'
          ? await dreamSampleCached(prompt, timed(cachedForward(s.cached, spec, device, (n) => (bytes += n))), co, random)
          : await dreamSampleCached(prompt, timed(uncachedForward(s.cached, spec)), co, random);
      rows.push(r.tokens);
      committed.push(...r.committed);
      o.onStep?.({ step: committed.length - 1, block: genLength / o.blockLength - 1, tokens: [...rows, ...prompts.slice(rows.length).map(() => Array<number>(genLength).fill(maskId))], committed: r.committed.at(-1) ?? 0, maskId });
    }
    committed.forEach((n, i) => at(pending, i, 'pending')(n));
    return completed(rows, spec.eosTokenIds, timer.timing(), { hostDeviceBytesPerForward: committed.length > 0 ? Math.round(bytes / committed.length) : 0 });
  } catch (err) {
    if (err instanceof Stopped) return ABORTED;
    return runtimeError('onnxruntime', err);
  }
}

/** One call of the cached entry over ids at [from, from + ids.length) of a canvas of L; logits of every fed row. */
async function cachedCall(session: EntrySession, spec: TransformerSpec, ids: number[], from: number, L: number, past: Record<string, ort.Tensor> | null, wantCache: boolean) {
  const floatType = cacheFloatType(session);
  const feeds: Record<string, ort.Tensor> = {
    [IO.inputIds]: i64(ids, [1, ids.length]),
    [IO.attentionMask]: i64(Array<number>(L).fill(1), [1, L]),
    [IO.positionIds]: i64(ids.map((_, j) => from + j), [1, ids.length]),
    [IO.cacheOffset]: i64([from], [1]),
    [IO.logitsStart]: i64([0], [1]),
    [IO.logitsLength]: i64([ids.length], [1]),
    [IO.cfgScale]: f32(0),
    [IO.temperature]: f32(0),
    [IO.noiseSeed]: i64([0], [1]),
  };
  for (let l = 0; l < spec.numLayers; l++) {
    for (const [name, present] of [
      [IO.pastKey(l), IO.presentKey(l)],
      [IO.pastValue(l), IO.presentValue(l)],
    ] as const) {
      feeds[name] = past?.[present] ?? new ort.Tensor(floatType, floatType === 'float16' ? new Uint16Array(0) : new Float32Array(0), [1, spec.numKvHeads, 0, spec.headDim]);
    }
  }
  const fetches = [IO.logits, ...(wantCache ? Array.from({ length: spec.numLayers }, (_, l) => [IO.presentKey(l), IO.presentValue(l)]).flat() : [])];
  const out = await session.run(feeds, fetches);
  const data = field(out, IO.logits, 'out').data as Float32Array;
  const V = spec.vocabSize;
  const logits = ids.map((_, j) => data.subarray(j * V, (j + 1) * V));
  const cache = wantCache ? Object.fromEntries(fetches.slice(1).map((n) => [n, field(out, n, 'out')])) : null;
  return { feeds, out, fetches, logits, cache };
}

/** The K/V cache's element type, read once per session (not on every call). */
const cacheTypes = new WeakMap<EntrySession, 'float16' | 'float32'>();
function cacheFloatType(session: EntrySession): 'float16' | 'float32' {
  let t = cacheTypes.get(session);
  if (!t) {
    t = session.outputMetadata.some((m) => m.name === IO.presentKey(0) && m.isTensor && m.type === 'float16') ? 'float16' : 'float32';
    cacheTypes.set(session, t);
  }
  return t;
}

function tensorBytes(t: ort.Tensor): number {
  return (t.data as ArrayLike<unknown> & { byteLength: number }).byteLength;
}

/** Fast-dLLM's caches: K/V rebuilt at each block start, block-only (dual) or block-and-after (prefix) calls. */
function cachedForward(session: EntrySession, spec: TransformerSpec, device: string, moved: (bytes: number) => void): DreamCachedForward<Record<string, ort.Tensor>> {
  const count = (r: Awaited<ReturnType<typeof cachedCall>>) => {
    if (device === 'cpu') return;
    let n = 0;
    for (const t of Object.values(r.feeds)) n += tensorBytes(t);
    for (const name of r.fetches) n += tensorBytes(field(r.out, name, 'out'));
    moved(n);
  };
  return {
    full: async (canvas) => {
      const r = await cachedCall(session, spec, canvas, 0, canvas.length, null, true);
      count(r);
      return { logits: r.logits, cache: r.cache! };
    },
    window: async (ids, from, L, cache) => {
      const r = await cachedCall(session, spec, ids, from, L, cache, false);
      count(r);
      return r.logits;
    },
  };
}

/**
 * Threshold decoding without a cache: every call is a full forward of the canvas. The "cache" is the canvas at the
 * block start; a window call (from the block start to the end) completes it, since nothing before the block changes.
 */
function uncachedForward(session: EntrySession, spec: TransformerSpec): DreamCachedForward<number[]> {
  return {
    full: async (canvas) => ({ logits: (await cachedCall(session, spec, canvas, 0, canvas.length, null, false)).logits, cache: [...canvas] }),
    window: async (ids, from, L, canvas) => {
      const whole = [...canvas.slice(0, from), ...ids, ...canvas.slice(from + ids.length, L)];
      return (await cachedCall(session, spec, whole, 0, L, null, false)).logits.slice(from, from + ids.length);
    },
  };
}
