/**
 * Measuring one case: warmup runs (discarded), then repetitions, each turned into a Sample from the engine's own
 * trace. Counting rules (DESIGN.md "Honest counting"): generated positions only, useful tokens up to EOS/EoT,
 * NFE = forward passes, TTFT/ITL from per-token timestamps.
 */
import type { OpenAIEngine } from '../engines/openai/engine.js';
import type { EngineOptions, LladaGenerateOptions } from '../engines/options.js';
import type { Engine, EngineInfo, EngineKind, EngineResult, GenerateOutput, GenerateRequest } from '../engines/types.js';
import type { PromptTokenizer } from '../models/tokenize.js';
import type { TransformerSpec } from '../models/spec.js';
import { summarizeSamples } from '../results/summary.js';
import type { CaseHeader, CaseParams, CaseResult, CompletedCase, Sample, ScenarioKind, Warning } from '../results/types.js';
import { mean } from '../stats/index.js';
import { forwardCost, efficiency } from '../telemetry/flops.js';
import type { PeakFigures } from '../telemetry/peaks.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import { hostNowMs } from '../telemetry/clock.js';
import { FailureLog, requestsOf } from './failures.js';
import { usefulTimeMs } from './useful.js';

/** The engine object of each kind as scenarios see it: the HTTP engine also sends single requests (load runs). */
export type EngineOf<K extends EngineKind> = K extends 'openai' ? OpenAIEngine : Engine<EngineOptions<K>>;

/** What FLOPs and bytes per request are computed from. */
export interface CostSubject {
  kind: EngineKind;
  info: Pick<EngineInfo, 'dtype'>;
  /** Architecture (null over HTTP): FLOPs and bytes for MFU/MBU. */
  spec: TransformerSpec | null;
}

interface HandleBase extends CostSubject {
  role: 'diffusion' | 'ar';
  info: EngineInfo;
  tokenizer: PromptTokenizer | null;
  /** What results call the model: preset name, folder or URL. */
  model: string;
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
  peak: PeakFigures;
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
  return parts.join('/');
}

/** The stats mean, undefined (field left out) when there are no values. */
function meanOrNone(xs: number[]): number | undefined {
  return xs.length ? mean(xs) : undefined;
}

export interface Cost {
  flops: number;
  bytes: number;
}

/**
 * FLOPs and bytes for one request's `nfe` forwards, from the architecture (null without one). LLaDA: nfe full
 * forwards over prompt + answer (2B rows with CFG), logits over the answer only. AR: a prefill over the prompt,
 * then nfe - 1 one-token decode steps over a growing cache.
 */
export function requestCost(h: CostSubject, req: GenerateRequest, nfe: number, params: CaseParams): Cost | null {
  const spec = h.spec;
  if (!spec) return null;
  const dtypeBytes = h.info.dtype === 'fp16' ? 2 : 4;
  const B = req.prompts.length;
  const P = Math.max(...req.prompts.map((p) => p.length));
  if (h.kind === 'llada') {
    const rows = params.cfgScale ? 2 * B : B;
    const L = P + req.genLength;
    const cost = (seqLen: number, pastLen: number, logitsPositions: number) =>
      forwardCost(spec, { batch: rows, seqLen, pastLen, logitsPositions, dtypeBytes, attention: 'bidirectional' });
    if (!params.cache || params.cache === 'none') {
      const c = cost(L, 0, req.genLength);
      return { flops: c.flops * nfe, bytes: c.bytes * nfe };
    }
    // Cached: one full forward per block, the other calls block-only (prefix: s..L-1 over the cached 0..s-1;
    // dual: the block over all L rows). The trace does not say which block a call served: spread them evenly.
    const blk = params.blockLength ?? req.genLength;
    const blocks = req.genLength / blk;
    const perBlock = Math.max(0, nfe - blocks) / blocks;
    let flops = 0;
    let bytes = 0;
    for (let k = 0; k < blocks; k++) {
      const s = P + k * blk;
      const start = cost(L, 0, blk);
      const only = params.cache === 'prefix' ? cost(L - s, s, blk) : cost(blk, L - blk, blk);
      flops += start.flops + perBlock * only.flops;
      bytes += start.bytes + perBlock * only.bytes;
    }
    return { flops, bytes };
  }
  const prefill = forwardCost(spec, { batch: B, seqLen: P, pastLen: 0, logitsPositions: 1, dtypeBytes, attention: 'causal' });
  let flops = prefill.flops;
  let bytes = prefill.bytes;
  for (let i = 1; i < nfe; i++) {
    const c = forwardCost(spec, { batch: B, seqLen: 1, pastLen: P + i - 1, logitsPositions: 1, dtypeBytes, attention: 'causal' });
    flops += c.flops;
    bytes += c.bytes;
  }
  return { flops, bytes };
}

export interface RepOutcome {
  sample: Sample;
  /** Summed over the repetition's requests; null when any has no architecture. */
  cost: Cost | null;
}

/** One repetition (these requests, in sequence) as a Sample: every reported number is computed here. */
export function toSample(h: CostSubject, reqs: GenerateRequest[], outs: GenerateOutput[], params: CaseParams): RepOutcome {
  let generated = 0;
  let useful = 0;
  let latency = 0;
  let usefulLatency = 0;
  let forward = 0;
  let nfe = 0;
  let errors = 0;
  const ttfts: number[] = [];
  const itls: number[] = [];
  let costSum: Cost | null = { flops: 0, bytes: 0 };
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
      if (times.length > 1) itls.push((times.at(-1)! - times[0]!) / (times.length - 1));
    }
    const c = requestCost(h, reqs[i]!, o.trace.length, params);
    costSum = c && costSum ? { flops: costSum.flops + c.flops, bytes: costSum.bytes + c.bytes } : null;
  });
  const seconds = latency / 1000;
  const sample: Sample = {
    latencyMs: latency / outs.length,
    generatedTokens: generated,
    usefulTokens: useful,
    tokensPerSec: seconds > 0 ? generated / seconds : 0,
    usefulTokensPerSec: usefulLatency > 0 ? useful / (usefulLatency / 1000) : 0,
    // Per generation (mean over this repetition's requests), so NFE reads as "forward passes per answer".
    nfe: nfe / outs.length,
    tokensPerForward: nfe > 0 ? generated / nfe : 0,
    timePerForwardMs: nfe > 0 ? forward / nfe : 0,
    forwardMs: forward,
  };
  const ttft = meanOrNone(ttfts);
  const itl = meanOrNone(itls);
  if (ttft !== undefined) sample.ttftMs = ttft;
  if (itl !== undefined) sample.itlMs = itl;
  const hd = outs[0]?.hostDeviceBytesPerForward;
  if (hd !== undefined) sample.hostDeviceBytesPerForward = hd;
  if (errors) sample.errors = errors;
  return { sample, cost: costSum };
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
      ...(h.info.attention ? { attention: h.info.attention } : {}),
      ...(h.info.timingNote ? { timingNote: h.info.timingNote } : {}),
    },
    warmupRuns: ctx.warmup,
  };
}

export async function measureCase(ctx: MeasureContext, run: CaseRun): Promise<CaseResult> {
  const h = run.handle;
  const base = caseBase(ctx, run.scenario, h, run.params);
  const failures = new FailureLog();
  const samples: Sample[] = [];
  const withFailures = <C extends CaseResult>(r: C): C => {
    for (const w of failures.warnings(r.id)) ctx.warn?.(w);
    const requestFailures = failures.summary();
    return requestFailures ? { ...r, requestFailures } : r;
  };
  const aborted = () => new AbortedError(withFailures({ ...base, state: 'aborted', error: 'interrupted', samples, summary: summarizeSamples(samples) }));
  const once = async (repetition: number | null): Promise<{ ok: true; outs: GenerateOutput[] } | { ok: false; message: string }> => {
    const outs: GenerateOutput[] = [];
    for (const req of run.requests) {
      if (ctx.signal.aborted) throw aborted();
      const r = await run.call(req, ctx.signal);
      if (ctx.signal.aborted) throw aborted();
      failures.addMeasurements(requestsOf(r), repetition);
      if (!r.ok) return { ok: false, message: `${r.error.code}: ${r.error.message}` };
      outs.push(r.value);
    }
    return { ok: true, outs };
  };
  for (let i = 0; i < ctx.warmup; i++) {
    ctx.progress(`${base.id} warmup ${i + 1}/${ctx.warmup}`);
    const r = await once(null);
    if (!r.ok) return withFailures({ ...base, state: 'errored', error: r.message, samples: [], summary: {} });
  }
  const costs: (Cost | null)[] = [];
  const phaseStart = hostNowMs();
  for (let i = 0; i < ctx.repetitions; i++) {
    ctx.progress(`${base.id} run ${i + 1}/${ctx.repetitions}`);
    const r = await once(i);
    if (!r.ok) return withFailures({ ...base, state: 'errored', error: r.message, samples, summary: summarizeSamples(samples) });
    const { sample, cost } = toSample(h, run.requests, r.outs, run.params);
    samples.push(sample);
    costs.push(cost);
  }
  const phaseEnd = hostNowMs();
  const result: CompletedCase = withFailures({ ...base, state: 'completed', samples, summary: summarizeSamples(samples) });
  const totalNfe = samples.reduce((a, s) => a + s.nfe * run.requests.length, 0);
  const totalForward = samples.reduce((a, s) => a + s.forwardMs, 0);
  if (costs.every((c) => c !== null) && totalNfe > 0) {
    const flops = costs.reduce((a, c) => a + c!.flops, 0);
    const bytes = costs.reduce((a, c) => a + c!.bytes, 0);
    result.efficiency = efficiency({ flops: flops / totalNfe, bytes: bytes / totalNfe }, totalForward / totalNfe, ctx.peak);
  }
  if (ctx.telemetry) {
    result.telemetry = ctx.telemetry.phase(phaseStart, phaseEnd, samples.reduce((a, s) => a + s.generatedTokens, 0));
  }
  return result;
}
