/**
 * Measuring one case: warmup runs (discarded), then repetitions, each turned into a Sample from the engine's own
 * trace. Counting rules (README "What it measures"): generated positions only, useful
 * tokens up to EOS/EoT, NFE = forward passes; every sample field is per request (rates over the repetition); TTFT
 * and TPOT per answer, ITL per inter-token gap (vLLM's definitions), from per-token timestamps. Model work (FLOPs,
 * weights + KV bytes) is timed in run (session.run) and end to end, AR split at the first token.
 */
import type { OpenAIEngine } from '../engines/openai/engine.js';
import type { RequestMeasurement } from '../engines/openai/measurement.js';
import type { EngineOptions, LladaGenerateOptions } from '../engines/options.js';
import type { Engine, EngineInfo, EngineKind, EngineResult, GenerateOutput, GenerateRequest } from '../engines/types.js';
import type { PromptTokenizer } from '../models/tokenize.js';
import { summarizeCase } from '../results/summary.js';
import type { CaseHeader, CaseParams, CaseResult, CaseSampling, CaseSummary, CaseVariation, CompletedCase, Sample, ScenarioKind, Warning } from '../results/types.js';
import { mean, meanOrNone, relativeSpread } from '../stats/index.js';
import { mulberry32 } from '../util/random.js';
import { enginePeak } from '../telemetry/peaks.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import { hostNowMs } from '../telemetry/clock.js';
import { FailureLog, requestsOf } from './failures.js';
import { usefulTimeMs } from './useful.js';
import { type CostSubject, type RequestWork, NO_REQUEST_WORK, addRequestWork, caseEfficiency, requestCost, timedWork } from './work.js';
import { at } from '../util/indexing.js';

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
  /** Minimum time, cap, order, variation limit; absent: exactly `repetitions`, case after case. */
  sampling?: SamplingPolicy;
  /**
   * HTTP batch cases: the largest share of failed requests a repetition may have (the config's http.maxErrorRate).
   * Unset: any share short of all.
   */
  maxErrorRate?: number;
  /**
   * The pass over the engines this measurement belongs to (sampling.passes > 1): each repetition records it, and the
   * variation verdict waits for the last pass (the case's repetitions are then all in: see mergePass).
   */
  pass?: { index: number; of: number };
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

export interface RepOutcome {
  sample: Sample;
  /** Summed over the repetition's requests, with times; null when any has no architecture. */
  work: RequestWork | null;
}

/** Gaps between consecutive arrival times of one answer. */
function gaps(times: readonly number[]): number[] {
  return times.slice(1).map((t, i) => t - at(times, i, 'times'));
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
      if (times.length > 0) ttfts.push(at(times, 0, 'times'));
      if (times.length > 1) tpots.push((times.at(-1)! - at(times, 0, 'times')) / (times.length - 1));
      itls.push(...gaps(times));
    }
    const c = requestCost(h, at(reqs, i, 'reqs'), o.trace.length, params);
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
    role: h.role,
    family: h.info.family,
    ...(h.info.parameters !== undefined ? { parameters: h.info.parameters } : {}),
    params,
    conditions: {
      device: h.info.device,
      executionProvider: h.info.executionProvider,
      dtype: h.info.dtype,
      synthetic: h.info.synthetic,
      handicaps: h.info.handicaps,
      handicapCodes: h.info.handicapCodes,
      ...(h.info.attention ? { attention: h.info.attention } : {}),
      ...(h.info.timingNote ? { timingNote: h.info.timingNote } : {}),
      ...(h.info.sampler ? { sampler: h.info.sampler } : {}),
      ...(h.info.maxPositions !== undefined ? { maxPositions: h.info.maxPositions } : {}),
    },
    warmupRuns: ctx.warmup,
  };
}

/** The output of a call whose every request failed: each row a failure with 0 tokens, the call's wall time kept. */
function failedCall(requests: RequestMeasurement[], totalMs: number): GenerateOutput {
  const rows = requests.length;
  return {
    tokens: requests.map(() => []),
    generatedTokenCounts: Array(rows).fill(0),
    failures: requests.flatMap((r, row) => (r.state === 'errored' ? [{ row, code: r.error.code, message: r.error.message }] : [])),
    usefulTokens: Array(rows).fill(0),
    trace: [],
    totalMs,
    tokenTimesMs: requests.map(() => []),
    forwardMs: 0,
  };
}

/** How long and in what order cases are repeated (config `repetitions` and `sampling`). */
export interface SamplingPolicy {
  /** Measured time a case runs for at least, ms (0: exactly `repetitions`). */
  minTimeMs: number;
  /** Cap on the repetitions the minimum time can add. */
  maxRepetitions: number;
  order: 'interleaved' | 'sequential';
  seed: number;
  /** Relative 95% CI half-width of tokens/s above which a case is flagged. */
  maxRelativeSpread: number;
}

/** Without a policy: exactly `repetitions`, case after case, no variation verdict. */
export const FIXED_COUNT: SamplingPolicy = { minTimeMs: 0, maxRepetitions: Number.MAX_SAFE_INTEGER, order: 'sequential', seed: 0, maxRelativeSpread: 0.1 };

/** Mean of the prompt tokens a server reported (usage.prompt_tokens) over its requests; undefined when none did. */
export function serverPromptTokens(counts: readonly (number | null)[]): { serverPromptTokens?: number } {
  const xs = counts.filter((x): x is number => x !== null);
  return xs.length ? { serverPromptTokens: mean(xs) } : {};
}

/** One case being measured: its warmups, its repetitions one at a time, and what it becomes when done. */
class CaseMeasurement {
  readonly base: CaseHeader;
  readonly samples: Sample[] = [];
  readonly positions: number[] = [];
  measuredMs = 0;
  private readonly failures = new FailureLog();
  /** Prompt tokens each completed HTTP request's server reported (null: not reported). */
  private readonly served: (number | null)[] = [];
  private work: RequestWork | null = null;
  private requests = 0;
  private known = true;
  private firstStart: number | null = null;
  private lastEnd = 0;

  constructor(
    private readonly ctx: MeasureContext,
    readonly run: CaseRun,
  ) {
    this.base = caseBase(ctx, run.scenario, run.handle, run.params);
  }

  withFailures<C extends CaseResult>(r: C): C {
    for (const w of this.failures.warnings(r.id)) this.ctx.warn?.(w);
    const requestFailures = this.failures.summary();
    const withServed = { ...r, ...serverPromptTokens(this.served) };
    return requestFailures ? { ...withServed, requestFailures } : withServed;
  }

  partial(sampling?: CaseSampling): CaseResult {
    return this.withFailures({ ...this.base, ...(sampling ? { sampling } : {}), state: 'aborted', error: 'interrupted', samples: this.samples, ...summarizeCase(this.samples) });
  }

  /** The requests of one run, in sequence; an error message when one fails. Ctrl-C throws AbortedError. */
  private async once(repetition: number | null): Promise<{ ok: true; outs: GenerateOutput[] } | { ok: false; message: string }> {
    const outs: GenerateOutput[] = [];
    let firstError: string | null = null;
    for (const req of this.run.requests) {
      if (this.ctx.signal.aborted) throw new AbortedError();
      const t0 = hostNowMs();
      const r = await this.run.call(req, this.ctx.signal);
      if (this.ctx.signal.aborted) throw new AbortedError();
      const measured = requestsOf(r);
      this.failures.addMeasurements(measured, repetition);
      for (const m of measured) if (m.state === 'completed') this.served.push(m.promptTokens);
      if (r.ok) {
        outs.push(r.value);
        continue;
      }
      // A call whose HTTP requests all failed counts its rows as failed, as a failed row of a larger batch does
      // (B=1 sends the largest batch's prompts one call each): the same error-rate rule decides every batch size.
      if (measured.length === 0) return { ok: false, message: `${r.error.code}: ${r.error.message}` };
      firstError ??= `${r.error.code}: ${r.error.message}`;
      outs.push(failedCall(measured, hostNowMs() - t0));
    }
    const rows = outs.reduce((a, o) => a + o.generatedTokenCounts.length, 0);
    const failed = outs.reduce((a, o) => a + o.failures.length, 0);
    if (firstError !== null && failed === rows) return { ok: false, message: firstError };
    const limit = this.ctx.maxErrorRate;
    if (limit !== undefined && rows > 0 && failed / rows > limit) {
      const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
      return { ok: false, message: `http: error rate ${pct(failed / rows)} (${failed} of ${rows} requests) exceeds the limit ${pct(limit)} (http.maxErrorRate)` };
    }
    return { ok: true, outs };
  }

  /** The warmup runs (discarded); the errored case when one fails. */
  async warmup(): Promise<string | null> {
    for (let i = 0; i < this.ctx.warmup; i++) {
      this.ctx.progress(`${this.base.id} warmup ${i + 1}/${this.ctx.warmup}`);
      const r = await this.once(null);
      if (!r.ok) return r.message;
    }
    return null;
  }

  /** One measured repetition at `position` of the group's sequence; an error message when it fails. */
  async repetition(position: number, of: string): Promise<string | null> {
    const i = this.samples.length;
    this.ctx.progress(`${this.base.id} run ${i + 1}${of}`);
    const start = hostNowMs();
    this.firstStart ??= start;
    const r = await this.once(i);
    const end = hostNowMs();
    if (!r.ok) return r.message;
    const out = toSample(this.run.handle, this.run.requests, r.outs, this.run.params);
    if (this.ctx.pass) out.sample.pass = this.ctx.pass.index;
    this.samples.push(out.sample);
    this.positions.push(position);
    this.measuredMs += out.sample.latencyMs * out.sample.requests;
    this.lastEnd = end;
    this.requests += out.sample.requests;
    this.known &&= out.work !== null;
    this.work = out.work && this.known ? (this.work ? addRequestWork(this.work, out.work) : out.work) : null;
    return null;
  }

  /** Why it may stop now, or null to go on. */
  stop(p: SamplingPolicy): CaseSampling['stoppedBy'] | null {
    const n = this.samples.length;
    if (n < this.ctx.repetitions) return null;
    // The time was the last condition met when it took more than the minimum count.
    if (this.measuredMs >= p.minTimeMs) return p.minTimeMs > 0 && n > this.ctx.repetitions ? 'time' : 'repetitions';
    return n >= p.maxRepetitions ? 'cap' : null;
  }

  /** `maxRelativeSpread` null: no variation verdict (a context without a sampling policy). */
  finish(sampling: CaseSampling, maxRelativeSpread: number | null): CompletedCase {
    const result: CompletedCase = this.withFailures({ ...this.base, sampling, state: 'completed', samples: this.samples, ...summarizeCase(this.samples) });
    const h = this.run.handle;
    if (this.work && this.known && this.work.all.forwards > 0) result.efficiency = caseEfficiency(this.work, this.requests, enginePeak(h.info, this.ctx.gpuName));
    if (this.ctx.telemetry && this.firstStart !== null) {
      // Interleaved: the window spans the group's other cases between this case's first and last repetition.
      result.telemetry = this.ctx.telemetry.phase(this.firstStart, this.lastEnd, this.samples.reduce((a, s) => a + s.generatedTokens * s.requests, 0));
    }
    const v = maxRelativeSpread === null ? undefined : caseVariation(result.summary, maxRelativeSpread);
    if (v) {
      result.variation = v;
      if (v.flagged) this.ctx.warn?.({ code: 'high-variation', message: variationMessage(result.id, v, this.samples.length) });
    }
    return result;
  }

  sampling(p: SamplingPolicy, group: string[], stoppedBy: CaseSampling['stoppedBy']): CaseSampling {
    return {
      minRepetitions: this.ctx.repetitions,
      minTimeSec: p.minTimeMs / 1000,
      maxRepetitions: Math.min(p.maxRepetitions, Number.MAX_SAFE_INTEGER),
      measuredSec: this.measuredMs / 1000,
      stoppedBy,
      order: p.order,
      seed: p.seed,
      group,
      positions: this.positions,
    };
  }
}

/** The rate metrics a case is judged noisy on: the figures claims and tables quote. */
const RATE_METRICS = ['tokensPerSec', 'usefulTokensPerSec'] as const;

/** Relative spread of a case's rates (the widest), flagged above `threshold`; undefined without rates. */
export function caseVariation(summary: CaseSummary, threshold: number): CaseVariation | undefined {
  let worst: CaseVariation | undefined;
  for (const metric of RATE_METRICS) {
    const s = summary[metric];
    if (!s || !(s.mean > 0)) continue;
    const spread = relativeSpread(s);
    const v: CaseVariation = { metric, relativeHalfWidth: spread.relativeHalfWidth, cv: spread.cv, threshold, flagged: spread.relativeHalfWidth !== null && spread.relativeHalfWidth > threshold };
    if (!worst || (v.relativeHalfWidth ?? -1) > (worst.relativeHalfWidth ?? -1)) worst = v;
  }
  return worst;
}

/** The warning of a flagged case: what varies, by how much, and what to do. */
export function variationMessage(id: string, v: CaseVariation, n: number): string {
  return (
    `${id}: ${v.metric} varies by ±${((v.relativeHalfWidth ?? 0) * 100).toFixed(1)}% of its mean (95% CI half-width over ${n} repetitions; limit ±${(v.threshold * 100).toFixed(0)}%): ` +
    'quote it with care; run more repetitions (--repetitions, --min-time) or on a quieter machine (other processes compete for the cores)'
  );
}

/** Deterministic shuffle (Fisher-Yates over a seeded generator). */
function shuffled<T>(xs: readonly T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [at(out, j, 'out'), at(out, i, 'out')];
  }
  return out;
}

/** A stable 32-bit hash of a string (FNV-1a): each group gets its own shuffle from the one seed. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Measures cases of one engine together. Every case runs its warmups (in the given order), then repetitions until
 * it has `repetitions` of them and `minTimeMs` of measured time, or the cap. Interleaved: in each round every case
 * still running gets one repetition, the rounds in a seeded random order, so a slow phase of the machine falls on
 * all of them alike. `onDone` receives each case as soon as it is finished (completed or errored); Ctrl-C hands
 * the unfinished ones to `onDone` as aborted, except the last, which AbortedError carries.
 */
export async function measureGroup(ctx: MeasureContext, runs: CaseRun[], onDone: (r: CaseResult) => Promise<void> | void): Promise<CaseResult[]> {
  const p = ctx.sampling ?? FIXED_COUNT;
  const ms = runs.map((run) => new CaseMeasurement(ctx, run));
  const group = ms.map((m) => m.base.id);
  const results = new Map<CaseMeasurement, CaseResult>();
  const active = new Set<CaseMeasurement>();
  const done = async (m: CaseMeasurement, r: CaseResult) => {
    active.delete(m);
    results.set(m, r);
    await onDone(r);
  };
  const rand = mulberry32((p.seed ^ hash32(group.join('|'))) >>> 0);
  const of = p.minTimeMs > 0 ? `/${ctx.repetitions}+` : `/${ctx.repetitions}`;
  let position = 0;
  try {
    for (const m of ms) {
      const err = await m.warmup();
      if (err) await done(m, m.withFailures({ ...m.base, state: 'errored', error: err, samples: [], summary: {}, pooled: {} }));
      else active.add(m);
    }
    const step = async (m: CaseMeasurement): Promise<void> => {
      const err = await m.repetition(position++, of);
      if (err) return done(m, m.withFailures({ ...m.base, sampling: m.sampling(p, group, 'repetitions'), state: 'errored', error: err, samples: m.samples, ...summarizeCase(m.samples) }));
      const why = m.stop(p);
      // With several passes the variation verdict is the merged case's (mergePass), not one pass's share.
      if (why) await done(m, m.finish(m.sampling(p, group, why), ctx.sampling && !ctx.pass ? p.maxRelativeSpread : null));
    };
    if (p.order === 'sequential') {
      for (const m of ms) while (active.has(m)) await step(m);
    } else {
      while (active.size) for (const m of shuffled([...active], rand)) if (active.has(m)) await step(m);
    }
  } catch (err) {
    if (!(err instanceof AbortedError)) throw err;
    const left = ms.filter((m) => active.has(m));
    const partials = left.map((m) => m.partial(m.samples.length ? m.sampling(p, group, 'repetitions') : undefined));
    for (const r of partials.slice(0, -1)) await onDone(r);
    throw new AbortedError(partials.at(-1));
  }
  return ms.map((m) => results.get(m)!);
}

/** One case on its own (see measureGroup). */
export async function measureCase(ctx: MeasureContext, run: CaseRun): Promise<CaseResult> {
  const [r] = await measureGroup(ctx, [run], () => {});
  return r!;
}
