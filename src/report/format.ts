/** Shared wording for every exporter: case labels, rows, the run's conditions (numbers: src/util/format.ts). */
import type { CaseResult, ResultsFile } from '../results/types.js';
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
  if (p.concurrency !== undefined) parts.push(`c${p.concurrency}`);
  return parts.join(' ');
}

/** The columns every tabular exporter shows, in order. */
export const COLUMNS = ['engine', 'case', 'tok/s', 'useful tok/s', 'latency ms', 'NFE', 'tok/fwd', 'ms/fwd', 'TTFT ms', 'ITL ms', 'n'] as const;

export function caseRow(c: CaseResult): string[] {
  const m = c.summary;
  return [c.engine, caseLabel(c), pm(m.tokensPerSec), pm(m.usefulTokensPerSec), pm(m.latencyMs), fmt(m.nfe?.mean, 0), fmt(m.tokensPerForward?.mean, 2), fmt(m.timePerForwardMs?.mean, 2), fmt(m.ttftMs?.mean, 1), fmt(m.itlMs?.mean, 2), String(c.samples.length)];
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

export function analysisLines(s: ResultsFile['scenarios'][number]): string[] {
  const lines: string[] = [];
  for (const b of s.analysis.batchEfficiency ?? []) if (b.batchSize > 1) lines.push(`batch efficiency ${b.engine} at B=${b.batchSize}: ${pct(b.efficiency)}`);
  for (const f of s.analysis.costModels ?? []) {
    const ci = (c: { ci95: [number, number] | null }) => (c.ci95 ? ` [${sci(c.ci95[0])}, ${sci(c.ci95[1])}]` : '');
    lines.push(
      `${f.engine} ${f.phase}: ${f.metric} = ${sci(f.c0Ms.value)} + ${sci(f.c1MsPerToken.value)}·L + ${sci(f.c2MsPerToken2.value)}·L²${ci(f.c2MsPerToken2)} ms ` +
        `(c2 with its 95% CI; n ${f.n} over ${f.distinctLengths} lengths, R² ${fmt(f.r2, 3)})`,
    );
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
