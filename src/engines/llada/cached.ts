/**
 * Fast-dLLM's approximate KV caches for LLaDA (NVlabs/Fast-dLLM, arXiv 2505.22618), host-driven: the readable
 * reference path. Per block:
 *  - block start: one full forward over all L positions (block still masked) that commits with the first schedule
 *    entry (or the threshold) and returns every layer's K/V: the only time the cache is rebuilt;
 *  - prefix: later calls feed positions s..L-1 at their absolute positions, attending to the cached rows 0..s-1;
 *  - dual: later calls feed only the block s..e-1; its fresh K/V replace rows s..e-1 and it attends to all L rows.
 * The block is checked for a mask before every block-only call (Fast-dLLM's first release made one wasted call).
 * `fresh` (tests only) rebuilds the cache at every call, so it must reproduce the uncached sampler exactly.
 */
import { at, field } from '../../util/indexing.js';
import ort from 'onnxruntime-node';
import { IO } from '../../models/emit.js';
import type { TransformerSpec } from '../../models/spec.js';
import type { EntrySession } from '../entries.js';
import { mulberry32 } from '../../util/random.js';
import { ABORTED, type EngineResult, type ForwardTrace, completed, runtimeError } from '../types.js';
import { type LladaOptions, selectPositions, stepNoiseSeed, transferSchedule } from './sampler.js';
import type { StepEvent } from '../options.js';

export type CachedMode = 'prefix' | 'dual' | 'fresh';

/** The canvas the uncached sampler builds (left-padded prompts + masks; CFG's unconditional copy below). */
export interface Canvas {
  /** Conditional rows B; rows = 2B with CFG. */
  B: number;
  rows: number;
  /** Padded prompt length and total length P + genLength. */
  P: number;
  L: number;
  genLength: number;
  /** [rows, L] token ids (committing writes here), attention mask. */
  ids: BigInt64Array;
  attn: BigInt64Array;
}

export interface CachedRunOptions extends LladaOptions {
  mode: CachedMode;
  shouldStop?: () => boolean;
  onStep?: (event: StepEvent) => void;
}

/** One cached forward's feeds: the fed window [from, to) of the canvas, with the cache spliced in at `from`. */
function windowFeeds(c: Canvas, from: number, to: number, past: Record<string, ort.Tensor>, logitsStart: number, blockLength: number) {
  const S = to - from;
  const ids = new BigInt64Array(c.rows * S);
  const pos = new BigInt64Array(c.rows * S);
  for (let r = 0; r < c.rows; r++) {
    ids.set(c.ids.subarray(r * c.L + from, r * c.L + to), r * S);
    for (let t = 0; t < S; t++) pos[r * S + t] = BigInt(from + t); // absolute rotary positions
  }
  return {
    [IO.inputIds]: new ort.Tensor('int64', ids, [c.rows, S]),
    [IO.positionIds]: new ort.Tensor('int64', pos, [c.rows, S]),
    [IO.cacheOffset]: new ort.Tensor('int64', BigInt64Array.from([BigInt(from)]), [1]),
    [IO.logitsStart]: new ort.Tensor('int64', BigInt64Array.from([BigInt(logitsStart)]), [1]),
    [IO.logitsLength]: new ort.Tensor('int64', BigInt64Array.from([BigInt(blockLength)]), [1]),
    ...past,
  };
}

export async function generateCached(session: EntrySession, spec: TransformerSpec, device: string, c: Canvas, o: CachedRunOptions): Promise<EngineResult> {
  const { B, rows, P, L, genLength } = c;
  const maskId = spec.maskTokenId!;
  const KV = spec.numKvHeads;
  const hd = spec.headDim;
  const dtype = session.outputMetadata.find((m) => m.name === IO.presentKey(0));
  const floatType = dtype && dtype.isTensor && dtype.type === 'float16' ? 'float16' : 'float32';
  const emptyPast: Record<string, ort.Tensor> = {};
  for (let l = 0; l < spec.numLayers; l++) {
    const empty = () => new ort.Tensor(floatType, floatType === 'float16' ? new Uint16Array(0) : new Float32Array(0), [rows, KV, 0, hd]);
    emptyPast[IO.pastKey(l)] = empty();
    emptyPast[IO.pastValue(l)] = empty();
  }
  const fixed = {
    [IO.attentionMask]: new ort.Tensor('int64', c.attn, [rows, L]),
    [IO.cfgScale]: new ort.Tensor('float32', Float32Array.from([o.cfgScale]), [1]),
    [IO.temperature]: new ort.Tensor('float32', Float32Array.from([o.temperature]), [1]),
  };
  const cacheFetches = Array.from({ length: spec.numLayers }, (_, l) => [IO.presentKey(l), IO.presentValue(l)]).flat();

  const x = new Int32Array(B * genLength).fill(maskId);
  const rand = o.remasking === 'random' ? mulberry32(o.seed + 1) : null;
  const blocks = genLength / o.blockLength;
  const stepsPerBlock = o.threshold === null ? o.steps / blocks : 0;
  const trace: ForwardTrace[] = [];
  let forwardMs = 0;
  let hostDeviceBytes = 0;
  let step = 0;
  const t0 = performance.now();

  try {
    for (let blk = 0; blk < blocks; blk++) {
      const bs = blk * o.blockLength;
      const s = P + bs;
      const e = s + o.blockLength;
      const maskedIn = (b: number) => {
        const cand: number[] = [];
        for (let p = 0; p < o.blockLength; p++) if (x[b * genLength + bs + p] === maskId) cand.push(p);
        return cand;
      };
      const schedules = o.threshold === null ? Array.from({ length: B }, (_, b) => transferSchedule(maskedIn(b).length, stepsPerBlock)) : [];
      const maxSteps = o.threshold === null ? stepsPerBlock : 4 * o.blockLength;
      let past: Record<string, ort.Tensor> = emptyPast;
      for (let i = 0; i < maxSteps; i++) {
        const candidates = Array.from({ length: B }, (_, b) => maskedIn(b));
        if (candidates.every((cd) => cd.length === 0)) break; // block done: no wasted call
        if (o.shouldStop?.()) return ABORTED;
        const full = i === 0 || o.mode === 'fresh';
        const [from, to] = full ? [0, L] : o.mode === 'prefix' ? [s, L] : [s, e];
        const feeds: Record<string, ort.Tensor> = {
          ...fixed,
          ...windowFeeds(c, from, to, full ? emptyPast : past, s - from, o.blockLength),
          [IO.noiseSeed]: new ort.Tensor('int64', BigInt64Array.from([BigInt(stepNoiseSeed(o.seed, step))]), [1]),
        };
        const fetches = full && o.mode !== 'fresh' ? [IO.x0, IO.confidence, ...cacheFetches] : [IO.x0, IO.confidence];
        const rs = performance.now();
        const out = await session.run(feeds, fetches);
        const re = performance.now();
        forwardMs += re - rs;
        if (full && o.mode !== 'fresh') past = Object.fromEntries(cacheFetches.map((n) => [n.replace('present', 'past_key_values'), field(out, n, 'out')]));
        // What crosses the bus on a GPU: every input fed, every output fetched.
        if (device !== 'cpu') {
          for (const t of Object.values(feeds)) hostDeviceBytes += byteSize(t);
          for (const n of fetches) hostDeviceBytes += byteSize(field(out, n, 'out'));
        }
        const x0 = field(out, IO.x0, 'out').data as BigInt64Array;
        let conf = field(out, IO.confidence, 'out').data as Float32Array;
        if (rand) conf = Float32Array.from({ length: B * o.blockLength }, () => rand());
        let committed = 0;
        for (let b = 0; b < B; b++) {
          const base = b * o.blockLength;
          const k = o.threshold === null ? at(at(schedules, b, 'schedules'), i, 'schedules[b]') : { threshold: o.threshold };
          for (const p of selectPositions(at(candidates, b, 'candidates'), (q) => at(conf, base + q, 'conf'), k)) {
            const tok = at(x0, base + p, 'x0');
            x[b * genLength + bs + p] = Number(tok);
            c.ids[b * L + s + p] = tok;
            if (rows > B) c.ids[(B + b) * L + s + p] = tok;
            committed++;
          }
        }
        trace.push({ startMs: rs - t0, durationMs: re - rs, tokensCommitted: committed });
        o.onStep?.({ step, block: blk, tokens: rowsOf(x, B, genLength), committed, maskId });
        step++;
      }
    }
  } catch (err) {
    return runtimeError('onnxruntime', err);
  }
  return completed(rowsOf(x, B, genLength), spec.eosTokenIds, {
    trace,
    totalMs: performance.now() - t0,
    forwardMs,
  }, {
    // The host-driven path feeds the whole cache to every block-only call (no IO binding): the bytes say so.
    hostDeviceBytesPerForward: trace.length > 0 ? Math.round(hostDeviceBytes / trace.length) : 0,
  });
}

function byteSize(t: ort.Tensor): number {
  return (t.data as ArrayLike<unknown> & { byteLength: number }).byteLength;
}

export function rowsOf(x: Int32Array, B: number, n: number): number[][] {
  return Array.from({ length: B }, (_, b) => Array.from(x.subarray(b * n, (b + 1) * n)));
}
