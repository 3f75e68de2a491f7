/**
 * Measuring one case: warmup runs (discarded), then repetitions, each turned into a Sample from the engine's own
 * trace. Counting rules (DESIGN.md "Honest counting", README "What it measures"): generated positions only, useful
 * tokens up to EOS/EoT, NFE = forward passes; every sample field is per request (rates over the repetition); TTFT
 * and TPOT per answer, ITL per inter-token gap (vLLM's definitions), from per-token timestamps. Model work (FLOPs,
 * weights + KV bytes) is timed in run (session.run) and end to end, AR split at the first token.
 */
import type { OpenAIEngine } from '../engines/openai/engine.js';
import type { EngineOptions, LladaGenerateOptions } from '../engines/options.js';
import type { Engine, EngineInfo, EngineKind, EngineResult, GenerateOutput, GenerateRequest } from '../engines/types.js';
import type { PromptTokenizer } from '../models/tokenize.js';
import { summarizeCase } from '../results/summary.js';
import type { CaseHeader, CaseParams, CaseResult, CompletedCase, Sample, ScenarioKind, Warning } from '../results/types.js';
import { mean } from '../stats/index.js';
import { enginePeak } from '../telemetry/peaks.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import { hostNowMs } from '../telemetry/clock.js';
import { FailureLog, requestsOf } from './failures.js';
import { usefulTimeMs } from './useful.js';
import { type CostSubject, type RequestWork, NO_REQUEST_WORK, addRequestWork, caseEfficiency, requestCost, timedWork } from './work.js';

/** The engine object of each kind as scenarios see it: the HTTP engine also sends single requests (load runs). */
export type EngineOf<K extends EngineKind> = K extends 'openai' ? OpenAIEngine : Engine<EngineOptions<K>>;

interface HandleBase extends CostSubject {
  role: 'diffusion' | 'ar';
  info: EngineInfo;
  tokenizer: PromptTokenizer | null;
  /** What results call the model: preset name, folder or URL. */
  model: string;
  /**
   * HTTP: what a request carries. 'ids': the prompt token ids the local side runs (completions endpoint, so the
   * served model gets exactly the local prompt); 'text' (default): the user turn as text (chat endpoint).
   */
  promptAs?: 'ids' | 'text';
}

/** An engine with what results say about it; a union by kind, so `engine` has the kind's own options. */
export type EngineHandle = { [K in EngineKind]: HandleBase & { kind: K; engine: EngineOf<K> } }[EngineKind];

/** One request of a case, its options bound; `signal` aborts an in-flight request where the engine can (HTTP). */
export type EngineCall = (request: GenerateRequest, signal: AbortSignal) => Promise<EngineResult>;

/** A case's engine call: the LLaDA sampler settings of its params, fixed-length AR, fixed-length HTTP. */
export function engineCall(h: EngineHandle, params: CaseParams, seed: number): EngineCall {
  switch (h.kind) {
    case 'llada': {
      const engine = h.engine;
      const options: LladaGenerateOptions = {
        steps: params.steps!,
        blockLength: params.blockLength!,
        threshold: params.threshold ?? null,
        cfgScale: params.cfgScale ?? 0,
        temperature: params.temperature ?? 0,
        remasking: params.remasking ?? 'low_confidence',
        seed,
        cache: params.cache ?? 'none',
      };
      return (request) => engine.generate(request, options);
    }
    case 'ar':
    case 'ar-ort':
    case 'ar-loop': {
      const engine = h.engine;
      return (request) => engine.generate(request, { mode: 'fixed' });
    }
    case 'openai': {
      const engine = h.engine;
      // ignoreEos comes from the side's HTTP config (fixed length by default).
      return (request, signal) => engine.generate(request, { signal });
    }
  }
}

export interface MeasureContext {
  warmup: number;
  repetitions: number;
  telemetry: Telemetry | null;
  /** nvidia-smi name of the GPU the run's GPU engines use (null without one): each engine's peak comes from it and the engine's own dtype. */
  gpuName: string | null;
  signal: AbortSignal;
  /** Progress line for humans ("throughput llada rep 2/3"). */
  progress: (text: string) => void;
  warn?: (w: Warning) => void;
}

export interface CaseRun {
  scenario: ScenarioKind;
  handle: EngineHandle;
  params: CaseParams;
  /** One repetition runs these requests in sequence. */
  requests: GenerateRequest[];
  call: EngineCall;
}

/** Ctrl-C stopped a case; `partial` is the case with the repetitions measured before it (state 'aborted'). */
export class AbortedError extends Error {
  constructor(readonly partial?: CaseResult) {
    super('interrupted');
  }
}

/**
 * Unique per run whatever engines run: only `openai` can serve both sides (two URLs), so its id names the side
 * ("throughput/openai-ar/...").
 */
export function caseId(scenario: ScenarioKind, engine: EngineKind, p: CaseParams, role?: 'diffusion' | 'ar'): string {
  const parts = [scenario, engine === 'openai' && role ? `openai-${role}` : engine, `b${p.batchSize}`, `p${p.promptTokens}`, `g${p.genLength}`];
  if (engine === 'llada') {
    parts.push(p.threshold != null ? `t${p.threshold}` : `s${p.steps}`, `bl${p.blockLength}`);
    if (p.cfgScale) parts.push(`cfg${p.cfgScale}`);
    if (p.cache && p.cache !== 'none') parts.push(p.cache);
  }
  if (p.concurrency !== undefined) parts.push(`c${p.concurrency}`);
  if (p.requestRate !== undefined) parts.push(`r${p.requestRate}${p.arrival === 'constant' ? '-constant' : ''}`);
  return parts.join('/');
}

/** The stats mean, undefined (field left out) when there are no values. */
function meanOrNone(xs: number[]): number | undefined {
  return xs.length ? mean(xs) : undefined;
}

export interface RepOutcome {
  sample: Sample;
  /** Summed over the repetition's requests, with times; null when any has no architecture. */
  work: RequestWork | null;
}

/** Gaps between consecutive arrival times of one answer. */
function gaps(times: readonly number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}

/**
 * One repetition (these requests, in sequence) as a Sample: every reported number is computed here. Fields are
 * per request (means over the repetition's requests); rates are over the repetition.
 */
export function toSample(h: CostSubject, reqs: GenerateRequest[], outs: GenerateOutput[], params: CaseParams): RepOutcome {
  let generated = 0;
  let useful = 0;
  let latency = 0;
  let usefulLatency = 0;
  let forward = 0;
  let nfe = 0;
  let errors = 0;
  const ttfts: number[] = [];
  const tpots: number[] = [];
  const itls: number[] = [];
  let work: RequestWork | null = NO_REQUEST_WORK;
  outs.forEach((o, i) => {
    generated += o.generatedTokenCounts.reduce((a, b) => a + b, 0);
    useful += o.usefulTokens.reduce((a, b) => a + b, 0);
    latency += o.totalMs;
    usefulLatency += usefulTimeMs(o);
    forward += o.forwardMs;
    nfe += o.trace.length;
    errors += o.failures.length;
    for (const times of o.tokenTimesMs ?? []) {
      if (times.length > 0) ttfts.push(times[0]!);
      if (times.length > 1) tpots.push((times.at(-1)! - times[0]!) / (times.length - 1));
      itls.push(...gaps(times));
    }
    const c = requestCost(h, reqs[i]!, o.trace.length, params);
    work = c && work ? addRequestWork(work, timedWork(c, o)) : null;
  });
  const n = outs.length;
  const seconds = latency / 1000;
  const sample: Sample = {
    requests: n,
    latencyMs: latency / n,
    generatedTokens: generated / n,
    usefulTokens: useful / n,
    tokensPerSec: seconds > 0 ? generated / seconds : 0,
    usefulTokensPerSec: usefulLatency > 0 ? useful / (usefulLatency / 1000) : 0,
    nfe: nfe / n,
    tokensPerForward: nfe > 0 ? generated / nfe : 0,
    timePerForwardMs: nfe > 0 ? forward / nfe : 0,
    forwardMs: forward / n,
    values: { latencyMs: outs.map((o) => o.totalMs) },
  };
  if (h.kind === 'openai') {
    // Over HTTP the server's forward passes are invisible: a trace entry is a streamed chunk, not a forward.
    delete sample.nfe;
    delete sample.tokensPerForward;
    delete sample.timePerForwardMs;
    delete sample.forwardMs;
  }
  const ttft = meanOrNone(ttfts);
  const tpot = meanOrNone(tpots);
  const itl = meanOrNone(itls);
  if (ttft !== undefined) {
    sample.ttftMs = ttft;
    sample.values.ttftMs = ttfts;
  }
  if (tpot !== undefined) {
    sample.tpotMs = tpot;
    sample.values.tpotMs = tpots;
  }
  if (itl !== undefined) {
    sample.itlMs = itl;
    sample.values.itlMs = itls;
  }
  const hd = outs[0]?.hostDeviceBytesPerForward;
  if (hd !== undefined) sample.hostDeviceBytesPerForward = hd;
  if (errors) sample.errors = errors;
  return { sample, work };
}

/** What every case records before it is measured: its key, parameters and the engine's conditions. */
export function caseBase(ctx: MeasureContext, scenario: ScenarioKind, h: EngineHandle, params: CaseParams): CaseHeader {
  return {
    id: caseId(scenario, h.kind, params, h.role),
    scenario,
    engine: h.kind,
    model: h.model,
    params,
    conditions: {
      device: h.info.device,
      executionProvider: h.info.executionProvider,
      dtype: h.info.dtype,
      synthetic: h.info.synthetic,
      handicaps: h.info.handicaps,
      ...(h.info.attention ? { attention: h.info.attention } : {}),
      ...(h.info.timingNote ? { timingNote: h.info.timingNote } : {}),
      ...(h.info.maxPositions !== undefined ? { maxPositions: h.info.maxPositions } : {}),
    },
    warmupRuns: ctx.warmup,
    role: h.role,
  };
}

/** Mean of the prompt tokens a server reported (usage.prompt_tokens) over its requests; undefined when none did. */
export function serverPromptTokens(counts: readonly (number | null)[]): { serverPromptTokens?: number } {
  const xs = counts.filter((x): x is number => x !== null);
  return xs.length ? { serverPromptTokens: mean(xs) } : {};
}

export async function measureCase(ctx: MeasureContext, run: CaseRun): Promise<CaseResult> {
  const h = run.handle;
  const base = caseBase(ctx, run.scenario, h, run.params);
  const failures = new FailureLog();
  const samples: Sample[] = [];
  const served: (number | null)[] = [];
  const withFailures = <C extends CaseResult>(r: C): C => {
    for (const w of failures.warnings(r.id)) ctx.warn?.(w);
    const requestFailures = failures.summary();
    const withServed = { ...r, ...serverPromptTokens(served) };
    return requestFailures ? { ...withServed, requestFailures } : withServed;
  };
  const aborted = () => new AbortedError(withFailures({ ...base, state: 'aborted', error: 'interrupted', samples, ...summarizeCase(samples) }));
  const once = async (repetition: number | null): Promise<{ ok: true; outs: GenerateOutput[] } | { ok: false; message: string }> => {
    const outs: GenerateOutput[] = [];
    for (const req of run.requests) {
      if (ctx.signal.aborted) throw aborted();
      const r = await run.call(req, ctx.signal);
      if (ctx.signal.aborted) throw aborted();
      failures.addMeasurements(requestsOf(r), repetition);
      for (const m of requestsOf(r)) if (m.state === 'completed') served.push(m.promptTokens);
      if (!r.ok) return { ok: false, message: `${r.error.code}: ${r.error.message}` };
      outs.push(r.value);
    }
    return { ok: true, outs };
  };
  for (let i = 0; i < ctx.warmup; i++) {
    ctx.progress(`${base.id} warmup ${i + 1}/${ctx.warmup}`);
    const r = await once(null);
    if (!r.ok) return withFailures({ ...base, state: 'errored', error: r.message, samples: [], summary: {}, pooled: {} });
  }
  let work: RequestWork | null = null;
  let requests = 0;
  let known = true;
  const phaseStart = hostNowMs();
  for (let i = 0; i < ctx.repetitions; i++) {
    ctx.progress(`${base.id} run ${i + 1}/${ctx.repetitions}`);
    const r = await once(i);
    if (!r.ok) return withFailures({ ...base, state: 'errored', error: r.message, samples, ...summarizeCase(samples) });
    const out = toSample(h, run.requests, r.outs, run.params);
    samples.push(out.sample);
    requests += out.sample.requests;
    known &&= out.work !== null;
    work = out.work && known ? (work ? addRequestWork(work, out.work) : out.work) : null;
  }
  const phaseEnd = hostNowMs();
  const result: CompletedCase = withFailures({ ...base, state: 'completed', samples, ...summarizeCase(samples) });
  if (work && known && work.all.forwards > 0) result.efficiency = caseEfficiency(work, requests, enginePeak(h.info, ctx.gpuName));
  if (ctx.telemetry) {
    result.telemetry = ctx.telemetry.phase(phaseStart, phaseEnd, samples.reduce((a, s) => a + s.generatedTokens * s.requests, 0));
  }
  return result;
}
