/**
 * The four scenarios. Each runs the same prompts through every engine (a grid of cases), emits each case as soon
 * as it is measured (so an interrupted run keeps it) and returns its scenario-level analysis.
 */
import type { RunConfig } from '../config/schema.js';
import { positionsError } from '../engines/request.js';
import { fitCostModels } from '../results/cost-model.js';
import type { BatchEfficiency, CaseParams, CaseResult, ScenarioAnalysis, ScenarioKind } from '../results/types.js';
import { batchEfficiencyOf } from './batch-efficiency.js';
import type { ScenarioContext } from './context.js';
import { type EngineCall, type EngineHandle, engineCall, measureCase } from './measure.js';
import { measureHttpLoad } from './http.js';
import { measureQuality } from './quality.js';
import { type PreparedPrompt, contextPrompt, pick, promptTokens, toRequest } from './prompts.js';

export type { ScenarioContext } from './context.js';

type LladaParams = Pick<CaseParams, 'steps' | 'blockLength' | 'threshold' | 'cfgScale' | 'temperature' | 'remasking' | 'cache'>;

function lladaParams(c: RunConfig, over: Partial<LladaParams> = {}): LladaParams {
  return {
    steps: c.llada.steps,
    blockLength: Math.min(c.llada.blockLength, c.genLength),
    threshold: c.llada.threshold,
    cfgScale: c.llada.cfgScale,
    temperature: c.llada.temperature,
    remasking: c.llada.remasking,
    cache: c.llada.cache,
    ...over,
  };
}

/** Quality is measured for throughput and steps cases of engines whose model has held-out tasks. */
async function runCase(ctx: ScenarioContext, scenario: ScenarioKind, h: EngineHandle, rows: PreparedPrompt[][], extra: Partial<CaseParams> = {}, withQuality = false): Promise<CaseResult> {
  const c = ctx.config;
  const params: CaseParams = {
    batchSize: rows[0]!.length,
    promptTokens: Math.round(rows.reduce((a, r) => a + promptTokens(r), 0) / rows.length),
    genLength: c.genLength,
    ...(h.kind === 'llada' ? lladaParams(c) : {}),
    ...extra,
  };
  const call = engineCall(h, params, c.llada.seed);
  const result = await measureCase(ctx, { scenario, handle: h, params, requests: rows.map((r) => toRequest(r, c.genLength)), call });
  if (withQuality) await addQuality(ctx, h, result, call);
  ctx.emit(result);
  return result;
}

/**
 * The call quality decodes use: the case's own, except that HTTP engines honour EOS (not fixed length) and, on GSM8K,
 * local AR engines stop at EOS (natural length, as lm-eval's generate_until does; stop strings are cut afterwards).
 */
function qualityCallOf(h: EngineHandle, call: EngineCall, gsm8k: boolean): EngineCall {
  switch (h.kind) {
    case 'openai':
      return (request, signal) => h.engine.generate(request, { signal, ignoreEos: false });
    case 'ar':
    case 'ar-ort':
    case 'ar-loop':
      return gsm8k ? (request) => h.engine.generate(request, { mode: 'natural' }) : call;
    default:
      return call;
  }
}

/**
 * Scores a completed case on the run's task suite for its engine (when it has one), decoding with the case's own
 * call; an interrupted pass keeps the items it decoded. HTTP engines answer with EOS honoured (not fixed length).
 */
async function addQuality(ctx: ScenarioContext, h: EngineHandle, result: CaseResult, call: EngineCall): Promise<void> {
  const c = ctx.config;
  const suite = ctx.suites?.get(h);
  if (!suite || result.state !== 'completed') return;
  if (c.quality.limit === undefined && c.quality.perTask === 0) return;
  if (!h.tokenizer && h.kind !== 'openai') return;
  const qualityCall = qualityCallOf(h, call, suite.kind === 'gsm8k');
  const q = await measureQuality({
    suite,
    perTask: c.quality.perTask,
    ...(c.quality.limit !== undefined ? { limit: c.quality.limit } : {}),
    tokenizer: h.tokenizer,
    chat: c.chatTemplate,
    batchSize: c.quality.batchSize,
    eosTokenIds: h.info.eosTokenIds,
    genLength: c.genLength,
    call: qualityCall,
    signal: ctx.signal,
    progress: (t) => ctx.progress(`${result.id} ${t}`),
  });
  if (q.ok) {
    result.quality = q.quality;
    if (q.quality.interrupted) ctx.warn({ code: 'quality-failed', message: `${result.id}: quality pass interrupted after ${q.quality.items} of ${q.quality.planned} items (accuracy over those)` });
  } else if (!ctx.signal.aborted) ctx.warn({ code: 'quality-failed', message: `${result.id}: no quality recorded (${q.reason})` });
}

/** throughput: the prompt set through every engine, batch size from the config, one request at a time. */
export async function throughput(ctx: ScenarioContext): Promise<ScenarioAnalysis> {
  const { batchSize, prompts: count } = ctx.config.throughput;
  for (const h of ctx.handles) {
    if (h.kind === 'openai') {
      // The suite's quality is decoded once per server, with the first (lowest) concurrency's case.
      for (const [i, concurrency] of ctx.config.http.concurrency.entries()) {
        const r = await measureHttpLoad(ctx, h, concurrency);
        if (i === 0) await addQuality(ctx, h, r, engineCall(h, r.params, ctx.config.llada.seed));
        ctx.emit(r);
      }
      continue;
    }
    const all = ctx.prompts.get(h)!;
    const rows = Array.from({ length: count }, (_, i) => pick(all, batchSize, i * batchSize));
    await runCase(ctx, 'throughput', h, rows, {}, true);
  }
  return {};
}

/**
 * batch: throughput per batch size over the same prompts. B=1 sends prompts 0..maxB-1 one at a time; batch size B
 * sends prompts 0..B-1 as the rows of one request; efficiency at B compares it with the first B of the B=1 requests.
 */
export async function batch(ctx: ScenarioContext): Promise<ScenarioAnalysis> {
  const sizes = [...new Set([1, ...ctx.config.batch.batchSizes])].sort((a, b) => a - b);
  const maxB = sizes.at(-1)!;
  const byEngine = new Map<EngineHandle, Map<number, CaseResult>>();
  for (const B of sizes) {
    for (const h of ctx.handles) {
      const all = ctx.prompts.get(h)!;
      const rows = B === 1 ? Array.from({ length: maxB }, (_, i) => pick(all, 1, i)) : [pick(all, B)];
      const r = await runCase(ctx, 'batch', h, rows);
      if (!byEngine.has(h)) byEngine.set(h, new Map());
      byEngine.get(h)!.set(B, r);
    }
  }
  const efficiency: BatchEfficiency[] = [];
  for (const m of byEngine.values()) {
    const one = m.get(1);
    if (!one) continue;
    for (const [B, r] of m) {
      const e = B > 1 ? batchEfficiencyOf(one, r, B) : null;
      if (e) efficiency.push(e);
    }
  }
  return { batchEfficiency: efficiency };
}

/**
 * context: exact prompt lengths; cost models c0 + c1·L + c2·L² for AR prefill, AR decode per token and a diffusion
 * step (src/results/cost-model.ts), fitted over every repetition of every length.
 */
export async function context(ctx: ScenarioContext): Promise<ScenarioAnalysis> {
  const c = ctx.config;
  const cases: CaseResult[] = [];
  for (const n of [...c.context.promptLengths].sort((a, b) => a - b)) {
    for (const h of ctx.handles) {
      const max = h.info.maxPositions;
      if (max !== undefined && positionsError(n, c.genLength, max)) {
        ctx.warn({ code: 'context-too-long', message: `context ${n} + gen ${c.genLength} exceeds ${h.kind}'s maximum length ${max}: skipped for ${h.kind}` });
        continue;
      }
      // Without a tokenizer (HTTP-only runs) the prompt is ~n tokens of text: record the length asked for, so case
      // ids stay unique and a reader knows the length probed.
      cases.push(await runCase(ctx, 'context', h, [[contextPrompt(ctx.set, h.tokenizer, n)]], h.tokenizer ? {} : { promptTokens: n }));
    }
  }
  return { costModels: fitCostModels(cases) };
}

/**
 * steps: the speed-quality frontier. Every diffusion setting (cache mode x steps x threshold) with its tokens/s, NFE
 * and (models with held-out tasks) accuracy; the AR engines as the reference point.
 */
export async function steps(ctx: ScenarioContext): Promise<ScenarioAnalysis> {
  const c = ctx.config;
  const count = Math.min(c.throughput.prompts, 2);
  for (const h of ctx.handles) {
    const rows = Array.from({ length: count }, (_, i) => pick(ctx.prompts.get(h)!, 1, i));
    if (h.kind !== 'llada') {
      if (h.kind !== 'openai') await runCase(ctx, 'steps', h, rows, {}, true);
      continue;
    }
    // The ladder from the reference sampler to Fast-dLLM's fastest setting: cache mode x steps x threshold.
    for (const cache of c.steps.caches) {
      for (const s of c.steps.steps) await runCase(ctx, 'steps', h, rows, { steps: s, threshold: null, cache }, true);
      for (const t of c.steps.thresholds) await runCase(ctx, 'steps', h, rows, { threshold: t, steps: undefined, cache }, true);
    }
  }
  return {};
}

export const SCENARIO_RUNNERS: Record<ScenarioKind, (ctx: ScenarioContext) => Promise<ScenarioAnalysis>> = {
  throughput,
  batch,
  context,
  steps,
};
