/**
 * HTTP engines in the throughput scenario: closed-loop load at a fixed concurrency, or open-loop load at a request
 * rate (src/engines/openai/open-loop.ts), how serving benchmarks measure a server. One repetition = one load run;
 * its sample is throughput over the run's wall time, request throughput and, with SLO targets, goodput. Every failed
 * request is kept (FailureLog), whatever the error rate; Ctrl-C aborts the requests in flight and keeps the
 * repetitions already measured.
 */
import { type LoadRequestRecord, runClosedLoop } from '../engines/openai/load.js';
import { runOpenLoop } from '../engines/openai/open-loop.js';
import type { RequestRate } from '../config/schema.js';
import type { CaseParams, CaseResult, Sample } from '../results/types.js';
import { meanOrNone } from '../stats/index.js';
import { pct } from '../util/format.js';
import { summarizeCase } from '../results/summary.js';
import type { ScenarioContext } from './context.js';
import { FailureLog } from './failures.js';
import { type EngineHandle, AbortedError, caseBase, serverPromptTokens } from './measure.js';
import { type PreparedPrompt, loadPrompt } from './prompts.js';
import { servingRates } from './serving.js';

/** One load level: closed loop at a concurrency, or open loop at a request rate. */
export type LoadLevel = { concurrency: number; requestRate?: never } | { requestRate: RequestRate; concurrency?: never };

/** The stats mean, undefined (field left out) when there are no values. */
function logRecords(log: FailureLog, records: readonly LoadRequestRecord[], repetition: number | null): void {
  for (const r of records) {
    if (r.error) log.add(r.error, repetition);
    else log.addNotes(r.notes);
  }
}

export async function measureHttpLoad(ctx: ScenarioContext, h: EngineHandle, prepared: PreparedPrompt[], level: LoadLevel): Promise<CaseResult> {
  const c = ctx.config;
  const prompts = prepared.map((p) => loadPrompt(p, h.promptAs === 'ids'));
  const open = level.requestRate !== undefined;
  const params: CaseParams = {
    batchSize: 1,
    promptTokens: Math.round(prepared.reduce((a, p) => a + p.ids.length, 0) / prepared.length),
    genLength: c.genLength,
    ...(open ? { requestRate: level.requestRate, arrival: c.http.arrival } : { concurrency: level.concurrency }),
  };
  const slo = c.http.slo;
  const base = { ...caseBase(ctx, 'throughput', h, params), ...(slo ? { slo } : {}) };
  const failures = new FailureLog();
  const samples: Sample[] = [];
  const served: (number | null)[] = [];
  const finish = (r: CaseResult): CaseResult => {
    for (const w of failures.warnings(r.id)) ctx.warn(w);
    const requestFailures = failures.summary();
    const withServed = { ...r, ...serverPromptTokens(served) };
    return requestFailures ? { ...withServed, requestFailures } : withServed;
  };
  const interrupted = () => new AbortedError(finish({ ...base, state: 'aborted', error: 'interrupted', samples, ...summarizeCase(samples) }));
  if (h.kind !== 'openai') throw new Error(`closed-loop HTTP load needs the openai engine, got ${h.kind}`);
  const engine = h.engine;
  const common = {
    engine,
    prompts,
    maxRequests: c.http.requests,
    durationMs: c.http.durationSec * 1000,
    genLength: c.genLength,
    maxErrorRate: c.http.maxErrorRate,
    signal: ctx.signal,
  };
  // Each run of an open-loop level (warmups first) draws its own arrival times: seed arrivalSeed + its index.
  let run = 0;
  const load = () =>
    open
      ? runOpenLoop({ ...common, rate: level.requestRate, arrival: c.http.arrival, seed: c.http.arrivalSeed + run++, drainMs: c.http.durationSec * 1000 })
      : runClosedLoop({ ...common, concurrency: level.concurrency });
  for (let i = 0; i < ctx.warmup; i++) {
    ctx.progress(`${base.id} warmup ${i + 1}/${ctx.warmup}`);
    const { records } = await load();
    logRecords(failures, records, null);
    if (ctx.signal.aborted) throw interrupted();
  }
  let failure: string | null = null;
  for (let i = 0; i < ctx.repetitions; i++) {
    ctx.progress(`${base.id} run ${i + 1}/${ctx.repetitions}`);
    const { records, summary } = await load();
    logRecords(failures, records, i);
    // An interrupted repetition is incomplete: only the ones before it become samples.
    if (ctx.signal.aborted) throw interrupted();
    const ok = records.filter((r) => !r.error);
    for (const r of ok) served.push(r.promptTokens);
    const latencies = ok.map((r) => r.e2eMs);
    // Over HTTP the server's forward passes are invisible: no NFE, tokens per forward or time per forward.
    const sample: Sample = {
      requests: ok.length,
      latencyMs: meanOrNone(latencies) ?? 0,
      generatedTokens: ok.length ? summary.outputTokens / ok.length : 0,
      usefulTokens: ok.length ? summary.outputTokens / ok.length : 0,
      tokensPerSec: summary.outputTokensPerSec,
      usefulTokensPerSec: summary.outputTokensPerSec,
      values: { latencyMs: latencies },
      errors: summary.errors,
      ...servingRates(records.filter((r) => r.error?.code !== 'aborted'), summary.wallMs, slo),
    };
    const ttfts = ok.map((r) => r.ttftMs).filter((v): v is number => v !== null);
    const tpots = ok.map((r) => r.itlMs).filter((v): v is number => v !== null);
    const gaps = ok.flatMap((r) => r.chunkGapsMs);
    if (ttfts.length) {
      sample.ttftMs = meanOrNone(ttfts)!;
      sample.values.ttftMs = ttfts;
    }
    if (tpots.length) {
      sample.tpotMs = meanOrNone(tpots)!;
      sample.values.tpotMs = tpots;
    }
    if (gaps.length) {
      sample.itlMs = meanOrNone(gaps)!;
      sample.values.itlMs = gaps;
    }
    samples.push(sample);
    if (summary.failed) {
      const first = records.find((r) => r.error)?.error;
      failure = `error rate ${pct(summary.errorRate, 1)} exceeds the limit ${pct(summary.maxErrorRate, 1)}${first ? ` (first: ${first.code}: ${first.message})` : ''}`;
      break;
    }
  }
  return finish(
    failure
      ? { ...base, state: 'errored', error: failure, samples, ...summarizeCase(samples) }
      : { ...base, state: 'completed', samples, ...summarizeCase(samples) },
  );
}
