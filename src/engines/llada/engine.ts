/**
 * The diffusion engine on onnxruntime-node. The model's family adapter names its sampler: LLaDA's (here) or Dream's
 * (src/engines/dream/engine.ts, over the same session). LLaDA: each step is one full bidirectional forward over
 * prompt + generated region (as in the reference: no KV cache); the graph's fused head returns x0 and its confidence
 * for the generated region only, so a step moves 12 bytes per generated position off the device instead of the logits.
 */
import { at, field } from '../../util/indexing.js';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { UserError } from '../../util/errors.js';
import { LLADA_ENTRY } from '../../models/compose.js';
import { IO } from '../../models/emit.js';
import { familyOf } from '../../models/families.js';
import { loadModelFolder, type ModelFolder } from '../../models/folder.js';
import { mulberry32 } from '../../util/random.js';
import { padIdOf } from '../../models/spec.js';
import { withDevice } from '../device.js';
import { type EntrySession, entrySession } from '../entries.js';
import { ForwardTimer } from '../forward.js';
import { localEngineInfo } from '../local-info.js';
import type { EngineLocation, LladaGenerateOptions } from '../options.js';
import { maskInPromptError, validateRequest } from '../request.js';
import { sessionOptions } from '../session.js';
import { ABORTED, type Engine, type EngineResult, completed, runtimeError } from '../types.js';
import { generateDream } from '../dream/engine.js';
import { generateCached } from './cached.js';
import { generateDeviceLoop } from './device-loop.js';
import { selectPositions, stepNoiseSeed, transferSchedule, validateLladaOptions } from './sampler.js';

export type { LladaGenerateOptions, StepEvent } from '../options.js';

export async function createLladaEngine(opts: EngineLocation): Promise<Engine<LladaGenerateOptions>> {
  const folder = loadModelFolder(opts.modelDir);
  if (folder.meta.graph !== 'diffusion') {
    throw new UserError(`${opts.modelDir}: a ${folder.meta.family} autoregressive model; the diffusion engine needs a diffusion model folder`);
  }
  const decoding = familyOf(folder.meta.family).decoding ?? { sampler: 'llada' };
  const file = folder.meta.entriesOnnxFile;
  if (!file) throw new UserError(`${opts.modelDir}: the model folder has no decoding-modes graph; rebuild it`);
  // One session over every decoding mode (src/models/compose.ts): the weights are in memory once.
  const { session, choice } = await withDevice(opts.device, (providers) =>
    ort.InferenceSession.create(join(folder.dir, file), sessionOptions(opts.session, providers)),
  );
  const info = { ...localEngineInfo('llada', opts.modelDir, folder, choice), sampler: decoding.sampler };
  const modes: Modes = {
    forward: entrySession(session, LLADA_ENTRY.forward),
    cached: entrySession(session, LLADA_ENTRY.cached),
    blockLoop: entrySession(session, LLADA_ENTRY.blockLoop),
  };
  return {
    info,
    generate: (request, options) =>
      decoding.sampler === 'dream'
        ? checked(folder, request.prompts, request.genLength, options, () => generateDream(modes, folder.meta.spec, choice.device, request.prompts, request.genLength, options, decoding))
        : generate(modes, folder, choice.device, request.prompts, request.genLength, options),
    dispose: () => session.release(),
  };
}

interface Modes {
  forward: EntrySession;
  cached: EntrySession;
  blockLoop: EntrySession;
}

async function generate(
  modes: Modes,
  folder: ModelFolder,
  device: string,
  prompts: number[][],
  genLength: number,
  o: LladaGenerateOptions,
): Promise<EngineResult> {
  return checked(folder, prompts, genLength, o, () => generateLlada(modes, folder, device, prompts, genLength, o));
}

/** The checks either sampler needs before any work: options, request size, a mask id absent from the prompts. */
async function checked(folder: ModelFolder, prompts: number[][], genLength: number, o: LladaGenerateOptions, run: () => Promise<EngineResult>): Promise<EngineResult> {
  const spec = folder.meta.spec;
  const invalid = validateLladaOptions(genLength, o);
  if (invalid) return { ok: false, error: { code: 'invalid-options', message: invalid } };
  const badRequest = validateRequest({ prompts, genLength }, spec.maxPositions);
  if (badRequest) return { ok: false, error: badRequest };
  const maskId = spec.maskTokenId;
  if (maskId === null) return { ok: false, error: { code: 'model', message: 'the model has no mask token id' } };
  const withMask = maskInPromptError(prompts, maskId);
  if (withMask) return { ok: false, error: { code: 'invalid-options', message: withMask } };
  return run();
}

async function generateLlada(
  modes: Modes,
  folder: ModelFolder,
  device: string,
  prompts: number[][],
  genLength: number,
  o: LladaGenerateOptions,
): Promise<EngineResult> {
  const spec = folder.meta.spec;
  const maskId = spec.maskTokenId!;
  const P = Math.max(...prompts.map((p) => p.length));
  const L = P + genLength;

  const B = prompts.length;
  const cfg = o.cfgScale > 0;
  const rows = cfg ? 2 * B : B;
  const padId = BigInt(padIdOf(spec));
  const mask64 = BigInt(maskId);
  const ids = new BigInt64Array(rows * L);
  const attn = new BigInt64Array(rows * L);
  const pos = new BigInt64Array(rows * L);
  for (let r = 0; r < rows; r++) {
    const prompt = at(prompts, r % B, 'prompts');
    const pad = P - prompt.length;
    for (let t = 0; t < L; t++) {
      const i = r * L + t;
      pos[i] = BigInt(t); // the reference's positions: 0..L-1 whatever the padding
      attn[i] = t < pad ? 0n : 1n;
      if (t >= P) ids[i] = mask64;
      else if (r >= B) ids[i] = mask64; // CFG's unconditional copy: the whole prompt region masked
      else ids[i] = t < pad ? padId : BigInt(at(prompt, t - pad, 'prompt'));
    }
  }
  if ((o.cache ?? 'none') !== 'none') {
    const mode = o.freshCache ? 'fresh' : o.cache === 'prefix' ? 'prefix' : 'dual';
    const onHost = mode === 'fresh' || o.remasking === 'random' || o.cacheLoop === 'host';
    const canvas = { B, rows, P, L, genLength, ids, attn };
    return onHost ? generateCached(modes.cached, spec, device, canvas, { ...o, mode }) : generateDeviceLoop(modes.blockLoop, spec, device, canvas, { ...o, mode });
  }
  // Feeds are built once; committing a token writes into `ids` in place.
  const feeds: Record<string, ort.Tensor> = {
    [IO.inputIds]: new ort.Tensor('int64', ids, [rows, L]),
    [IO.attentionMask]: new ort.Tensor('int64', attn, [rows, L]),
    [IO.positionIds]: new ort.Tensor('int64', pos, [rows, L]),
    [IO.logitsStart]: new ort.Tensor('int64', BigInt64Array.from([BigInt(P)]), [1]),
    [IO.cfgScale]: new ort.Tensor('float32', Float32Array.from([o.cfgScale]), [1]),
    [IO.temperature]: new ort.Tensor('float32', Float32Array.from([o.temperature]), [1]),
  };
  const noiseSeed = BigInt64Array.from([0n]);
  feeds[IO.noiseSeed] = new ort.Tensor('int64', noiseSeed, [1]);
  const fetches = [IO.x0, IO.confidence];

  const x = new Int32Array(B * genLength).fill(maskId); // generated region per row
  const rand = o.remasking === 'random' ? mulberry32(o.seed + 1) : null;
  const randomConf = rand ? new Float32Array(B * genLength) : null;
  const blocks = genLength / o.blockLength;
  const stepsPerBlock = o.threshold === null ? o.steps / blocks : 0;
  const timer = new ForwardTimer();
  let step = 0;

  try {
    for (let blk = 0; blk < blocks; blk++) {
      const bs = blk * o.blockLength;
      const be = bs + o.blockLength;
      const maskedIn = (b: number) => {
        const c: number[] = [];
        for (let p = bs; p < be; p++) if (x[b * genLength + p] === maskId) c.push(p);
        return c;
      };
      const schedules = o.threshold === null ? prompts.map((_, b) => transferSchedule(maskedIn(b).length, stepsPerBlock)) : [];
      // Threshold mode stops when the block is full; the cap only guards against a model that predicts [MASK].
      const maxSteps = o.threshold === null ? stepsPerBlock : 4 * o.blockLength;
      for (let s = 0; s < maxSteps; s++) {
        const candidates = prompts.map((_, b) => maskedIn(b));
        if (o.threshold !== null && candidates.every((c) => c.length === 0)) break;
        if (o.shouldStop?.()) return ABORTED;
        noiseSeed[0] = BigInt(stepNoiseSeed(o.seed, step));
        const { out, commit } = await timer.time(() => modes.forward.run(feeds, fetches));
        const x0 = field(out, IO.x0, 'out').data as BigInt64Array;
        let conf = field(out, IO.confidence, 'out').data as Float32Array;
        if (randomConf && rand) {
          for (let i = 0; i < randomConf.length; i++) randomConf[i] = rand();
          conf = randomConf;
        }
        let committed = 0;
        for (let b = 0; b < B; b++) {
          const base = b * genLength;
          const k = o.threshold === null ? at(at(schedules, b, 'schedules'), s, 'schedules[b]') : { threshold: o.threshold };
          for (const p of selectPositions(at(candidates, b, 'candidates'), (q) => at(conf, base + q, 'conf'), k)) {
            const tok = at(x0, base + p, 'x0');
            x[base + p] = Number(tok);
            ids[b * L + P + p] = tok;
            if (cfg) ids[(B + b) * L + P + p] = tok;
            committed++;
          }
        }
        commit(committed);
        o.onStep?.({ step, block: blk, tokens: rowsOf(x, B, genLength), committed, maskId });
        step++;
      }
    }
  } catch (err) {
    return runtimeError('onnxruntime', err);
  }
  return completed(rowsOf(x, B, genLength), spec.eosTokenIds, timer.timing(), {
    // On a GPU every step uploads ids/mask/positions and downloads x0 + confidence; nothing else crosses.
    hostDeviceBytesPerForward: device === 'cpu' ? 0 : rows * L * 8 * 3 + B * genLength * 12,
  });
}

function rowsOf(x: Int32Array, B: number, n: number): number[][] {
  return Array.from({ length: B }, (_, b) => Array.from(x.subarray(b * n, (b + 1) * n)));
}
