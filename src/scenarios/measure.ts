/**
 * Measuring one case: warmup runs (discarded), then repetitions, each turned into a Sample from the engine's own
 * trace. Counting rules (DESIGN.md "Honest counting"): generated positions only, useful tokens up to EOS/EoT,
 * NFE = forward passes, TTFT/ITL from per-token timestamps.
 */
import type { Engine, EngineInfo, EngineKind, GenerateOutput, GenerateRequest } from '../engines/types.js';
import type { PromptTokenizer } from '../models/tokenize.js';
import type { TransformerSpec } from '../models/spec.js';
import type { CaseParams, CaseResult, MetricName, Sample, ScenarioKind } from '../results/types.js';
import { summarize } from '../stats/index.js';
import { forwardCost, efficiency } from '../telemetry/flops.js';
import type { PeakFigures } from '../telemetry/peaks.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import { hostNowMs } from '../telemetry/clock.js';

export interface EngineHandle {
  kind: EngineKind;
  role: 'diffusion' | 'ar';
  engine: Engine<any>;
  info: EngineInfo;
  /** Architecture (null over HTTP): FLOPs and bytes for MFU/MBU. */
  spec: TransformerSpec | null;
  tokenizer: PromptTokenizer | null;
  /** What results call the model: preset name, folder or URL. */
  model: string;
}

export interface MeasureContext {
  warmup: number;
  repetitions: number;
  telemetry: Telemetry | null;
  peak: PeakFigures;
  signal: AbortSignal;
  /** Progress line for humans ("throughput llada rep 2/3"). */
  progress: (text: string) => void;
}

export interface CaseRun {
  scenario: ScenarioKind;
  handle: EngineHandle;
  params: CaseParams;
  /** One repetition runs these requests in sequence. */
  requests: GenerateRequest[];
  options: unknown;
}

export class AbortedError extends Error {
  constructor() {
    super('interrupted');
  }
}

export function caseId(scenario: ScenarioKind, engine: EngineKind, p: CaseParams): string {
  const parts = [scenario, engine, `b${p.batchSize}`, `p${p.promptTokens}`, `g${p.genLength}`];
  if (engine === 'llada') {
    parts.push(p.threshold != null ? `t${p.threshold}` : `s${p.steps}`, `bl${p.blockLength}`);
    if (p.cfgScale) parts.push(`cfg${p.cfgScale}`);
    if (p.cache && p.cache !== 'none') parts.push(p.cache);
  }
  if (p.concurrency !== undefined) parts.push(`c${p.concurrency}`);
  return parts.join('/');
}

function mean(xs: number[]): number | undefined {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;
}

/** FLOPs and bytes for one request's forwards, from the architecture. */
function requestCost(h: EngineHandle, req: GenerateRequest, out: GenerateOutput, params: CaseParams): { flops: number; bytes: number } | null {
  const spec = h.spec;
  if (!spec) return null;
  const dtypeBytes = h.info.dtype === 'fp16' ? 2 : 4;
  const B = req.prompts.length;
  const P = Math.max(...req.prompts.map((p) => p.length));
  const nfe = out.trace.length;
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

interface RepOutcome {
  sample: Sample;
  cost: { flops: number; bytes: number } | null;
}

function toSample(h: EngineHandle, reqs: GenerateRequest[], outs: GenerateOutput[], params: CaseParams): RepOutcome {
  let generated = 0;
  let useful = 0;
  let latency = 0;
  let forward = 0;
  let nfe = 0;
  let errors = 0;
  const ttfts: number[] = [];
  const itls: number[] = [];
  let costSum: { flops: number; bytes: number } | null = { flops: 0, bytes: 0 };
  outs.forEach((o, i) => {
    const counts = (o as GenerateOutput & { generatedTokenCounts?: number[] }).generatedTokenCounts ?? o.tokens.map((t) => t.length);
    generated += counts.reduce((a, b) => a + b, 0);
    useful += o.usefulTokens.reduce((a, b) => a + b, 0);
    latency += o.totalMs;
    forward += o.forwardMs;
    nfe += o.trace.length;
    errors += (o as GenerateOutput & { failedRequests?: number }).failedRequests ?? 0;
    for (const times of o.tokenTimesMs ?? []) {
      if (times.length > 0) ttfts.push(times[0]!);
      if (times.length > 1) itls.push((times.at(-1)! - times[0]!) / (times.length - 1));
    }
    const c = requestCost(h, reqs[i]!, o, params);
    costSum = c && costSum ? { flops: costSum.flops + c.flops, bytes: costSum.bytes + c.bytes } : null;
  });
  const seconds = latency / 1000;
  const sample: Sample = {
    latencyMs: latency / outs.length,
    generatedTokens: generated,
    usefulTokens: useful,
    tokensPerSec: seconds > 0 ? generated / seconds : 0,
    usefulTokensPerSec: seconds > 0 ? useful / seconds : 0,
    // Per generation (mean over this repetition's requests), so NFE reads as "forward passes per answer".
    nfe: nfe / outs.length,
    tokensPerForward: nfe > 0 ? generated / nfe : 0,
    timePerForwardMs: nfe > 0 ? forward / nfe : 0,
    forwardMs: forward,
  };
  const ttft = mean(ttfts);
  const itl = mean(itls);
  if (ttft !== undefined) sample.ttftMs = ttft;
  if (itl !== undefined) sample.itlMs = itl;
  const hd = outs[0]?.hostDeviceBytesPerForward;
  if (hd !== undefined) sample.hostDeviceBytesPerForward = hd;
  if (errors) sample.errors = errors;
  return { sample, cost: costSum };
}

const METRICS: MetricName[] = ['latencyMs', 'tokensPerSec', 'usefulTokensPerSec', 'nfe', 'tokensPerForward', 'timePerForwardMs', 'ttftMs', 'itlMs'];

export function summarizeSamples(samples: Sample[]): CaseResult['summary'] {
  const summary: CaseResult['summary'] = {};
  for (const m of METRICS) {
    const values = samples.map((s) => s[m]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (values.length === samples.length && values.length > 0) summary[m] = summarize(values);
  }
  return summary;
}

/** What every case records before it is measured: its key, parameters and the engine's conditions. */
export function caseBase(ctx: MeasureContext, scenario: ScenarioKind, h: EngineHandle, params: CaseParams): Omit<CaseResult, 'state' | 'samples' | 'summary'> {
  return {
    id: caseId(scenario, h.kind, params),
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
      ...(h.info.maxPositions !== undefined ? { maxPositions: h.info.maxPositions } : {}),
    },
    warmupRuns: ctx.warmup,
  };
}

export async function measureCase(ctx: MeasureContext, run: CaseRun): Promise<CaseResult> {
  const h = run.handle;
  const base = caseBase(ctx, run.scenario, h, run.params);
  const once = async (): Promise<{ ok: true; outs: GenerateOutput[] } | { ok: false; message: string }> => {
    const outs: GenerateOutput[] = [];
    for (const req of run.requests) {
      if (ctx.signal.aborted) throw new AbortedError();
      const r = await h.engine.generate(req, run.options);
      if (ctx.signal.aborted) throw new AbortedError();
      if (!r.ok) return { ok: false, message: `${r.error.code}: ${r.error.message}` };
      outs.push(r.value);
    }
    return { ok: true, outs };
  };
  for (let i = 0; i < ctx.warmup; i++) {
    ctx.progress(`${base.id} warmup ${i + 1}/${ctx.warmup}`);
    const r = await once();
    if (!r.ok) return { ...base, state: 'errored', error: r.message, samples: [], summary: {} };
  }
  const samples: Sample[] = [];
  const costs: ({ flops: number; bytes: number } | null)[] = [];
  const phaseStart = hostNowMs();
  for (let i = 0; i < ctx.repetitions; i++) {
    ctx.progress(`${base.id} run ${i + 1}/${ctx.repetitions}`);
    const r = await once();
    if (!r.ok) return { ...base, state: 'errored', error: r.message, samples, summary: summarizeSamples(samples) };
    const { sample, cost } = toSample(h, run.requests, r.outs, run.params);
    samples.push(sample);
    costs.push(cost);
  }
  const phaseEnd = hostNowMs();
  const result: CaseResult = { ...base, state: 'completed', samples, summary: summarizeSamples(samples) };
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
