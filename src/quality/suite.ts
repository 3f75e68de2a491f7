/**
 * A model's held-out task suite in a run: where it comes from (a trained preset's shipped heldout.json, or a
 * heldout.json inside a model folder), the prompts the speed scenarios take from it, and the score of a set of
 * decoded answers as a case's `quality`.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TRAINED_PRESETS } from '../models/presets.js';
import { packageRoot } from '../util/version.js';
import type { CaseQuality } from './schema.js';
import { type Heldout, type HeldoutItem, loadHeldout, scoreAnswers, sliceItems, wilsonInterval } from './tasks.js';

export interface QualitySuite {
  /** Where the file is, as results name it (relative to the package when shipped with it). */
  source: string;
  heldout: Heldout;
}

/** The held-out file of a model reference: a trained preset's, or `heldout.json` in a model folder; else null. */
export function heldoutFileFor(ref: string, dir: string | null): string | null {
  if (Object.hasOwn(TRAINED_PRESETS, ref)) {
    const file = join(packageRoot, TRAINED_PRESETS[ref]!.folder, 'heldout.json');
    return existsSync(file) ? file : null;
  }
  if (dir && existsSync(join(dir, 'heldout.json'))) return join(dir, 'heldout.json');
  return null;
}

export function loadSuite(ref: string, dir: string | null): QualitySuite | null {
  const file = heldoutFileFor(ref, dir);
  if (!file) return null;
  const rel = relative(packageRoot, file);
  return { source: rel.startsWith('..') ? file : rel, heldout: loadHeldout(file) };
}

/**
 * Every held-out item, tasks interleaved (the first item of each task, then the second, ...), so that any prefix
 * of the list spreads over the tasks: the prompt list of the speed scenarios for a model that has a suite.
 */
export function interleaveTasks(items: readonly HeldoutItem[]): HeldoutItem[] {
  const byTask = new Map<string, HeldoutItem[]>();
  for (const it of items) {
    if (!byTask.has(it.task)) byTask.set(it.task, []);
    byTask.get(it.task)!.push(it);
  }
  const lists = [...byTask.values()];
  const out: HeldoutItem[] = [];
  const longest = Math.max(0, ...lists.map((l) => l.length));
  for (let i = 0; i < longest; i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
  return out;
}

/** The fixed slice a case decodes for its quality: the first `perTask` items of each task, in file order. */
export function qualityItems(suite: QualitySuite, perTask: number): HeldoutItem[] {
  return sliceItems(suite.heldout.items, perTask);
}

function accuracy(correct: number, total: number) {
  const { low, high } = wilsonInterval(correct, total);
  return { correct, total, accuracy: total === 0 ? 0 : correct / total, ci95: [low, high] as [number, number] };
}

/** A case's quality from its decoded answers (`decoded[i]` answers `items[i]`) and forward passes per answer. */
export function scoreQuality(suite: QualitySuite, perTask: number, items: readonly HeldoutItem[], decoded: readonly string[], nfe: readonly number[]): CaseQuality {
  const tasks = scoreAnswers(items, decoded).map((t) => ({ task: t.task, ...accuracy(t.correct, t.n) }));
  const correct = tasks.reduce((a, t) => a + t.correct, 0);
  const total = tasks.reduce((a, t) => a + t.total, 0);
  return {
    source: suite.source,
    perTask,
    tasks,
    overall: accuracy(correct, total),
    meanNfe: nfe.length ? nfe.reduce((a, b) => a + b, 0) / nfe.length : 0,
  };
}
