/**
 * Accuracy beside speed, for every exporter: the cases of a scenario that carry `quality` (throughput and steps
 * cases scored on a task suite), one row each. Held-out tasks: accuracy overall with its Wilson 95% interval,
 * tokens/s, NFE of the timed runs, NFE of the quality decodes, then accuracy per task. GSM8K: Fast-dLLM's table,
 * both of lm-eval's filters, tok/s of the quality decodes counted both ways, speed-up over the diffusion baseline,
 * and, for LLaDA-8B-Instruct, the published figures labelled as such.
 */
import type { CompletedCase, ScenarioResult } from '../results/types.js';
import { fmt, pct } from '../util/format.js';
import { caseLabel, rateCell } from './format.js';
import { at } from '../util/indexing.js';

type Scored = CompletedCase & { quality: NonNullable<CompletedCase['quality']> };

export function scoredCases(s: ScenarioResult): Scored[] {
  return s.cases.filter((c): c is Scored => c.state === 'completed' && c.quality !== undefined);
}

export interface QualityTable {
  head: string[];
  rows: string[][];
  /** One line on what was decoded and how it is counted. */
  note: string;
}

const withCi = (a: { accuracy: number; correct: number; total: number; ci95: [number, number] }) =>
  `${pct(a.accuracy, 1)} (${a.correct}/${a.total}; ${pct(a.ci95[0])}-${pct(a.ci95[1])})`;

/**
 * Fast-dLLM's published GSM8K (5-shot, gen length 256) figures for LLaDA-8B-Instruct, as the paper reports them:
 * shown beside measured rows when the model is LLaDA-8B-Instruct, never mixed with them.
 */
export const PUBLISHED_LLADA_8B_INSTRUCT = {
  hardware: 'one NVIDIA A100, batch 1, gen length 256 (Fast-dLLM paper)',
  rows: [
    { setting: 'baseline (LLaDA sampler)', accuracy: 0.793, tokensPerSec: 6.7 },
    { setting: 'prefix cache + threshold 0.9', accuracy: 0.785, tokensPerSec: 54.4 },
  ],
};

/** The diffusion baseline of a GSM8K table: LLaDA without cache or threshold, the most steps. */
function baselineOf(cases: readonly Scored[]): Scored | undefined {
  const plain = cases.filter((c) => c.engine === 'llada' && c.params.threshold == null && (c.params.cache ?? 'none') === 'none');
  return plain.sort((a, b) => (b.params.steps ?? 0) - (a.params.steps ?? 0))[0];
}

function gsm8kTable(cases: readonly Scored[]): QualityTable {
  const head = ['engine', 'case', 'flexible-extract (95% CI)', 'strict-match (95% CI)', 'tok/s (timed)', 'tok/s on GSM8K', 'answer tok/s (Fast-dLLM count)', 'speed-up', 'NFE on tasks', 'batch'];
  const base = baselineOf(cases);
  const baseRate = base?.quality.answerTokensPerSec ?? base?.quality.tokensPerSec;
  const rows = cases.map((c) => {
    const q = c.quality;
    const f = q.filters;
    const rate = q.answerTokensPerSec ?? q.tokensPerSec;
    const speedup = baseRate && rate !== undefined ? `${(rate / baseRate).toFixed(2)}x` : '-';
    return [
      c.engine,
      caseLabel(c) + (q.interrupted ? ` (interrupted: ${q.items}/${q.planned})` : ''),
      f ? withCi(f.flexibleExtract) : withCi(q.overall),
      f ? withCi(f.strictMatch) : '-',
      rateCell(c, 'tokensPerSec'),
      fmt(q.tokensPerSec, 1),
      fmt(q.answerTokensPerSec, 1),
      c === base ? '1.00x (baseline)' : speedup,
      fmt(q.meanNfe, 1),
      q.batchSize !== undefined ? String(q.batchSize) : '-',
    ];
  });
  if (cases.some((c) => /llada-8b-instruct/i.test(c.model))) {
    for (const p of PUBLISHED_LLADA_8B_INSTRUCT.rows) {
      rows.push(['published', `${p.setting}, ${PUBLISHED_LLADA_8B_INSTRUCT.hardware}`, pct(p.accuracy, 1), '-', '-', '-', fmt(p.tokensPerSec, 1), '-', '-', '1']);
    }
  }
  const first = at(cases, 0, 'cases').quality;
  const n = first.items ?? first.overall.total;
  const note =
    `GSM8K 5-shot as lm-evaluation-harness v0.4.8 runs it: the first ${n} of 1,319 test questions, answers cut at Question:, </s>, <|im_end|> and the model's end of turn; ` +
    `exact match after lm-eval's filters, led by ${first.filters?.leading ?? 'flexible-extract'} (strict-match needs the "#### N" format); ` +
    "tok/s on GSM8K: generated positions per second of the quality decodes; answer tok/s: Fast-dLLM's count (answer tokens after the cut, EOS excluded); speed-up: answer tok/s over the diffusion baseline's";
  return { head, rows, note };
}

/** Null when no case of the scenario has a quality measurement. */
export function qualityTable(s: ScenarioResult): QualityTable | null {
  const cases = scoredCases(s);
  if (cases.length === 0) return null;
  if (cases.some((c) => c.quality.suite === 'gsm8k')) return gsm8kTable(cases.filter((c) => c.quality.suite === 'gsm8k'));
  const tasks = [...new Set(cases.flatMap((c) => c.quality.tasks.map((t) => t.task)))];
  const head = ['engine', 'case', 'accuracy (95% CI)', 'tok/s', 'NFE', 'NFE on tasks', ...tasks];
  const rows = cases.map((c) => {
    const q = c.quality;
    const o = q.overall;
    const perTask = tasks.map((name) => {
      const t = q.tasks.find((x) => x.task === name);
      return t ? `${pct(t.accuracy)} (${t.correct}/${t.total})` : '-';
    });
    return [c.engine, caseLabel(c), `${pct(o.accuracy, 1)} (${pct(o.ci95[0])}-${pct(o.ci95[1])})`, rateCell(c, 'tokensPerSec'), fmt(c.summary.nfe?.mean, 1), fmt(q.meanNfe, 1), ...perTask];
  });
  const first = at(cases, 0, 'cases').quality;
  const slice = first.perTask !== undefined ? `the first ${first.perTask} held-out items of each task` : `the first ${first.items ?? first.overall.total} items`;
  const note = `accuracy on ${slice} (${first.source}), decoded with each case's settings outside the timed runs; exact match, or a validity check where a task has several answers`;
  return { head, rows, note };
}
