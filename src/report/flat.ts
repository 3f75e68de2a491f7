/**
 * The flat export (llama-bench / hyperfine style): one row per case with its settings and main figures as columns,
 * for spreadsheets and pandas. `report --format csv` (RFC 4180: a header row, fields quoted when they hold a comma,
 * quote or newline, CRLF-free "\n" line ends) or `--format jsonl` (one JSON object per line, same keys, numbers as
 * numbers, null where a figure does not apply). Columns are documented in FLAT_COLUMNS (and README, "Flat export").
 */
import { field } from '../util/indexing.js';
import type { CaseResult, MetricName, ResultsFile } from '../results/types.js';

type Value = string | number | boolean | null;

const metric = (c: CaseResult, m: MetricName, f: 'mean' | 'sd') => c.summary[m]?.[f] ?? null;
const ci = (c: CaseResult, m: MetricName, end: 0 | 1) => c.summary[m]?.ci95?.[end] ?? null;

/** Every column, in order, with what it holds. */
export const FLAT_COLUMNS: readonly { name: string; doc: string; get: (c: CaseResult, r: ResultsFile) => Value }[] = [
  { name: 'run_id', doc: 'the run', get: (_c, r) => r.runId },
  { name: 'case_id', doc: 'stable case key (compare matches on it)', get: (c) => c.id },
  { name: 'scenario', doc: 'throughput, batch, context or steps', get: (c) => c.scenario },
  { name: 'engine', doc: 'llada, ar, ar-ort, ar-loop, openai', get: (c) => c.engine },
  { name: 'role', doc: 'diffusion or ar: the side of the comparison', get: (c) => c.role ?? null },
  { name: 'model', doc: 'model folder, preset or URL', get: (c) => c.model },
  { name: 'family', doc: 'llada, llama or remote', get: (c) => c.family ?? null },
  { name: 'parameters', doc: "the model's parameter count", get: (c) => c.parameters ?? null },
  { name: 'state', doc: 'completed, errored or aborted', get: (c) => c.state },
  { name: 'device', doc: 'cpu, cuda, webgpu or remote', get: (c) => c.conditions.device },
  { name: 'execution_provider', doc: 'onnxruntime execution provider (http for servers)', get: (c) => c.conditions.executionProvider },
  { name: 'dtype', doc: 'fp32, fp16', get: (c) => c.conditions.dtype },
  { name: 'synthetic', doc: 'seeded random weights (speed real, text noise)', get: (c) => c.conditions.synthetic },
  { name: 'handicaps', doc: 'handicap codes, ";"-separated', get: (c) => (c.conditions.handicapCodes ?? []).join(';') },
  { name: 'batch_size', doc: 'rows per request', get: (c) => c.params.batchSize },
  { name: 'prompt_tokens', doc: 'prompt length (tokens)', get: (c) => c.params.promptTokens },
  { name: 'gen_length', doc: 'generated positions per row', get: (c) => c.params.genLength },
  { name: 'steps', doc: 'diffusion steps (null: AR, or a threshold)', get: (c) => (c.params.threshold != null ? null : (c.params.steps ?? null)) },
  { name: 'threshold', doc: 'Fast-dLLM confidence threshold', get: (c) => c.params.threshold ?? null },
  { name: 'block_length', doc: 'diffusion block length', get: (c) => c.params.blockLength ?? null },
  { name: 'cache', doc: 'diffusion KV cache mode: none, prefix, dual', get: (c) => (c.engine === 'llada' ? (c.params.cache ?? 'none') : null) },
  { name: 'cfg_scale', doc: 'classifier-free guidance scale', get: (c) => c.params.cfgScale ?? null },
  { name: 'concurrency', doc: 'HTTP closed-loop concurrency', get: (c) => c.params.concurrency ?? null },
  { name: 'repetitions', doc: 'measured repetitions (warmup excluded)', get: (c) => c.samples.length },
  { name: 'tokens_per_sec', doc: 'generated positions / wall time, mean over repetitions', get: (c) => metric(c, 'tokensPerSec', 'mean') },
  { name: 'tokens_per_sec_sd', doc: 'its sample standard deviation', get: (c) => metric(c, 'tokensPerSec', 'sd') },
  { name: 'tokens_per_sec_ci_low', doc: "95% CI of the mean (Student's t), low end", get: (c) => ci(c, 'tokensPerSec', 0) },
  { name: 'tokens_per_sec_ci_high', doc: 'high end', get: (c) => ci(c, 'tokensPerSec', 1) },
  { name: 'useful_tokens_per_sec', doc: 'tokens before the first EOS / the time the answer was complete, mean', get: (c) => metric(c, 'usefulTokensPerSec', 'mean') },
  { name: 'useful_tokens_per_sec_ci_low', doc: '95% CI, low end', get: (c) => ci(c, 'usefulTokensPerSec', 0) },
  { name: 'useful_tokens_per_sec_ci_high', doc: '95% CI, high end', get: (c) => ci(c, 'usefulTokensPerSec', 1) },
  { name: 'latency_ms', doc: 'wall time per request, mean', get: (c) => metric(c, 'latencyMs', 'mean') },
  { name: 'latency_p50_ms', doc: 'median over every request of every repetition', get: (c) => c.pooled.latencyMs?.p50 ?? null },
  { name: 'latency_p99_ms', doc: 'p99 over every request', get: (c) => c.pooled.latencyMs?.p99 ?? null },
  { name: 'nfe', doc: 'forward passes per request, mean (local engines)', get: (c) => metric(c, 'nfe', 'mean') },
  { name: 'tokens_per_forward', doc: 'generated tokens / forward passes', get: (c) => metric(c, 'tokensPerForward', 'mean') },
  { name: 'time_per_forward_ms', doc: 'time inside the runtime per forward pass', get: (c) => metric(c, 'timePerForwardMs', 'mean') },
  { name: 'ttft_p50_ms', doc: 'time to first token, median over answers (AR, HTTP)', get: (c) => c.pooled.ttftMs?.p50 ?? null },
  { name: 'tpot_p50_ms', doc: 'time per output token, median over answers', get: (c) => c.pooled.tpotMs?.p50 ?? null },
  { name: 'itl_p50_ms', doc: 'inter-token latency, median over every gap', get: (c) => c.pooled.itlMs?.p50 ?? null },
  { name: 'itl_p99_ms', doc: 'p99 over every gap', get: (c) => c.pooled.itlMs?.p99 ?? null },
  { name: 'accuracy', doc: 'held-out accuracy overall, 0..1 (models with a task file)', get: (c) => (c.state === 'completed' ? (c.quality?.overall.accuracy ?? null) : null) },
  { name: 'accuracy_ci_low', doc: 'Wilson 95% interval, low end', get: (c) => (c.state === 'completed' ? (c.quality?.overall.ci95[0] ?? null) : null) },
  { name: 'accuracy_ci_high', doc: 'high end', get: (c) => (c.state === 'completed' ? (c.quality?.overall.ci95[1] ?? null) : null) },
  { name: 'error', doc: 'why an errored or aborted case stopped', get: (c) => (c.state === 'completed' ? null : c.error) },
];

/** One object per case, keys in FLAT_COLUMNS order. */
export function flatRows(r: ResultsFile): Record<string, Value>[] {
  return r.scenarios.flatMap((s) => s.cases.map((c) => Object.fromEntries(FLAT_COLUMNS.map((col) => [col.name, col.get(c, r)]))));
}

/** RFC 4180 field: quoted when it holds a comma, a quote or a line break; null is an empty field. */
export function csvField(v: Value): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderCsv(r: ResultsFile): string {
  const lines = [FLAT_COLUMNS.map((c) => c.name).join(','), ...flatRows(r).map((row) => FLAT_COLUMNS.map((c) => csvField(field(row, c.name, 'row'))).join(','))];
  return lines.join('\n');
}

export function renderJsonl(r: ResultsFile): string {
  return flatRows(r).map((row) => JSON.stringify(row)).join('\n');
}
