/**
 * ar: the in-process autoregressive baseline on @huggingface/transformers (transformers.js), loading a local model
 * folder offline. Greedy decoding; in 'fixed' mode no token ends a row, so every row gets exactly N tokens.
 * The session's run() is wrapped to time each forward, so host overhead (transformers.js's own work between
 * forwards) is visible as totalMs - forwardMs.
 */
import { basename, dirname } from 'node:path';
import { openModel } from '../../models/hub.js';
import { padIdOf } from '../../models/spec.js';
import { cudaRoundTripBytes, leftPad, requireCausal, roundTripHandicap } from '../ar-common.js';
import { withDevice } from '../device.js';
import { ForwardTimer } from '../forward.js';
import { localEngineInfo } from '../local-info.js';
import type { ArGenerateOptions, EngineLocation } from '../options.js';
import { validateRequest } from '../request.js';
import { ABORTED, type Engine, type EngineResult, type GenerateRequest, completed, runtimeError } from '../types.js';
import { at } from '../../util/indexing.js';

interface TimedSession {
  run: (...args: unknown[]) => Promise<unknown>;
}

export async function createTransformersEngine(opts: EngineLocation): Promise<Engine<ArGenerateOptions>> {
  // A local folder, or an owner/name hub id (network permitting): transformers.js loads either.
  const folder = await openModel(opts.modelDir);
  requireCausal(folder, opts.modelDir);
  const spec = folder.meta.spec;
  const tf = await import('@huggingface/transformers');
  tf.env.allowRemoteModels = Boolean(folder.hubId);
  tf.env.localModelPath = `${dirname(folder.dir)}/`;
  const sessionOptions = {
    graphOptimizationLevel: opts.session?.graphOptimization ?? 'all',
    ...(opts.session?.intraOpThreads ? { intraOpNumThreads: opts.session.intraOpThreads } : {}),
    ...(opts.session?.interOpThreads ? { interOpNumThreads: opts.session.interOpThreads } : {}),
    logSeverityLevel: 3 as const,
  };
  const { session: model, choice } = await withDevice(opts.device, (providers) =>
    tf.AutoModelForCausalLM.from_pretrained(folder.hubId ?? basename(folder.dir), {
      dtype: folder.meta.dtype,
      device: providers[0] as 'cpu' | 'cuda' | 'webgpu',
      session_options: sessionOptions,
    }),
  );
  const dtypeBytes = folder.meta.dtype === 'fp16' ? 2 : 4;
  // Time every forward from the inside: transformers.js calls session.run once per generated token.
  const sessions = (model as unknown as { sessions: Record<string, TimedSession> }).sessions;
  const timed = sessions.model ?? at(Object.values(sessions), 0, 'sessions');
  const run = timed.run.bind(timed);
  let onForward: ((start: number, end: number) => void) | null = null;
  timed.run = async (...args: unknown[]) => {
    const s = performance.now();
    const r = await run(...args);
    onForward?.(s, performance.now());
    return r;
  };
  // transformers.js keeps the cache on the device only for WebGPU; on CUDA it round-trips through the host.
  const handicaps = choice.device === 'cuda' ? [roundTripHandicap(cudaRoundTripBytes(spec, 1, 128, 128, dtypeBytes))] : [];
  const info = localEngineInfo('ar', opts.modelDir, folder, choice, handicaps);

  async function generate(req: GenerateRequest, o: ArGenerateOptions): Promise<EngineResult> {
    const invalid = validateRequest(req, spec.maxPositions);
    if (invalid) return { ok: false, error: invalid };
    const B = req.prompts.length;
    const gen = req.genLength;
    const padId = padIdOf(spec);
    const { P, ids, mask } = leftPad(req.prompts, padId);
    const times: number[][] = Array.from({ length: B }, () => []);
    const done = new Array<boolean>(B).fill(false);
    let puts = 0;
    if (o.shouldStop?.()) return ABORTED;
    // Cancellation between forwards through a stopping criterion: failing a forward instead would make
    // transformers.js log every input tensor.
    let stopped = false;
    const cancel = new (class extends tf.StoppingCriteria {
      override _call(inputIds: number[][]): boolean[] {
        stopped ||= o.shouldStop?.() === true;
        return inputIds.map(() => stopped);
      }
    })();
    const timer = new ForwardTimer();
    onForward = (s, e) => timer.record(s, e, done.filter((d) => !d).length);
    const streamer = {
      put(value: bigint[][]) {
        if (puts++ === 0) return; // the first put is the prompt
        const now = timer.elapsedMs();
        value.forEach((row, b) => {
          if (done[b]) return;
          at(times, b, 'times').push(now);
          if (o.mode === 'natural' && spec.eosTokenIds.includes(Number(row[0]))) done[b] = true;
        });
      },
      end() {},
    };
    let out: { tolist(): bigint[][] };
    try {
      out = (await model.generate({
        input_ids: new tf.Tensor('int64', BigInt64Array.from(ids.flat()), [B, P]),
        attention_mask: new tf.Tensor('int64', BigInt64Array.from(mask.flat()), [B, P]),
        max_new_tokens: gen,
        // Plain greedy whatever a generation_config.json says: no sampling, beams or logits processors.
        do_sample: false,
        num_beams: 1,
        repetition_penalty: 1.0,
        no_repeat_ngram_size: 0,
        min_length: 0,
        min_new_tokens: null,
        bad_words_ids: null,
        suppress_tokens: null,
        begin_suppress_tokens: null,
        forced_bos_token_id: null,
        forced_eos_token_id: null,
        // Fixed mode ignores EOS as vLLM's ignore_eos does: EOS may be generated but ends nothing (min_new_tokens
        // would instead forbid EOS and change the tokens).
        eos_token_id: o.mode === 'fixed' ? [] : spec.eosTokenIds,
        pad_token_id: padId,
        streamer: streamer as never,
        stopping_criteria: [cancel],
      } as never)) as unknown as { tolist(): bigint[][] };
    } catch (err) {
      return runtimeError('transformers.js', err);
    } finally {
      onForward = null;
    }
    if (stopped) return ABORTED;
    const timing = timer.timing();
    const tokens = out.tolist().map((row) => {
      const genIds = row.slice(P).map(Number);
      if (o.mode === 'fixed') return genIds.slice(0, gen);
      const stop = genIds.findIndex((t) => spec.eosTokenIds.includes(t));
      return stop < 0 ? genIds : genIds.slice(0, stop + 1);
    });
    tokens.forEach((t, b) => (times[b] = at(times, b, 'times').slice(0, t.length)));
    // Each forward's trace entry counted rows still running before the step's tokens arrived.
    return completed(tokens, spec.eosTokenIds, timing, {
      tokenTimesMs: times,
      hostDeviceBytesPerForward: choice.device === 'cuda' ? cudaRoundTripBytes(spec, B, P, gen, dtypeBytes) : 0,
    });
  }

  return {
    info,
    generate,
    dispose: async () => {
      await model.dispose();
    },
  };
}
