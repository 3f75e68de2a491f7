/**
 * Accuracy beside speed, for every exporter: the cases of a scenario that carry `quality` (throughput and steps
 * cases of a model with held-out tasks), one row each: accuracy overall with its Wilson 95% interval, tokens/s,
 * NFE of the timed runs, NFE of the quality decodes (every task), then accuracy per task.
 */
import type { CompletedCase, ScenarioResult } from '../results/types.js';
import { fmt, pct } from '../util/format.js';
import { caseLabel, rateCell } from './format.js';

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

/** Null when no case of the scenario has a quality measurement. */
export function qualityTable(s: ScenarioResult): QualityTable | null {
  const cases = scoredCases(s);
  if (cases.length === 0) return null;
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
  const first = cases[0]!.quality;
  const note = `accuracy on the first ${first.perTask} held-out items of each task (${first.source}), decoded with each case's settings outside the timed runs; exact match, or a validity check where a task has several answers`;
  return { head, rows, note };
}
