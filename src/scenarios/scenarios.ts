/**
 * The four scenarios. Each runs the same prompts through every engine (a grid of cases), emits each case as soon
 * as it is measured (so an interrupted run keeps it) and returns its scenario-level analysis.
 */
import type { RunConfig } from '../config/schema.js';
import { positionsError } from '../engines/request.js';
import { fitCostModels } from '../results/cost-model.js';
import type { BatchEfficiency, CaseParams, CaseResult, CompletedCase, ScenarioAnalysis, ScenarioKind, Warning } from '../results/types.js';
import { welchDifferenceCi } from '../stats/index.js';
import { fmt } from '../util/format.js';
import { batchEfficiencyOf } from './batch-efficiency.js';
import type { ScenarioContext } from './context.js';
import { type CaseRun, type EngineCall, type EngineHandle, type SamplingPolicy, AbortedError, caseId, engineCall, measureGroup } from './measure.js';
import { measureHttpLoad } from './http.js';
import { measureQuality } from './quality.js';
import { type PreparedPrompt, contextPrompt, pick, promptTokens, toRequest } from './prompts.js';
import { at } from '../util/indexing.js';

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

/** One case to measure: its run and whether its quality is decoded afterwards. */
interface CasePlan {
  run: CaseRun;
  withQuality: boolean;
  /** Engine settings and prompts: equal keys on one engine are the same case, whatever the scenario. */
  key: string;
}

/** Quality is measured for throughput and steps cases of engines whose model has held-out tasks. */
function plan(ctx: ScenarioContext, scenario: ScenarioKind, h: EngineHandle, rows: PreparedPrompt[][], extra: Partial<CaseParams> = {}, withQuality = false): CasePlan | null {
  const c = ctx.config;
  const params: CaseParams = {
    batchSize: at(rows, 0, 'rows').length,
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
  const requests = rows.map((r) => toRequest(r, c.genLength, h.promptAs === 'ids'));
  const key = JSON.stringify([params, c.llada.seed, requests.map((r) => [r.prompts, r.genLength])]);
  // Quality is decoded in the first pass over the engines only: decoding is deterministic, the answers would repeat.
  return { run: { scenario, handle: h, params, requests, call }, withQuality: withQuality && !laterPass(ctx), key };
}

/**
 * Cases measured so far in this run, per engine (handles live for one run), by settings key: a case another
 * scenario runs again with identical settings is checked against them, and claims pool the two.
 */
const measuredBefore = new WeakMap<EngineHandle, Map<string, CompletedCase[]>>();

/** The sampling policy of the run's config. */
export function samplingPolicy(c: RunConfig): SamplingPolicy {
  const s = c.sampling;
  return { minTimeMs: s.minTimeSec * 1000, maxRepetitions: s.maxRepetitions, order: s.order, seed: s.seed, maxRelativeSpread: s.maxRelativeSpread };
}

/** A pass over the engines after the first (sampling.passes > 1): its cases merge into the first pass's. */
const laterPass = (ctx: { pass?: { index: number } }) => (ctx.pass?.index ?? 0) > 0;

/** Whether two measurements of one case agree: their tokens/s difference's 95% interval contains 0 (null: no interval). */
function agreement(r: CompletedCase, e: CompletedCase): boolean | null {
  const a = r.summary.tokensPerSec;
  const b = e.summary.tokensPerSec;
  const ci = a && b ? welchDifferenceCi(a, b) : null;
  return ci ? ci[0] <= 0 && ci[1] >= 0 : null;
}

function disagreement(r: CompletedCase, e: CompletedCase): Warning {
  return {
    code: 'case-disagreement',
    message:
      `${r.id} and ${e.id} are the same case (engine, settings, prompts) but measured ${fmt(r.summary.tokensPerSec?.mean, 1)} and ${fmt(e.summary.tokensPerSec?.mean, 1)} tokens/s, apart beyond their 95% intervals: ` +
      'the machine\'s speed changed between them (other load, frequency scaling); claims pool both; rerun on a quieter machine or with a longer --min-time',
  };
}

/**
 * Links a case to its earlier identical cases, each way, warning when their tokens/s disagree beyond their intervals.
 * With several passes the links are made in the first and judged once all passes are merged (relinkSameSettings).
 */
function linkSameSettings(ctx: ScenarioContext, r: CompletedCase, earlier: CompletedCase[]): void {
  if (laterPass(ctx)) return;
  for (const e of earlier) {
    const agree = agreement(r, e);
    r.sameSettingsAs = [...(r.sameSettingsAs ?? []), { caseId: e.id, agree }];
    e.sameSettingsAs = [...(e.sameSettingsAs ?? []), { caseId: r.id, agree }];
    if (agree === false && !ctx.pass) ctx.warn(disagreement(r, e));
  }
}

/** After the last pass: every link's agreement judged again on the merged cases, one warning per disagreeing pair. */
export function relinkSameSettings(cases: readonly CaseResult[], warn: (w: Warning) => void): void {
  const byId = new Map(cases.filter((c): c is CompletedCase => c.state === 'completed').map((c) => [c.id, c]));
  const said = new Set<string>();
  for (const r of byId.values()) {
    if (!r.sameSettingsAs) continue;
    r.sameSettingsAs = r.sameSettingsAs.map((link) => {
      const e = byId.get(link.caseId);
      const agree = e ? agreement(r, e) : link.agree;
      const pair = [r.id, link.caseId].sort().join('|');
      if (e && agree === false && !said.has(pair)) {
        said.add(pair);
        warn(disagreement(r, e));
      }
      return { ...link, agree };
    });
  }
}

/**
 * A scenario's analysis from its cases as they stand (after the last pass, every pass's repetitions in): batch
 * efficiency per engine and batch size, the context cost models; other figures kept from `previous`.
 */
export function analysisOf(kind: ScenarioKind, cases: readonly CaseResult[], previous: ScenarioAnalysis): ScenarioAnalysis {
  if (kind === 'context') return { ...previous, costModels: fitCostModels(cases) };
  if (kind !== 'batch') return previous;
  const efficiency: BatchEfficiency[] = [];
  const sides = new Map<string, CaseResult[]>();
  for (const c of cases) sides.set(`${c.engine}|${c.role ?? ''}|${c.model}`, [...(sides.get(`${c.engine}|${c.role ?? ''}|${c.model}`) ?? []), c]);
  for (const side of sides.values()) {
    const one = side.find((c) => c.params.batchSize === 1);
    if (!one) continue;
    for (const r of side) {
      const e = r.params.batchSize > 1 ? batchEfficiencyOf(one, r, r.params.batchSize) : null;
      if (e) efficiency.push(e);
    }
  }
  return { ...previous, batchEfficiency: efficiency };
}

/**
 * Measures the plans, the cases of each engine together (interleaved: see measureGroup), and emits the cases in
 * plan order, each as soon as it and those before it are done (with its quality). Ctrl-C emits every case
 * finished or interrupted. Returns the results in plan order.
 */
async function runPlans(ctx: ScenarioContext, plans: CasePlan[]): Promise<CaseResult[]> {
  const c = ctx.config;
  const mctx = { ...ctx, sampling: ctx.sampling ?? samplingPolicy(c) };
  const byHandle = new Map<EngineHandle, CasePlan[]>();
  for (const p of plans) byHandle.set(p.run.handle, [...(byHandle.get(p.run.handle) ?? []), p]);
  const results = new Map<CasePlan, CaseResult>();
  let emitted = 0;
  const flush = (all = false) => {
    for (; emitted < plans.length; emitted++) {
      const r = results.get(at(plans, emitted, 'plans'));
      if (r) ctx.emit(r);
      else if (!all) break;
    }
  };
  try {
    await measureHandles(ctx, mctx, byHandle, results, flush);
  } catch (err) {
    if (!(err instanceof AbortedError)) throw err;
    const owner = err.partial && plans.find((p) => !results.has(p) && caseId(p.run.scenario, p.run.handle.kind, p.run.params, p.run.handle.role) === err.partial!.id);
    if (owner) results.set(owner, err.partial!);
    flush(true);
    throw new AbortedError(owner ? undefined : err.partial);
  }
  return plans.map((p) => results.get(p)!);
}

async function measureHandles(ctx: ScenarioContext, mctx: ScenarioContext, byHandle: Map<EngineHandle, CasePlan[]>, results: Map<CasePlan, CaseResult>, flush: () => void): Promise<void> {
  for (const [h, group] of byHandle) {
    if (!measuredBefore.has(h)) measuredBefore.set(h, new Map());
    const before = measuredBefore.get(h)!;
    const planOf = new Map(group.map((p) => [caseId(p.run.scenario, h.kind, p.run.params, h.role), p]));
    const done = async (result: CaseResult) => {
      const p = planOf.get(result.id)!;
      if (result.state === 'completed') {
        const earlier = before.get(p.key) ?? [];
        const known = earlier.find((e) => e.quality)?.quality;
        if (p.withQuality && known) result.quality = known; // same settings, deterministic decoding: the same answers
        else if (p.withQuality) await addQuality(ctx, h, result, p.run.call);
        linkSameSettings(ctx, result, earlier.filter((e) => e.scenario !== result.scenario));
        before.set(p.key, [...earlier, result]);
      }
      results.set(p, result);
      flush();
    };
    await measureGroup(mctx, group.map((p) => p.run), done);
  }
}

/** One case, measured; null when the memory plan refused it (recorded as skipped). */
async function runCase(ctx: ScenarioContext, scenario: ScenarioKind, h: EngineHandle, rows: PreparedPrompt[][], extra: Partial<CaseParams> = {}, withQuality = false): Promise<CaseResult | null> {
  const p = plan(ctx, scenario, h, rows, extra, withQuality);
  if (!p) return null;
  const [r] = await runPlans(ctx, [p]);
  return r ?? null;
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
  } else {
    // An interrupt during the decodes keeps the timed case, and says why it has no quality.
    ctx.warn({ code: 'quality-failed', message: `${result.id}: no quality recorded (${ctx.signal.aborted ? 'interrupted during the held-out decodes' : q.reason})` });
  }
}

/** throughput: the prompt set through every engine, batch size from the config, one request at a time. */
export async function throughput(ctx: ScenarioContext): Promise<ScenarioAnalysis> {
  const { batchSize, prompts: count } = ctx.config.throughput;
  for (const h of ctx.handles) {
    const all = ctx.prompts.get(h)!;
    if (h.kind === 'openai') {
      // The same prompts as the local engines' throughput cases, cycled by the load runner.
      const same = pick(all, Math.min(all.length, count * batchSize));
      // The suite's quality is decoded once per server, with the first (lowest) concurrency's case.
      for (const [i, concurrency] of ctx.config.http.concurrency.entries()) {
        const r = await measureHttpLoad(ctx, h, same, { concurrency });
        if (i === 0 && !laterPass(ctx)) await addQuality(ctx, h, r, engineCall(h, r.params, ctx.config.llada.seed));
        ctx.emit(r);
      }
      for (const requestRate of ctx.config.http.requestRates ?? []) {
        if (ctx.signal.aborted) break;
        ctx.emit(await measureHttpLoad(ctx, h, same, { requestRate }));
      }
      continue;
    }
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
  const plans: CasePlan[] = [];
  for (const B of sizes) {
    for (const h of ctx.handles) {
      const all = ctx.prompts.get(h)!;
      const rows = B === 1 ? Array.from({ length: maxB }, (_, i) => pick(all, 1, i)) : [pick(all, B)];
      const p = plan(ctx, 'batch', h, rows);
      if (p) plans.push(p);
    }
  }
  // Batch efficiency per engine at each B against its B=1 case (the same computation the last pass makes).
  const { batchEfficiency = [] } = analysisOf('batch', await runPlans(ctx, plans), {});
  return { batchEfficiency };
}

/**
 * context: exact prompt lengths; cost models c0 + c1·L + c2·L² for AR prefill, AR decode per token and a diffusion
 * step (src/results/cost-model.ts), fitted over every repetition of every length.
 */
export async function context(ctx: ScenarioContext): Promise<ScenarioAnalysis> {
  const c = ctx.config;
  const plans: CasePlan[] = [];
  for (const n of [...c.context.promptLengths].sort((a, b) => a - b)) {
    for (const h of ctx.handles) {
      const max = h.info.maxPositions;
      if (max !== undefined && positionsError(n, c.genLength, max)) {
        ctx.warn({ code: 'context-too-long', message: `context ${n} + gen ${c.genLength} exceeds ${h.kind}'s maximum length ${max}: skipped for ${h.kind}` });
        continue;
      }
      // Without a tokenizer (HTTP-only runs) the prompt is ~n tokens of text: record the length asked for, so case
      // ids stay unique and a reader knows the length probed.
      const p = plan(ctx, 'context', h, [[contextPrompt(ctx.set, h.tokenizer, n)]], h.tokenizer ? {} : { promptTokens: n });
      if (p) plans.push(p);
    }
  }
  return analysisOf('context', await runPlans(ctx, plans), {});
}

/**
 * steps: the speed-quality frontier. Every diffusion setting (cache mode x steps x threshold) with its tokens/s, NFE
 * and (models with held-out tasks) accuracy; the AR engines as the reference point.
 */
export async function steps(ctx: ScenarioContext): Promise<ScenarioAnalysis> {
  const c = ctx.config;
  // The throughput scenario's prompts (at batch 1): a setting both scenarios run is the same case, checked and pooled.
  const count = c.throughput.prompts;
  const plans: CasePlan[] = [];
  const add = (p: CasePlan | null) => {
    if (p) plans.push(p);
  };
  for (const h of ctx.handles) {
    const rows = Array.from({ length: count }, (_, i) => pick(ctx.prompts.get(h)!, 1, i));
    if (h.kind !== 'llada') {
      if (h.kind !== 'openai') add(plan(ctx, 'steps', h, rows, {}, true));
      continue;
    }
    // The ladder from the reference sampler to Fast-dLLM's fastest setting: cache mode x steps x threshold.
    for (const cache of c.steps.caches) {
      for (const s of c.steps.steps) add(plan(ctx, 'steps', h, rows, { steps: s, threshold: null, cache }, true));
      for (const t of c.steps.thresholds) add(plan(ctx, 'steps', h, rows, { threshold: t, steps: undefined, cache }, true));
    }
  }
  await runPlans(ctx, plans);
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
