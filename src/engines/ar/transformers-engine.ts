/**
 * ar: the in-process autoregressive baseline on transformers.js (@huggingface/transformers 4.x), which is what a
 * Node developer would reach for. Greedy decoding from token ids with left padding; transformers.js derives
 * position_ids from the attention mask and sets num_logits_to_keep = 1 itself.
 *
 * Fixed length: generate() is called with no EOS at all (eos_token_id: []), so only max_new_tokens stops it: every
 * row gets exactly N tokens, and the tokens are the plain greedy ones (an EOS may appear and ends nothing, as with
 * vLLM's ignore_eos). min_new_tokens would instead forbid EOS and change which tokens are generated.
 *
 * Timing: the model's InferenceSession.run is wrapped, so each forward is timed from the inside and
 * totalMs - forwardMs is transformers.js's own host work; a streamer stamps each token as it is sampled.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute } from 'node:path';
import { UserError, errorMessage } from '../../cli/errors.js';
import { type ModelFolder, loadModelFolder } from '../../models/folder.js';
import type { TransformerSpec } from '../../models/spec.js';
import { type DeviceChoice, withDevice } from '../device.js';
import { localEngineInfo } from '../local-info.js';
import { ABORTED, type Engine, type EngineInfo, type EngineResult, type ForwardTrace, type GenerateRequest, firstStopIndex } from '../types.js';
import { type ArEngineOptions, type ArGenerateOptions, dtypeBytesOf, kvRoundTripHandicap, kvTraffic, padIdOf } from './options.js';
import { checkArRequest, firstStop, leftPadBatch, requireCausalFolder, runtimeError } from './request.js';

type Tf = typeof import('@huggingface/transformers');
type Model = Awaited<ReturnType<Tf['AutoModelForCausalLM']['from_pretrained']>>;
interface RunnableSession {
  run: (...args: unknown[]) => Promise<unknown>;
}

const HUB_ID = /^[\w.-]+\/[\w.-]+$/;

/** Where the model comes from: a dllm-bench folder on disk (offline), or a hub id the user named. */
type Source = { kind: 'folder'; folder: ModelFolder } | { kind: 'hub'; id: string };

function resolveSource(modelDir: string): Source {
  if (!existsSync(modelDir) && !isAbsolute(modelDir) && !modelDir.startsWith('.') && HUB_ID.test(modelDir)) return { kind: 'hub', id: modelDir };
  const folder = loadModelFolder(modelDir);
  requireCausalFolder(folder, modelDir);
  return { kind: 'folder', folder };
}

/** What the engine needs of a hub model's config.json (llama-like decoder fields). */
function specFromHubConfig(id: string, c: Record<string, unknown>): TransformerSpec {
  const num = (k: string): number | undefined => (typeof c[k] === 'number' ? (c[k] as number) : undefined);
  const ids = (v: unknown): number[] => (Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : typeof v === 'number' ? [v] : []);
  const heads = num('num_attention_heads');
  const hidden = num('hidden_size');
  const layers = num('num_hidden_layers');
  const vocab = num('vocab_size');
  if (!heads || !hidden || !layers || !vocab) throw new UserError(`${id}: config.json is not a decoder-only transformer config (needs num_attention_heads, hidden_size, num_hidden_layers, vocab_size)`);
  return {
    family: 'llama',
    vocabSize: vocab,
    hiddenSize: hidden,
    numLayers: layers,
    numHeads: heads,
    numKvHeads: num('num_key_value_heads') ?? heads,
    headDim: num('head_dim') ?? hidden / heads,
    intermediateSize: num('intermediate_size') ?? 4 * hidden,
    ropeTheta: num('rope_theta') ?? 10000,
    rmsNormEps: num('rms_norm_eps') ?? 1e-6,
    maxPositions: num('max_position_embeddings') ?? Number.MAX_SAFE_INTEGER,
    tieWordEmbeddings: c.tie_word_embeddings === true,
    maskTokenId: null,
    eosTokenIds: ids(c.eos_token_id),
    bosTokenId: num('bos_token_id') ?? null,
    padTokenId: num('pad_token_id') ?? null,
  };
}

export async function createTransformersEngine(opts: ArEngineOptions): Promise<Engine<ArGenerateOptions>> {
  const source = resolveSource(opts.modelDir);
  const tf = await import('@huggingface/transformers');
  const dtype = source.kind === 'folder' ? source.folder.meta.dtype : 'fp32';
  const sessionOptions = {
    graphOptimizationLevel: opts.session?.graphOptimization ?? 'all',
    ...(opts.session?.intraOpThreads ? { intraOpNumThreads: opts.session.intraOpThreads } : {}),
    ...(opts.session?.interOpThreads ? { interOpNumThreads: opts.session.interOpThreads } : {}),
    logSeverityLevel: 3 as const,
  };
  const load = (providers: string[]) => {
    const device = providers[0] as 'cpu' | 'cuda' | 'webgpu';
    if (source.kind === 'folder') {
      // A folder on disk never touches the network, whatever an earlier hub load left in the global env.
      tf.env.allowRemoteModels = false;
      tf.env.localModelPath = `${dirname(source.folder.dir)}/`;
      return tf.AutoModelForCausalLM.from_pretrained(basename(source.folder.dir), { dtype, device, session_options: sessionOptions });
    }
    tf.env.allowRemoteModels = true;
    return tf.AutoModelForCausalLM.from_pretrained(source.id, { dtype, device, session_options: sessionOptions }).finally(() => {
      tf.env.allowRemoteModels = false;
    });
  };
  let model: Model;
  let choice: DeviceChoice;
  try {
    ({ session: model, choice } = await withDevice(opts.device, load));
  } catch (err) {
    if (err instanceof UserError) throw err;
    const where = source.kind === 'hub' ? `${source.id}: not a folder on disk, and loading it from the Hugging Face hub failed` : `${opts.modelDir}: transformers.js could not load the model folder`;
    throw new UserError(`${where} (${errorMessage(err)})`);
  }
  const spec = source.kind === 'folder' ? source.folder.meta.spec : specFromHubConfig(source.id, model.config as unknown as Record<string, unknown>);
  const dtypeBytes = dtypeBytesOf(dtype);
  // transformers.js keeps present.* on the GPU only for WebGPU; on CUDA the whole cache round-trips every token.
  const copiesCache = choice.device === 'cuda';
  const handicaps = copiesCache ? [kvRoundTripHandicap(spec, dtypeBytes)] : [];
  const info: EngineInfo =
    source.kind === 'folder'
      ? localEngineInfo('ar', opts.modelDir, source.folder, choice, handicaps)
      : {
          kind: 'ar',
          model: source.id,
          family: 'llama',
          device: choice.device,
          executionProvider: choice.executionProviders[0]!,
          dtype,
          synthetic: false,
          handicaps,
          deviceNote: choice.note,
          eosTokenIds: spec.eosTokenIds,
          maxPositions: spec.maxPositions,
        };

  // One wrapped run() for the engine's lifetime; per-call hooks are swapped in and out by generate().
  const sessions = (model as unknown as { sessions: Record<string, RunnableSession> }).sessions;
  const decoder = sessions.model ?? sessions.decoder_model_merged ?? Object.values(sessions)[0];
  if (!decoder) throw new UserError(`${opts.modelDir}: transformers.js created no decoder session`);
  const innerRun = decoder.run.bind(decoder);
  let hooks: { onForward: (startMs: number, endMs: number) => void } | null = null;
  decoder.run = async (...args: unknown[]) => {
    const start = performance.now();
    const out = await innerRun(...args);
    hooks?.onForward(start, performance.now());
    return out;
  };
  let busy = false;

  async function generate(req: GenerateRequest, o: ArGenerateOptions): Promise<EngineResult> {
    const invalid = checkArRequest(spec, req);
    if (invalid) return { ok: false, error: invalid };
    if (busy) return { ok: false, error: { code: 'runtime', message: 'this engine is already generating; one generate() at a time' } };
    busy = true;
    const n = req.genLength;
    const padId = padIdOf(spec);
    const pad = leftPadBatch(req.prompts, padId);
    const B = pad.batch;
    const natural = o.mode === 'natural';
    const trace: ForwardTrace[] = [];
    const times: number[][] = Array.from({ length: B }, () => []);
    const done = new Array<boolean>(B).fill(false);
    let running = B;
    let forwardMs = 0;
    let prompted = false;
    if (o.shouldStop?.()) {
      busy = false;
      return ABORTED;
    }
    // Cancellation between forwards: a stopping criterion ends every row after the current step, without the
    // error (and transformers.js's dump of every input tensor) that failing a forward would cause.
    let stopped = false;
    const cancel = new (class extends tf.StoppingCriteria {
      override _call(inputIds: number[][]): boolean[] {
        stopped ||= o.shouldStop?.() === true;
        return inputIds.map(() => stopped);
      }
    })();
    const t0 = performance.now();
    hooks = {
      onForward: (start, end) => {
        forwardMs += end - start;
        // The streamer marks rows done after this forward's tokens, so `running` is the rows this forward serves.
        trace.push({ startMs: start - t0, durationMs: end - start, tokensCommitted: running });
      },
    };
    const streamer = {
      put(value: bigint[][]) {
        if (!prompted) {
          prompted = true; // generate() first puts the prompt itself
          return;
        }
        const now = performance.now() - t0;
        for (let b = 0; b < B; b++) {
          if (done[b]) continue;
          times[b]!.push(now);
          if (natural && spec.eosTokenIds.includes(Number(value[b]![0]))) {
            done[b] = true;
            running--;
          }
        }
      },
      end() {},
    };
    let sequences: bigint[][];
    try {
      const out = await model.generate({
        input_ids: new tf.Tensor('int64', pad.ids, [B, pad.width]),
        attention_mask: new tf.Tensor('int64', pad.mask, [B, pad.width]),
        max_new_tokens: n,
        // Plain greedy whatever a generation_config.json says: no sampling, beams or logit processors.
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
        eos_token_id: natural ? spec.eosTokenIds : [],
        pad_token_id: padId,
        streamer,
        stopping_criteria: [cancel],
      } as never);
      sequences = (out as { tolist(): bigint[][] }).tolist();
    } catch (err) {
      return { ok: false, error: runtimeError('transformers.js', err) };
    } finally {
      hooks = null;
      busy = false;
    }
    if (stopped) return ABORTED;
    const totalMs = performance.now() - t0;
    // Rows that finished early kept being decoded until the last one did: keep each row up to its first EOS.
    const tokens = sequences.map((row) => {
      const generated = row.slice(pad.width, pad.width + n).map(Number);
      const stop = natural ? firstStop(generated, spec.eosTokenIds) : -1;
      return stop < 0 ? generated : generated.slice(0, stop + 1);
    });
    return {
      ok: true,
      value: {
        tokens,
        usefulTokens: tokens.map((t) => firstStopIndex(t, spec.eosTokenIds)),
        trace,
        totalMs,
        forwardMs,
        tokenTimesMs: times.map((t, b) => t.slice(0, tokens[b]!.length)),
        hostDeviceBytesPerForward: copiesCache ? kvTraffic(spec, B, pad.width, trace.length, dtypeBytes).bytesPerForward : 0,
      },
    };
  }

  return {
    info,
    generate,
    dispose: async () => {
      await model.dispose();
    },
  };
}
