/**
 * HTTP engines in the throughput scenario: closed-loop load at a fixed concurrency (how serving benchmarks measure
 * a server). One repetition = one closed-loop run; its sample is throughput over the run's wall time. Every failed
 * request is kept (FailureLog), whatever the error rate; Ctrl-C aborts the requests in flight and keeps the
 * repetitions already measured.
 */
import { type LoadRequestRecord, runClosedLoop } from '../engines/openai/load.js';
import type { CaseParams, CaseResult, Sample } from '../results/types.js';
import { mean } from '../stats/index.js';
import { pct } from '../util/format.js';
import { summarizeCase } from '../results/summary.js';
import type { ScenarioContext } from './context.js';
import { FailureLog } from './failures.js';
import { type EngineHandle, AbortedError, caseBase } from './measure.js';

/** The stats mean, undefined (field left out) when there are no values. */
const avg = (xs: number[]) => (xs.length ? mean(xs) : undefined);

function logRecords(log: FailureLog, records: readonly LoadRequestRecord[], repetition: number | null): void {
  for (const r of records) {
    if (r.error) log.add(r.error, repetition);
    else log.addNotes(r.notes);
  }
}

export async function measureHttpLoad(ctx: ScenarioContext, h: EngineHandle, concurrency: number): Promise<CaseResult> {
  const c = ctx.config;
  const prompts = ctx.prompts.get(h)!.map((p) => ({ text: p.text, ids: p.ids.length ? p.ids : undefined }));
  const params: CaseParams = {
    batchSize: 1,
    promptTokens: Math.round(ctx.prompts.get(h)!.reduce((a, p) => a + p.ids.length, 0) / prompts.length),
    genLength: c.genLength,
    concurrency,
  };
  const base = caseBase(ctx, 'throughput', h, params);
  const failures = new FailureLog();
  const samples: Sample[] = [];
  const finish = (r: CaseResult): CaseResult => {
    for (const w of failures.warnings(r.id)) ctx.warn(w);
    const requestFailures = failures.summary();
    return requestFailures ? { ...r, requestFailures } : r;
  };
  const interrupted = () => new AbortedError(finish({ ...base, state: 'aborted', error: 'interrupted', samples, ...summarizeCase(samples) }));
  if (h.kind !== 'openai') throw new Error(`closed-loop HTTP load needs the openai engine, got ${h.kind}`);
  const engine = h.engine;
  const load = () =>
    runClosedLoop({
      engine,
      prompts,
      concurrency,
      maxRequests: c.http.requests,
      durationMs: c.http.durationSec * 1000,
      genLength: c.genLength,
      maxErrorRate: c.http.maxErrorRate,
      signal: ctx.signal,
    });
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
    const latencies = ok.map((r) => r.e2eMs);
    // Over HTTP the server's forward passes are invisible: no NFE, tokens per forward or time per forward.
    const sample: Sample = {
      requests: ok.length,
      latencyMs: avg(latencies) ?? 0,
      generatedTokens: ok.length ? summary.outputTokens / ok.length : 0,
      usefulTokens: ok.length ? summary.outputTokens / ok.length : 0,
      tokensPerSec: summary.outputTokensPerSec,
      usefulTokensPerSec: summary.outputTokensPerSec,
      values: { latencyMs: latencies },
      errors: summary.errors,
    };
    const ttfts = ok.map((r) => r.ttftMs).filter((v): v is number => v !== null);
    const tpots = ok.map((r) => r.itlMs).filter((v): v is number => v !== null);
    const gaps = ok.flatMap((r) => r.chunkGapsMs);
    if (ttfts.length) {
      sample.ttftMs = avg(ttfts)!;
      sample.values.ttftMs = ttfts;
    }
    if (tpots.length) {
      sample.tpotMs = avg(tpots)!;
      sample.values.tpotMs = tpots;
    }
    if (gaps.length) {
      sample.itlMs = avg(gaps)!;
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
