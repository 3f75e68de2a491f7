/**
 * ar-ort: the minimal direct onnxruntime decode loop over the project's causal graph, the upper bound for an AR
 * baseline in Node. Prefill runs the whole (left-padded) prompt with num_logits_to_keep = 1; each later step feeds
 * one token per row and the previous present.* as past_key_values.*. Greedy argmax happens on the host, so the
 * only host work per token is one argmax over the vocabulary per row and a new attention mask.
 */
import { existsSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { UserError } from '../../cli/errors.js';
import { IO } from '../../models/emit.js';
import { loadModelFolder } from '../../models/folder.js';
import { withDevice } from '../device.js';
import { localEngineInfo } from '../local-info.js';
import { sessionOptions } from '../session.js';
import { ABORTED, type Engine, type EngineResult, type ForwardTrace, type GenerateRequest, firstStopIndex } from '../types.js';
import { type ArEngineOptions, type ArGenerateOptions, dtypeBytesOf, kvRoundTripHandicap, kvTraffic, padIdOf } from './options.js';
import { checkArRequest, leftPadBatch, requireCausalFolder, runtimeError } from './request.js';

/** Greedy pick per row from logits [rows, 1, V] (num_logits_to_keep = 1). Ties go to the lowest id, as argmax does. */
function argmaxRows(logits: Float32Array, rows: number, vocab: number): number[] {
  const out = new Array<number>(rows);
  for (let b = 0; b < rows; b++) {
    const off = b * vocab;
    let best = 0;
    let bestScore = logits[off]!;
    for (let k = 1; k < vocab; k++) {
      const v = logits[off + k]!;
      if (v > bestScore) {
        bestScore = v;
        best = k;
      }
    }
    out[b] = best;
  }
  return out;
}

export async function createOrtArEngine(opts: ArEngineOptions): Promise<Engine<ArGenerateOptions>> {
  if (!existsSync(opts.modelDir) && /^[\w.-]+\/[\w.-]+$/.test(opts.modelDir)) {
    throw new UserError(`${opts.modelDir}: ar-ort runs model folders built by dllm-bench (its graph's KV-cache I/O), not hub ids; use the ar engine or "dllm-bench models convert"`);
  }
  const folder = loadModelFolder(opts.modelDir);
  requireCausalFolder(folder, opts.modelDir);
  const spec = folder.meta.spec;
  const { session, choice } = await withDevice(opts.device, (providers) => ort.InferenceSession.create(folder.onnxPath, sessionOptions(opts.session, providers)));
  const missing = [IO.inputIds, IO.attentionMask, IO.positionIds, IO.numLogitsToKeep, IO.pastKey(0)].filter((n) => !session.inputNames.includes(n));
  if (missing.length > 0) {
    await session.release();
    throw new UserError(`${opts.modelDir}: the graph lacks the causal inputs ${missing.join(', ')}; rebuild the model folder`);
  }
  const fp16 = folder.meta.dtype === 'fp16';
  const dtypeBytes = dtypeBytesOf(folder.meta.dtype);
  // Every output comes back to host memory after each run on any non-CPU provider here (no IO binding in Node).
  const copiesCache = choice.device !== 'cpu';
  const info = localEngineInfo('ar-ort', opts.modelDir, folder, choice, copiesCache ? [kvRoundTripHandicap(spec, dtypeBytes)] : []);
  const keepLast = new ort.Tensor('int64', BigInt64Array.from([1n]), []);
  const emptyCache = (batch: number) => {
    const dims = [batch, spec.numKvHeads, 0, spec.headDim];
    return fp16 ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
  };

  async function generate(req: GenerateRequest, o: ArGenerateOptions): Promise<EngineResult> {
    const invalid = checkArRequest(spec, req);
    if (invalid) return { ok: false, error: invalid };
    const n = req.genLength;
    const pad = leftPadBatch(req.prompts, padIdOf(spec));
    const B = pad.batch;
    const padding = pad.lengths.map((len) => pad.width - len);
    let feeds: Record<string, ort.Tensor> = {
      [IO.inputIds]: new ort.Tensor('int64', pad.ids, [B, pad.width]),
      [IO.attentionMask]: new ort.Tensor('int64', pad.mask, [B, pad.width]),
      [IO.positionIds]: new ort.Tensor('int64', pad.positions, [B, pad.width]),
      [IO.numLogitsToKeep]: keepLast,
    };
    for (let l = 0; l < spec.numLayers; l++) {
      feeds[IO.pastKey(l)] = emptyCache(B);
      feeds[IO.pastValue(l)] = emptyCache(B);
    }
    const tokens: number[][] = Array.from({ length: B }, () => []);
    const times: number[][] = Array.from({ length: B }, () => []);
    const done = new Array<boolean>(B).fill(false);
    let running = B;
    const trace: ForwardTrace[] = [];
    let forwardMs = 0;
    const t0 = performance.now();
    try {
      for (let step = 0; step < n; step++) {
        if (o.shouldStop?.()) return ABORTED;
        const start = performance.now();
        const out = await session.run(feeds);
        const end = performance.now();
        forwardMs += end - start;
        trace.push({ startMs: start - t0, durationMs: end - start, tokensCommitted: running });
        const next = argmaxRows(out[IO.logits]!.data as Float32Array, B, spec.vocabSize);
        const now = performance.now() - t0;
        for (let b = 0; b < B; b++) {
          if (done[b]) continue;
          tokens[b]!.push(next[b]!);
          times[b]!.push(now);
          if (o.mode === 'natural' && spec.eosTokenIds.includes(next[b]!)) {
            done[b] = true;
            running--;
          }
        }
        if (running === 0 || step === n - 1) break;
        // Next step: one token per row (finished rows keep running: their outputs are dropped), the mask grows by
        // one real position, and each row's position is its count of real tokens so far.
        const total = pad.width + step + 1;
        const mask = new BigInt64Array(B * total).fill(1n);
        const positions = new BigInt64Array(B);
        for (let b = 0; b < B; b++) {
          mask.fill(0n, b * total, b * total + padding[b]!);
          positions[b] = BigInt(pad.lengths[b]! + step);
        }
        const nextFeeds: Record<string, ort.Tensor> = {
          [IO.inputIds]: new ort.Tensor('int64', BigInt64Array.from(next, BigInt), [B, 1]),
          [IO.attentionMask]: new ort.Tensor('int64', mask, [B, total]),
          [IO.positionIds]: new ort.Tensor('int64', positions, [B, 1]),
          [IO.numLogitsToKeep]: keepLast,
        };
        for (let l = 0; l < spec.numLayers; l++) {
          nextFeeds[IO.pastKey(l)] = out[IO.presentKey(l)]!;
          nextFeeds[IO.pastValue(l)] = out[IO.presentValue(l)]!;
        }
        feeds = nextFeeds;
      }
    } catch (err) {
      return { ok: false, error: runtimeError('onnxruntime', err) };
    }
    const totalMs = performance.now() - t0;
    return {
      ok: true,
      value: {
        tokens,
        usefulTokens: tokens.map((t) => firstStopIndex(t, spec.eosTokenIds)),
        trace,
        totalMs,
        forwardMs,
        tokenTimesMs: times,
        hostDeviceBytesPerForward: copiesCache ? kvTraffic(spec, B, pad.width, trace.length, dtypeBytes).bytesPerForward : 0,
      },
    };
  }

  return {
    info,
    generate,
    dispose: async () => {
      await session.release();
    },
  };
}
