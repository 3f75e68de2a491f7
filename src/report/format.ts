/** Shared wording for every exporter: case labels, rows, the run's conditions (numbers: src/util/format.ts). */
import type { CaseResult, ResultsFile } from '../results/types.js';
import { relativeSpread } from '../stats/index.js';
import { fmt, pct, pm } from '../util/format.js';

export { fmt, pm };

export function caseLabel(c: CaseResult): string {
  const p = c.params;
  const parts = [`b${p.batchSize}`, `p${p.promptTokens}`, `g${p.genLength}`];
  if (c.engine === 'llada') {
    parts.push(p.threshold != null ? `thr ${p.threshold}` : `${p.steps} steps`, `blk ${p.blockLength}`);
    if (p.cfgScale) parts.push(`cfg ${p.cfgScale}`);
    if (p.cache && p.cache !== 'none') parts.push(`${p.cache} cache`);
  }
  if (c.serverPromptTokens !== undefined && Math.round(c.serverPromptTokens) !== p.promptTokens) parts[1] = `p${p.promptTokens} (server ${fmt(c.serverPromptTokens, 0)})`;
  if (p.concurrency !== undefined) parts.push(`c${p.concurrency}`);
  if (p.requestRate !== undefined) parts.push(p.requestRate === 'inf' ? 'rate inf' : `rate ${p.requestRate}/s${p.arrival === 'constant' ? ' constant' : ''}`);
  return parts.join(' ');
}

/**
 * The columns every tabular exporter shows, in order. Rates and latency: mean ± sd over repetitions. TTFT and TPOT:
 * p50 over answers; ITL: p50 / p99 over every inter-token gap (vLLM's definitions), all repetitions pooled.
 */
export const COLUMNS = ['engine', 'case', 'tok/s', 'useful tok/s', 'latency ms', 'NFE', 'tok/fwd', 'ms/fwd', 'TTFT p50 ms', 'TPOT p50 ms', 'ITL p50/p99 ms', 'n'] as const;

/**
 * A rate's mean ± sd, marked "noisy ±N%" when its 95% interval is wider than the run's variation limit allows
 * (the case's high-variation warning says what to do).
 */
export function rateCell(c: CaseResult, metric: 'tokensPerSec' | 'usefulTokensPerSec'): string {
  const s = c.summary[metric];
  const limit = c.state === 'completed' ? c.variation?.threshold : undefined;
  const spread = s && limit !== undefined ? relativeSpread(s).relativeHalfWidth : null;
  return `${pm(s)}${spread !== null && limit !== undefined && spread > limit ? ` noisy ±${pct(spread)}` : ''}`;
}

export function caseRow(c: CaseResult): string[] {
  const m = c.summary;
  const p = c.pooled;
  const itl = p.itlMs ? `${fmt(p.itlMs.p50, 2)} / ${fmt(p.itlMs.p99, 2)}` : '-';
  return [c.engine, caseLabel(c), rateCell(c, 'tokensPerSec'), rateCell(c, 'usefulTokensPerSec'), pm(m.latencyMs), fmt(m.nfe?.mean, 0), fmt(m.tokensPerForward?.mean, 2), fmt(m.timePerForwardMs?.mean, 2), fmt(p.ttftMs?.p50, 1), fmt(p.tpotMs?.p50, 2), itl, String(c.samples.length)];
}

export function environmentLine(r: ResultsFile): string {
  const e = r.environment;
  const gpu = e.gpus[0] ? `${e.gpus[0].name}${e.gpus[0].driver ? ` (driver ${e.gpus[0].driver})` : ''}` : 'no GPU';
  return `${e.executionProvider} execution provider; ${gpu}; CPU ${e.cpuModel} x${e.cpuCount}; onnxruntime ${e.onnxruntime}; Node ${e.node}; ${e.os}`;
}

/** What each engine is for, in one line (the reports' conditions section). */
export const ENGINE_PURPOSE: Record<CaseResult['engine'], string> = {
  llada: 'LLaDA diffusion sampler',
  ar: 'transformers.js greedy decoding: the in-process library baseline',
  'ar-ort': 'a host-driven onnxruntime decode loop: the readable reference, the cache is fed back every token',
  'ar-loop': 'the whole greedy decode in one onnxruntime call (ONNX Loop, cache on the device): the AR side at its best',
  openai: 'an OpenAI-compatible server over HTTP',
};

/** Distinct conditions and handicaps across cases, for the "conditions" section of every report. */
export function conditionLines(r: ResultsFile): string[] {
  const seen = new Map<string, string>();
  for (const c of r.scenarios.flatMap((s) => s.cases)) {
    const key = `${c.engine}|${c.model}`;
    if (seen.has(key)) continue;
    const k = c.conditions;
    const attention = k.attention ? `, attention ${k.attention}` : '';
    const timing = k.timingNote ? `; ${k.timingNote}` : '';
    seen.set(key, `${c.engine} (${ENGINE_PURPOSE[c.engine]}): ${c.model} on ${k.device} (${k.executionProvider}), ${k.dtype}${attention}, ${k.synthetic ? 'synthetic weights (speed is real, text is noise)' : 'real weights'}${k.handicaps.length ? `; handicap: ${k.handicaps.join('; ')}` : ''}${timing}`);
  }
  return [...seen.values()];
}

/** "92% (95% CI 85% to 99%)", or the figure alone without an interval. */
function withCi(v: number, ci: readonly [number, number] | null): string {
  return ci ? `${pct(v)} (95% CI ${pct(ci[0])} to ${pct(ci[1])})` : pct(v);
}

export function analysisLines(s: ResultsFile['scenarios'][number]): string[] {
  const lines: string[] = [];
  // One line per batch size, every engine beside the others (LLaDA against AR is the comparison that matters).
  const byBatch = new Map<number, string[]>();
  for (const b of s.analysis.batchEfficiency ?? []) {
    if (b.batchSize <= 1) continue;
    if (!byBatch.has(b.batchSize)) byBatch.set(b.batchSize, []);
    byBatch.get(b.batchSize)!.push(`${b.engine} ${withCi(b.efficiency, b.ci95)}`);
  }
  for (const [B, parts] of [...byBatch].sort((a, b) => a[0] - b[0])) {
    lines.push(`batch efficiency at B=${B} (same ${B} prompts one at a time vs as one batch): ${parts.join('; ')}`);
  }
  for (const f of s.analysis.costModels ?? []) {
    const ci = (c: { ci95: [number, number] | null }) => (c.ci95 ? ` [${sci(c.ci95[0])}, ${sci(c.ci95[1])}]` : '');
    lines.push(
      `${f.engine} ${f.phase}: ${f.metric} = ${sci(f.c0Ms.value)} + ${sci(f.c1MsPerToken.value)}·L + ${sci(f.c2MsPerToken2.value)}·L²${ci(f.c2MsPerToken2)} ms ` +
        `(c2 with its 95% CI; n ${f.n} over ${f.distinctLengths} lengths, R² ${fmt(f.r2, 3)})`,
    );
  }
  const pp = s.analysis.promptParity;
  if (pp && pp.differenceTokens !== null) {
    lines.push(`prompt tokens per side: diffusion ${fmt(pp.diffusionPromptTokens!, 1)}, AR ${fmt(pp.arPromptTokens!, 1)} (difference ${pp.differenceTokens > 0 ? '+' : ''}${fmt(pp.differenceTokens, 1)}${Math.abs(pp.differenceTokens) > 4 ? ': not the same work, claims refuse a ratio' : ''})`);
  }
  for (const f of s.analysis.scaling ?? []) {
    lines.push(`${f.engine}: ${f.metric} ~ prompt^${fmt(f.exponent, 2)} (95% CI ${fmt(f.ci95?.[0], 2)} to ${fmt(f.ci95?.[1], 2)}, R² ${fmt(f.r2, 3)}; legacy log-log fit)`);
  }
  return lines;
}

/** Three significant figures, exponent form for small values: cost-model coefficients span many magnitudes. */
function sci(v: number): string {
  return v === 0 || (Math.abs(v) >= 0.01 && Math.abs(v) < 1e5) ? String(Number(v.toPrecision(3))) : v.toExponential(2);
}

/** "12% / 10%" (in run / end to end). */
const pair = (a: number | null, b: number | null) => `${pct(a, 1)} / ${pct(b, 1)}`;

/**
 * MFU and MBU of each throughput case, against each engine's own device peak for its dtype: in run (session.run
 * time) / end to end (wall time); AR split into prefill (MFU) and decode (MBU over weights + KV cache read).
 */
export function efficiencyLines(r: ResultsFile): string[] {
  const cases = r.scenarios.filter((s) => s.kind === 'throughput').flatMap((s) => s.cases);
  const lines: string[] = [];
  let unknown = 0;
  for (const c of cases) {
    if (c.state !== 'completed' || !c.efficiency) continue;
    const e = c.efficiency;
    if (e.peakSource === null) {
      unknown++;
      continue;
    }
    const phases = e.prefill && e.decode ? `; prefill MFU ${pair(e.prefill.mfuInRun, e.prefill.mfuEndToEnd)}; decode MBU ${pair(e.decode.mbuInRun, e.decode.mbuEndToEnd)}` : '';
    lines.push(`${c.engine} ${caseLabel(c)}: MFU ${pair(e.mfuInRun, e.mfuEndToEnd)}, MBU ${pair(e.mbuInRun, e.mbuEndToEnd)}${phases} (peak: ${e.peakSource})`);
  }
  if (unknown) lines.push(`${unknown} case(s) ran where no device peak is known (CPU): FLOPs and bytes per forward are in results.json, MFU/MBU are not computed`);
  return lines;
}
