/**
 * ar-loop: greedy decoding with the loop on the device. Two onnxruntime calls per generation over the model
 * folder's loop graph (src/models/emit-loop.ts):
 *  1. prefill: the prompt with an empty cache and max_new_tokens = 1 -> the first token (TTFT) and the prompt's cache;
 *  2. loop: the first token, that cache and max_new_tokens = n - 1 -> the remaining ids, appended inside an ONNX
 *     Loop whose KV cache is loop-carried state; only `tokens` is fetched.
 * On CUDA only the prompt cache crosses the bus (once each way, between the two calls) instead of the whole cache
 * every token. Per-token times inside the loop are not observable: token i > 0 is stamped at
 * prefill + i * (loop time / loop iterations), so the inter-token figure is (total - prefill) / (n - 1).
 */
import { at, field } from '../../util/indexing.js';
import ort from 'onnxruntime-node';
import { IO } from '../../models/emit.js';
import { LOOP_IO } from '../../models/emit-loop.js';
import { loadModelFolder } from '../../models/folder.js';
import { padIdOf } from '../../models/spec.js';
import { UserError } from '../../util/errors.js';
import type { Handicap } from '../local-info.js';
import { type ArGenerateOptions, kvCacheBytes, leftPad, requireCausal } from '../ar-common.js';
import { withDevice } from '../device.js';
import { localEngineInfo } from '../local-info.js';
import type { EngineLocation } from '../options.js';
import { validateRequest } from '../request.js';
import { sessionOptions } from '../session.js';
import { ABORTED, type Engine, type EngineResult, type ForwardTrace, completed, runtimeError } from '../types.js';

export const AR_LOOP_TIMING_NOTE = 'ar-loop: the decode loop is one onnxruntime call; inter-token latency = (total - prefill) / (n - 1)';

export function promptCacheHandicap(bytes: number): Handicap {
  return { code: 'prompt-cache-once', text: `prompt KV cache crosses the bus once between the prefill and the loop call (no IO binding in onnxruntime-node): ~${(bytes / 1e6).toFixed(1)} MB each way per generation` };
}

export async function createArLoopEngine(opts: EngineLocation): Promise<Engine<ArGenerateOptions>> {
  const folder = loadModelFolder(opts.modelDir);
  requireCausal(folder, opts.modelDir);
  if (!folder.meta.loopOnnxFile) throw new UserError(`${opts.modelDir}: no ar-loop graph in this model folder; rebuild it with "dllm-bench models build" or "models convert"`);
  const loopPath = `${folder.dir}/${folder.meta.loopOnnxFile}`;
  const spec = folder.meta.spec;
  const { session, choice } = await withDevice(opts.device, (providers) => ort.InferenceSession.create(loopPath, sessionOptions(opts.session, providers)));
  const fp16 = folder.meta.dtype === 'fp16';
  const dtypeBytes = fp16 ? 2 : 4;
  const onDevice = choice.device !== 'cpu';
  const handicaps = onDevice ? [promptCacheHandicap(kvCacheBytes(spec, 1, 128, dtypeBytes))] : [];
  const info = { ...localEngineInfo('ar-loop', opts.modelDir, folder, choice, handicaps), timingNote: AR_LOOP_TIMING_NOTE };
  const emptyPast = (B: number) =>
    fp16 ? new ort.Tensor('float16', new Uint16Array(0), [B, spec.numKvHeads, 0, spec.headDim]) : new ort.Tensor('float32', new Float32Array(0), [B, spec.numKvHeads, 0, spec.headDim]);
  const eosIds = new ort.Tensor('int64', BigInt64Array.from((spec.eosTokenIds.length ? spec.eosTokenIds : [-1]).map(BigInt)), [Math.max(1, spec.eosTokenIds.length)]);
  const scalarI64 = (v: number) => new ort.Tensor('int64', BigInt64Array.from([BigInt(v)]), []);
  const bool = (v: boolean[], dims: number[]) => new ort.Tensor('bool', Uint8Array.from(v.map(Number)), dims);
  const i64 = (rows: bigint[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat()), [rows.length, at(rows, 0, 'rows').length]);
  const cacheNames = Array.from({ length: spec.numLayers }, (_, l) => [IO.presentKey(l), IO.presentValue(l)]).flat();

  async function generate(req: Parameters<Engine<ArGenerateOptions>['generate']>[0], o: ArGenerateOptions): Promise<EngineResult> {
    const invalid = validateRequest(req, spec.maxPositions);
    if (invalid) return { ok: false, error: invalid };
    const B = req.prompts.length;
    const gen = req.genLength;
    const natural = o.mode === 'natural';
    const isEos = (t: number) => spec.eosTokenIds.includes(t);
    const { P, ids, mask, positions } = leftPad(req.prompts, padIdOf(spec));
    if (o.shouldStop?.()) return ABORTED;
    const trace: ForwardTrace[] = [];
    const t0 = performance.now();
    let forwardMs = 0;
    try {
      // 1. prefill: first token + the prompt's cache.
      const feeds: Record<string, ort.Tensor> = {
        [IO.inputIds]: i64(ids),
        [IO.attentionMask]: i64(mask),
        [IO.positionIds]: i64(positions),
        [LOOP_IO.maxNewTokens]: scalarI64(1),
        [LOOP_IO.stopAtEos]: bool([false], []),
        [LOOP_IO.eosIds]: eosIds,
        [LOOP_IO.finished]: bool(new Array<boolean>(B).fill(false), [B]),
      };
      for (let l = 0; l < spec.numLayers; l++) {
        feeds[IO.pastKey(l)] = emptyPast(B);
        feeds[IO.pastValue(l)] = emptyPast(B);
      }
      const ps = performance.now();
      const pre = await session.run(feeds, [LOOP_IO.tokens, ...cacheNames]);
      const pe = performance.now();
      forwardMs += pe - ps;
      const first = Array.from(field(pre, LOOP_IO.tokens, 'pre').data as BigInt64Array, Number);
      trace.push({ startMs: ps - t0, durationMs: pe - ps, tokensCommitted: B });
      const tokens = first.map((t) => [t]);
      const times: number[][] = first.map(() => [pe - t0]);
      const finished = first.map((t) => natural && isEos(t));

      // 2. the loop: n - 1 more tokens (fewer when every row has stopped, in natural mode).
      if (gen > 1 && !finished.every(Boolean)) {
        if (o.shouldStop?.()) return ABORTED;
        const loopFeeds: Record<string, ort.Tensor> = {
          [IO.inputIds]: new ort.Tensor('int64', BigInt64Array.from(first.map(BigInt)), [B, 1]),
          [IO.attentionMask]: i64(mask.map((r) => [...r, 1n])),
          [IO.positionIds]: new ort.Tensor('int64', BigInt64Array.from(positions.map((r) => r.at(-1)! + 1n)), [B, 1]),
          [LOOP_IO.maxNewTokens]: scalarI64(gen - 1),
          [LOOP_IO.stopAtEos]: bool([natural], []),
          [LOOP_IO.eosIds]: eosIds,
          [LOOP_IO.finished]: bool(finished, [B]),
        };
        for (let l = 0; l < spec.numLayers; l++) {
          loopFeeds[IO.pastKey(l)] = field(pre, IO.presentKey(l), 'pre');
          loopFeeds[IO.pastValue(l)] = field(pre, IO.presentValue(l), 'pre');
        }
        const ls = performance.now();
        const out = await session.run(loopFeeds, [LOOP_IO.tokens]);
        const le = performance.now();
        forwardMs += le - ls;
        const scanned = field(out, LOOP_IO.tokens, 'out');
        const iterations = at(scanned.dims, 0, 'scanned.dims');
        const data = scanned.data as BigInt64Array;
        const per = iterations > 0 ? (le - ls) / iterations : 0;
        for (let i = 0; i < iterations; i++) {
          let committed = 0;
          for (let b = 0; b < B; b++) {
            if (finished[b]) continue;
            const tok = Number(data[i * B + b]);
            at(tokens, b, 'tokens').push(tok);
            at(times, b, 'times').push(ls - t0 + (i + 1) * per);
            committed++;
            if (natural && isEos(tok)) finished[b] = true;
          }
          trace.push({ startMs: ls - t0 + i * per, durationMs: per, tokensCommitted: committed });
        }
      }
      const cacheBytes = onDevice ? 2 * kvCacheBytes(spec, B, P, dtypeBytes) : 0;
      return completed(tokens, spec.eosTokenIds, { trace, totalMs: performance.now() - t0, forwardMs }, {
        tokenTimesMs: times,
        hostDeviceBytesPerForward: cacheBytes / trace.length,
      });
    } catch (err) {
      return runtimeError('onnxruntime', err);
    }
  }

  return {
    info,
    generate,
    dispose: async () => {
      await session.release();
    },
  };
}
