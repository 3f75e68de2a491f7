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
import { type EngineHandle, caseId, engineCall, measureCase } from './measure.js';
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
async function runCase(ctx: ScenarioContext, scenario: ScenarioKind, h: EngineHandle, rows: PreparedPrompt[][], extra: Partial<CaseParams> = {}, withQuality = false): Promise<CaseResult | null> {
  const c = ctx.config;
  const params: CaseParams = {
    batchSize: rows[0]!.length,
    promptTokens: Math.round(rows.reduce((a, r) => a + promptTokens(r), 0) / rows.length),
    genLength: c.genLength,
    ...(h.kind === 'llada' ? lladaParams(c) : {}),
    ...extra,
  };
  // The memory plan refuses a case that would not fit before it loads anything: recorded as skipped, the run goes on.
  const refused = ctx.admit?.(h, params) ?? null;
  if (refused) {
    ctx.skip?.({ id: caseId(scenario, h.kind, params, h.role), scenario, engine: h.kind, model: h.model, reason: refused });
    return null;
  }
  const call = engineCall(h, params, c.llada.seed);
  const result = await measureCase(ctx, { scenario, handle: h, params, requests: rows.map((r) => toRequest(r, c.genLength)), call });
  const suite = ctx.suites?.get(h);
  if (withQuality && suite && h.tokenizer && c.quality.perTask > 0 && result.state === 'completed') {
    const q = await measureQuality({ suite, perTask: c.quality.perTask, tokenizer: h.tokenizer, genLength: c.genLength, call, signal: ctx.signal, progress: (t) => ctx.progress(`${result.id} ${t}`) });
    if (q.ok) result.quality = q.quality;
    else if (!ctx.signal.aborted) ctx.warn({ code: 'quality-failed', message: `${result.id}: no quality recorded (${q.reason})` });
  }
  ctx.emit(result);
  return result;
}

/** throughput: the prompt set through every engine, batch size from the config, one request at a time. */
export async function throughput(ctx: ScenarioContext): Promise<ScenarioAnalysis> {
  const { batchSize, prompts: count } = ctx.config.throughput;
  for (const h of ctx.handles) {
    if (h.kind === 'openai') {
      for (const concurrency of ctx.config.http.concurrency) ctx.emit(await measureHttpLoad(ctx, h, concurrency));
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
      if (!r) continue;
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
      const r = await runCase(ctx, 'context', h, [[contextPrompt(ctx.set, h.tokenizer, n)]], h.tokenizer ? {} : { promptTokens: n });
      if (r) cases.push(r);
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

/** A scenario's analysis over several engines run one after another: each engine's figures side by side. */
export function mergeAnalyses(a: ScenarioAnalysis, b: ScenarioAnalysis): ScenarioAnalysis {
  const out: ScenarioAnalysis = { ...a };
  if (b.batchEfficiency) out.batchEfficiency = [...(a.batchEfficiency ?? []), ...b.batchEfficiency];
  if (b.costModels) out.costModels = [...(a.costModels ?? []), ...b.costModels];
  if (b.scaling) out.scaling = [...(a.scaling ?? []), ...b.scaling];
  return out;
}
