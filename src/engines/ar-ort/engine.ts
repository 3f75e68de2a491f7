/**
 * ar-ort: the minimal direct onnxruntime decode loop over the causal graph: the upper bound of an AR baseline in
 * Node. Prefill with num_logits_to_keep = 1, then one token per step feeding present.* back as past_key_values.*;
 * greedy argmax on the host.
 */
import { at, field } from '../../util/indexing.js';
import ort from 'onnxruntime-node';
import { IO } from '../../models/emit.js';
import { loadModelFolder } from '../../models/folder.js';
import { padIdOf } from '../../models/spec.js';
import { cudaRoundTripBytes, leftPad, requireCausal, roundTripHandicap } from '../ar-common.js';
import { withDevice } from '../device.js';
import { ForwardTimer } from '../forward.js';
import { localEngineInfo } from '../local-info.js';
import type { ArGenerateOptions, EngineLocation } from '../options.js';
import { validateRequest } from '../request.js';
import { sessionOptions } from '../session.js';
import { ABORTED, type Engine, type EngineResult, type GenerateRequest, completed, runtimeError } from '../types.js';

function argmaxRows(logits: Float32Array, rows: number, V: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < rows; b++) {
    let best = 0;
    let bestV = -Infinity;
    const off = b * V;
    for (let k = 0; k < V; k++) {
      // Past the end (a short output) reads as -Infinity: it never wins the argmax.
      const v = logits[off + k] ?? -Infinity;
      if (v > bestV) {
        bestV = v;
        best = k;
      }
    }
    out.push(best);
  }
  return out;
}

export async function createOrtArEngine(opts: EngineLocation): Promise<Engine<ArGenerateOptions>> {
  const folder = loadModelFolder(opts.modelDir);
  requireCausal(folder, opts.modelDir);
  const spec = folder.meta.spec;
  const { session, choice } = await withDevice(opts.device, (providers) => ort.InferenceSession.create(folder.onnxPath, sessionOptions(opts.session, providers)));
  const fp16 = folder.meta.dtype === 'fp16';
  const dtypeBytes = fp16 ? 2 : 4;
  const handicaps = choice.device === 'cpu' ? [] : [roundTripHandicap(cudaRoundTripBytes(spec, 1, 128, 128, dtypeBytes))];
  const info = localEngineInfo('ar-ort', opts.modelDir, folder, choice, handicaps);
  const emptyPast = (B: number) =>
    fp16 ? new ort.Tensor('float16', new Uint16Array(0), [B, spec.numKvHeads, 0, spec.headDim]) : new ort.Tensor('float32', new Float32Array(0), [B, spec.numKvHeads, 0, spec.headDim]);

  async function generate(req: GenerateRequest, o: ArGenerateOptions): Promise<EngineResult> {
    const invalid = validateRequest(req, spec.maxPositions);
    if (invalid) return { ok: false, error: invalid };
    const B = req.prompts.length;
    const gen = req.genLength;
    const { P, ids, mask, positions } = leftPad(req.prompts, padIdOf(spec));
    const i64 = (rows: bigint[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat()), [rows.length, at(rows, 0, 'rows').length]);
    const keepOne = new ort.Tensor('int64', BigInt64Array.from([1n]), []);
    let feeds: Record<string, ort.Tensor> = { [IO.inputIds]: i64(ids), [IO.attentionMask]: i64(mask), [IO.positionIds]: i64(positions), [IO.numLogitsToKeep]: keepOne };
    for (let l = 0; l < spec.numLayers; l++) {
      feeds[IO.pastKey(l)] = emptyPast(B);
      feeds[IO.pastValue(l)] = emptyPast(B);
    }
    const tokens: number[][] = Array.from({ length: B }, () => []);
    const times: number[][] = Array.from({ length: B }, () => []);
    const done = new Array<boolean>(B).fill(false);
    const maskRows = mask.map((r) => [...r]);
    const lastPos = positions.map((r) => r.at(-1)!);
    const timer = new ForwardTimer();
    try {
      for (let step = 0; step < gen; step++) {
        if (o.shouldStop?.()) return ABORTED;
        const { out, commit } = await timer.time(() => session.run(feeds));
        const next = argmaxRows(field(out, IO.logits, 'out').data as Float32Array, B, spec.vocabSize);
        const now = timer.elapsedMs();
        let committed = 0;
        next.forEach((tok, b) => {
          if (done[b]) return;
          at(tokens, b, 'tokens').push(tok);
          at(times, b, 'times').push(now);
          committed++;
          if (o.mode === 'natural' && spec.eosTokenIds.includes(tok)) done[b] = true;
        });
        commit(committed);
        if (done.every(Boolean) || step === gen - 1) break;
        for (let b = 0; b < B; b++) {
          at(maskRows, b, 'maskRows').push(1n);
          lastPos[b] = at(lastPos, b, 'lastPos') + 1n;
        }
        const nextFeeds: Record<string, ort.Tensor> = {
          [IO.inputIds]: new ort.Tensor('int64', BigInt64Array.from(next.map(BigInt)), [B, 1]),
          [IO.attentionMask]: i64(maskRows),
          [IO.positionIds]: new ort.Tensor('int64', BigInt64Array.from(lastPos), [B, 1]),
          [IO.numLogitsToKeep]: keepOne,
        };
        for (let l = 0; l < spec.numLayers; l++) {
          nextFeeds[IO.pastKey(l)] = field(out, IO.presentKey(l), 'out');
          nextFeeds[IO.pastValue(l)] = field(out, IO.presentValue(l), 'out');
        }
        feeds = nextFeeds;
      }
    } catch (err) {
      return runtimeError('onnxruntime', err);
    }
    return completed(tokens, spec.eosTokenIds, timer.timing(), {
      tokenTimesMs: times,
      hostDeviceBytesPerForward: choice.device === 'cpu' ? 0 : cudaRoundTripBytes(spec, B, P, gen, dtypeBytes),
    });
  }

  return {
    info,
    generate,
    dispose: async () => {
      await session.release();
    },
  };
}
