/** `dllm-bench generate`: prompts as one left-padded batch, the engine the folder implies, live denoising view on a TTY. */
import { readFileSync } from 'node:fs';
import chalk from 'chalk';
import { UserError } from '../util/errors.js';
import { decodeUtf8 } from '../util/fs.js';
import { isInteractive } from '../util/color.js';
import { stepsOverGenLength } from './check-config.js';
import { validateLladaOptions, DEFAULT_LLADA_OPTIONS, type CacheMode, type LladaOptions } from '../engines/llada/sampler.js';
import type { StepEvent } from '../engines/llada/engine.js';
import { maskInPromptError, positionsError } from '../engines/request.js';
import { spawnTagged } from '../engines/worker/client.js';
import type { DeviceRequest, EngineResult } from '../engines/types.js';
import { loadVerifiedModelFolder } from '../models/folder.js';
import { type SideOrFamily, isPresetName, resolveHubModel, resolveModelRef } from '../models/cache.js';
import { NoSafetensorsError } from '../models/hub-download.js';
import { isHubId, openModel } from '../models/hub.js';
import { familyOf } from '../models/families.js';
import { byteSize } from '../util/format.js';
import { heldoutFileFor } from '../quality/suite.js';
import { normalizeAnswer } from '../quality/tasks.js';
import { type PromptTokenizer, loadTokenizer } from '../models/tokenize.js';
import { at } from '../util/indexing.js';

export interface GenerateFlags {
  model: string;
  /** Repeatable: every --prompt, then every --prompt-ids, then the file's prompts form one batch. */
  prompt?: string[];
  promptIds?: number[][];
  promptsFile?: string;
  raw?: boolean;
  genLength: number;
  steps?: number;
  blockLength?: number;
  temperature: number;
  cfg: number;
  remasking: 'low_confidence' | 'random';
  threshold?: number;
  cache?: CacheMode;
  seed: number;
  maxNewTokens?: number;
  mode: 'fixed' | 'natural';
  engine: 'ar' | 'ar-ort' | 'ar-loop';
  device: DeviceRequest;
  threads?: number;
  json?: boolean;
  /** A preset names two models: which one (a side, or a family; default the diffusion side). */
  family?: SideOrFamily;
}

/** Redraws the answer in place: committed tokens as text, masked positions as dim blocks. */
function liveView(tokenizer: PromptTokenizer | null) {
  let lines = 0;
  const cols = process.stderr.columns || 80;
  return (e: StepEvent) => {
    const parts = at(e.tokens, 0, 'e.tokens').map((t) => (t === e.maskId ? chalk.dim('░') : tokenizer ? tokenizer.decode([t]).replace(/\n/g, '⏎') : `${t} `));
    const text = `${chalk.cyan(`step ${e.step + 1} block ${e.block + 1}`)} ${parts.join('')}`;
    const plainLen = text.replace(/\x1b\[[0-9;]*m/g, '').length;
    if (lines > 0) process.stderr.write(`\x1b[${lines}F\x1b[J`);
    process.stderr.write(`${text}\n`);
    lines = Math.max(1, Math.ceil(plainLen / cols));
  };
}

export async function generateCommand(f: GenerateFlags): Promise<number> {
  const fileEntries = f.promptsFile === undefined ? [] : readPromptsFile(f.promptsFile);
  const entries: (string | number[])[] = [...(f.prompt ?? []), ...(f.promptIds ?? []), ...fileEntries];
  if (entries.length === 0) throw new UserError('give a prompt: --prompt TEXT, --prompt-ids 1,2,3 (both repeatable) or --prompts-file FILE');
  // A preset that `run` accepts works here too: built (or found) in the cache like `run` does, one side of it.
  let modelDir = f.model;
  if (isPresetName(f.model)) {
    const m = resolveModelRef(f.model, f.family ?? 'diffusion', { dtype: 'fp32', seed: 0 });
    if (m.built && !f.json) process.stderr.write(`${chalk.dim(`built preset ${f.model} (${m.family ?? '?'}) in ${m.buildSeconds.toFixed(1)} s -> ${m.dir}`)}\n`);
    modelDir = m.dir;
  } else if (f.family) throw new UserError('--family picks one model of a preset; a model folder or hub id has its own family');
  else if (isHubId(f.model)) modelDir = await resolveHub(f);
  const folder = await openModel(modelDir);
  // What is about to be loaded: the sizes and hashes recorded when the folder was built.
  if (!folder.hubId) loadVerifiedModelFolder(folder.dir);
  // A model with held-out tasks (the twins) is read as its checkers read an answer: up to the end token, no spaces.
  const suite = heldoutFileFor(f.model, folder.dir);
  if (folder.hubId && f.engine !== 'ar') throw new UserError(`--engine ${f.engine} needs a local model folder; a hub model runs on --engine ar (transformers.js)`);
  const diffusion = folder.meta.graph === 'diffusion';
  const genLength = diffusion ? f.genLength : (f.maxNewTokens ?? f.genLength);
  const llada: LladaOptions = {
    ...DEFAULT_LLADA_OPTIONS,
    steps: f.steps ?? genLength,
    blockLength: f.blockLength ?? genLength,
    temperature: f.temperature,
    cfgScale: f.cfg,
    remasking: f.remasking,
    threshold: f.threshold ?? null,
    seed: f.seed,
    cache: f.cache ?? 'none',
  };
  if (diffusion) {
    const bad = validateLladaOptions(genLength, llada) ?? (llada.threshold === null ? stepsOverGenLength(genLength, llada.steps) : null);
    if (bad) throw new UserError(bad);
  }
  const tokenizer = folder.meta.hasTokenizer ? await loadTokenizer(folder) : null;
  const spec = folder.meta.spec;
  const batch = entries.map((e, i) => {
    const name = entries.length > 1 ? `prompt ${i + 1}` : 'prompt';
    if (typeof e !== 'string') {
      const bad = e.find((t) => t >= spec.vocabSize);
      if (bad !== undefined) throw new UserError(`--prompt-ids: token id ${bad} is outside the vocabulary (size ${spec.vocabSize})`);
      if (e.length === 0) throw new UserError(`${name} is empty`);
      return e;
    }
    if (!tokenizer) throw new UserError(`${f.model}: no tokenizer files; use --prompt-ids`);
    return tokenizer.encode(e, !f.raw);
  });
  // Bad input is refused before any engine starts.
  const withMask = diffusion && spec.maskTokenId !== null ? maskInPromptError(batch, spec.maskTokenId) : null;
  if (withMask) throw new UserError(withMask);
  const longest = Math.max(...batch.map((p) => p.length));
  const tooLong = positionsError(longest, genLength, spec.maxPositions);
  if (tooLong) throw new UserError(tooLong);
  const texts = entries.every((e) => typeof e === 'string') ? (entries as string[]) : undefined;
  const kind = diffusion ? 'llada' : f.engine;
  const tagged = await spawnTagged({ kind, modelDir: folder.dir, device: f.device, session: f.threads ? { intraOpThreads: f.threads } : undefined });
  const { engine } = tagged;
  if (!f.json && engine.info.deviceNote) process.stderr.write(`${chalk.dim(engine.info.deviceNote)}\n`);
  const request = { prompts: batch, genLength, promptTexts: texts };
  let r: EngineResult;
  try {
    if (tagged.kind === 'llada') {
      const live = !f.json && isInteractive() ? liveView(tokenizer) : undefined;
      r = await tagged.engine.generate(request, { ...llada, onStep: live });
    } else {
      r = await tagged.engine.generate(request, { mode: f.mode });
    }
  } finally {
    await engine.dispose();
  }
  if (!r.ok) throw new UserError(`generation failed: ${r.error.message}`);
  const v = r.value;
  const text = v.tokens.map((t) => (tokenizer ? tokenizer.decode(t) : ''));
  const answers = v.tokens.map((t, i) => {
    const useful = t.slice(0, v.usefulTokens[i]);
    if (!tokenizer) return useful.join(',');
    const decoded = tokenizer.decode(useful);
    return suite ? normalizeAnswer(decoded) : decoded;
  });
  const padding = v.tokens.map((t, i) => t.length - at(v.usefulTokens, i, 'v.usefulTokens'));
  const generated = v.tokens.reduce((a, t) => a + t.length, 0);
  const out = {
    schemaVersion: 1,
    model: folder.dir,
    engine: kind,
    ...(engine.info.sampler ? { sampler: engine.info.sampler } : {}),
    family: folder.meta.family,
    device: engine.info.device,
    executionProvider: engine.info.executionProvider,
    promptTokens: batch.length === 1 ? at(batch, 0, 'batch').length : longest,
    batchSize: batch.length,
    tokens: v.tokens,
    text,
    answer: answers,
    paddingTokens: padding,
    usefulTokens: v.usefulTokens,
    nfe: v.trace.length,
    totalMs: v.totalMs,
    forwardMs: v.forwardMs,
    tokensPerSec: generated / (v.totalMs / 1000),
    ...(v.tokenTimesMs ? { ttftMs: v.tokenTimesMs[0]?.[0] ?? null } : {}),
    // Diffusion: the run-wide settings, and the family's own sampler settings (Dream: alg, alg_temp, eps, top_p, top_k).
    options: diffusion ? { decoding: familyOf(folder.meta.family).decoding, genLength, steps: llada.steps, blockLength: llada.blockLength, temperature: llada.temperature, cfgScale: llada.cfgScale, remasking: llada.remasking, threshold: llada.threshold, seed: llada.seed, cache: llada.cache } : { maxNewTokens: genLength, mode: f.mode },
  };
  if (f.json) {
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    // The answer on stdout; how many end-of-answer tokens filled the rest of the positions, said once on stderr.
    for (const a of answers) process.stdout.write(`${a}\n`);
    const padded = padding.filter((n) => n > 0);
    if (padded.length) {
      process.stderr.write(chalk.dim(`${batch.length > 1 ? `${padded.length} of ${batch.length} answers` : 'the answer'} ended at an end token; ${padding.reduce((a, b) => a + b, 0)} end/padding token(s) after ${batch.length > 1 ? 'them' : 'it'} not shown (--json: tokens, text)\n`));
    }
    process.stderr.write(
      chalk.dim(`${kind}${engine.info.sampler ? ` (${engine.info.sampler} sampler)` : ''} on ${engine.info.device}: ${generated} tokens, ${v.trace.length} forward passes, ${v.totalMs.toFixed(1)} ms (${out.tokensPerSec.toFixed(1)} tok/s)\n`),
    );
  }
  return 0;
}

/**
 * A hub id, as `run` takes it: the snapshot from the Hugging Face cache (downloaded into it when missing, with
 * progress on stderr), converted once into the dllm-bench cache. A repository without safetensors (an ONNX export)
 * still runs on --engine ar, which loads the export itself.
 */
async function resolveHub(f: GenerateFlags): Promise<string> {
  try {
    const m = await resolveHubModel(f.model, null, {
      dtype: 'fp32',
      onProgress: (p) => {
        if (f.json || !p.done) return;
        process.stderr.write(`${chalk.dim(`downloaded ${f.model} ${p.file}: ${byteSize(p.bytes)}, ${byteSize(p.bytesPerSecond)}/s`)}\n`);
      },
    });
    if (m.built && !f.json) process.stderr.write(`${chalk.dim(`converted ${f.model} (${m.family}, commit ${m.commit.slice(0, 12)}) in ${m.buildSeconds.toFixed(1)} s -> ${m.dir}`)}\n`);
    return m.dir;
  } catch (err) {
    if (err instanceof NoSafetensorsError && f.engine === 'ar') return f.model;
    throw err;
  }
}

/** --prompts-file: a JSON array whose entries are prompt texts or arrays of token ids. */
function readPromptsFile(file: string): (string | number[])[] {
  let v: unknown;
  try {
    v = JSON.parse(decodeUtf8(readFileSync(file), `--prompts-file ${file}`));
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`--prompts-file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'not valid JSON'}`);
  }
  const ok = (e: unknown) => typeof e === 'string' || (Array.isArray(e) && e.every((t) => Number.isInteger(t) && t >= 0));
  if (!Array.isArray(v) || v.length === 0 || !v.every(ok)) {
    throw new UserError(`--prompts-file ${file}: expected a non-empty JSON array of prompt texts or arrays of token ids`);
  }
  return v as (string | number[])[];
}
