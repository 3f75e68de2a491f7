/**
 * Fast-dLLM cached decoding with the block loop on the device: one onnxruntime call per block (the graph from
 * src/models/block-loop.ts: block-start forward, then an ONNX Loop of block-only forwards + the commit rule, the
 * K/V cache never leaving the device). Only token ids cross: the canvas in, the decoded block out. It must agree
 * token for token with the host-driven path (cached.ts), which stays the readable reference.
 */
import { at, field } from '../../util/indexing.js';
import ort from 'onnxruntime-node';
import { LOOP_IO } from '../../models/block-loop.js';
import type { TransformerSpec } from '../../models/spec.js';
import type { EntrySession } from '../entries.js';
import { ABORTED, type EngineResult, type ForwardTrace, completed, runtimeError } from '../types.js';
import { type CachedRunOptions, type Canvas, rowsOf } from './cached.js';
import { transferSchedule } from './sampler.js';

/** Host <-> device bytes of one block call: canvas + mask + small scalars in, the block ids and counts out. */
export function blockLoopBytes(c: Canvas, blockLength: number, scheduleLength: number): number {
  return c.rows * c.L * 8 * 2 + scheduleLength * 8 + 8 * 6 + 4 * 3 + c.B * blockLength * 8 + 8 * scheduleLength;
}

export async function generateDeviceLoop(session: EntrySession, spec: TransformerSpec, device: string, c: Canvas, o: CachedRunOptions): Promise<EngineResult> {
  if (o.mode === 'fresh') return { ok: false, error: { code: 'invalid-options', message: 'the fresh-cache test mode runs on the host-driven path only' } };
  if (o.remasking === 'random') return { ok: false, error: { code: 'invalid-options', message: 'random remasking runs on the host-driven path only' } };
  const { B, rows, P, L, genLength } = c;
  const maskId = spec.maskTokenId!;
  const blocks = genLength / o.blockLength;
  // Fixed schedule: every block starts fully masked (prompts hold no mask), so one schedule serves all rows.
  const schedule = o.threshold === null ? transferSchedule(o.blockLength, o.steps / blocks) : new Array<number>(4 * o.blockLength).fill(0);
  const i64 = (v: number) => new ort.Tensor('int64', BigInt64Array.from([BigInt(v)]), [1]);
  const f32 = (v: number) => new ort.Tensor('float32', Float32Array.from([v]), [1]);
  const fixed = {
    [LOOP_IO.attentionMask]: new ort.Tensor('int64', c.attn, [rows, L]),
    [LOOP_IO.blockLength]: i64(o.blockLength),
    [LOOP_IO.schedule]: new ort.Tensor('int64', BigInt64Array.from(schedule.map(BigInt)), [schedule.length]),
    [LOOP_IO.threshold]: f32(o.threshold ?? 0),
    [LOOP_IO.cfgScale]: f32(o.cfgScale),
    [LOOP_IO.temperature]: f32(o.temperature),
    [LOOP_IO.seed]: i64(o.seed),
  };
  const x = new Int32Array(B * genLength).fill(maskId);
  const trace: ForwardTrace[] = [];
  let forwardMs = 0;
  let step = 0;
  const t0 = performance.now();
  try {
    for (let blk = 0; blk < blocks; blk++) {
      if (o.shouldStop?.()) return ABORTED;
      const s = P + blk * o.blockLength;
      const feeds = {
        ...fixed,
        [LOOP_IO.inputIds]: new ort.Tensor('int64', c.ids, [rows, L]),
        [LOOP_IO.blockStart]: i64(s),
        [LOOP_IO.windowEnd]: i64(o.mode === 'prefix' ? L : s + o.blockLength),
        [LOOP_IO.stepBase]: i64(step),
      };
      const rs = performance.now();
      const out = await session.run(feeds);
      const re = performance.now();
      forwardMs += re - rs;
      const ids = field(out, LOOP_IO.blockIds, 'out').data as BigInt64Array;
      const counts = [...(field(out, LOOP_IO.firstCommitted, 'out').data as BigInt64Array), ...(field(out, LOOP_IO.loopCommitted, 'out').data as BigInt64Array)].map(Number);
      for (let b = 0; b < B; b++) {
        for (let p = 0; p < o.blockLength; p++) {
          const tok = at(ids, b * o.blockLength + p, 'ids');
          x[b * genLength + blk * o.blockLength + p] = Number(tok);
          for (let r = b; r < rows; r += B) c.ids[r * L + s + p] = tok;
        }
      }
      // The calls inside one onnxruntime call are not timed one by one: each gets the block's mean.
      const each = (re - rs) / counts.length;
      counts.forEach((n, i) => trace.push({ startMs: rs - t0 + i * each, durationMs: each, tokensCommitted: n }));
      step += counts.length;
      o.onStep?.({ step: step - 1, block: blk, tokens: rowsOf(x, B, genLength), committed: counts.reduce((a, v) => a + v, 0), maskId });
    }
  } catch (err) {
    return runtimeError('onnxruntime', err);
  }
  return completed(rowsOf(x, B, genLength), spec.eosTokenIds, {
    trace,
    totalMs: performance.now() - t0,
    forwardMs,
  }, {
    hostDeviceBytesPerForward: device === 'cpu' || trace.length === 0 ? 0 : Math.round((blocks * blockLoopBytes(c, o.blockLength, schedule.length)) / trace.length),
  });
}
