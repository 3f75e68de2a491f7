/**
 * A task suite in a run: the twins' held-out tasks (a trained preset's shipped heldout.json, a heldout.json inside a
 * model folder, or any task file named with --tasks FILE) or GSM8K as lm-evaluation-harness runs it; the items a
 * case decodes (a fixed slice: the first N), and the score of a set of decoded answers as a case's `quality`.
 */
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { TRAINED_PRESETS } from '../models/presets.js';
import { UserError } from '../util/errors.js';
import { packageRoot } from '../util/version.js';
import type { Accuracy, CaseQuality } from './schema.js';
import { type Gsm8kData, GSM8K_SOURCE, GSM8K_STOPS, gsm8kPrompt, loadGsm8k, scoreGsm8k } from './gsm8k.js';
import { type Heldout, type HeldoutItem, checkAnswer, loadHeldout, sliceItems, wilsonInterval } from './tasks.js';
import { at, field } from '../util/indexing.js';

export type QualitySuite =
  | {
      kind: 'heldout';
      /** 'twins' for the twins' own file, 'file' for a task file named with --tasks FILE. */
      name: 'twins' | 'file';
      /** Where the file is, as results name it (relative to the package when shipped with it). */
      source: string;
      heldout: Heldout;
      /** The items' promptIds are this model's own (its trained tokenizer and template); else prompts are re-encoded. */
      ownIds: boolean;
    }
  | { kind: 'gsm8k'; name: 'gsm8k'; source: string; data: Gsm8kData };

export type HeldoutSuite = Extract<QualitySuite, { kind: 'heldout' }>;

/** One item a case decodes: its position in the suite, its task, the prompt text (before any chat template). */
export interface QualityItem {
  index: number;
  task: string;
  prompt: string;
  /** Ids to send as they are (a task file's own ids for its own model); otherwise the text is encoded per model. */
  promptIds?: number[];
  heldout?: HeldoutItem;
}

/** Which items a case decodes: the first `limit` of the suite, or (held-out tasks without a limit) `perTask` of each task. */
export interface ItemSelection {
  perTask: number;
  limit?: number | 'all';
}

/** The held-out file of a model reference: a trained preset's, or `heldout.json` in a model folder; else null. */
export function heldoutFileFor(ref: string, dir: string | null): string | null {
  if (Object.hasOwn(TRAINED_PRESETS, ref)) {
    const file = join(packageRoot, field(TRAINED_PRESETS, ref, 'TRAINED_PRESETS').folder, 'heldout.json');
    return existsSync(file) ? file : null;
  }
  if (dir && existsSync(join(dir, 'heldout.json'))) return join(dir, 'heldout.json');
  return null;
}

const shown = (file: string) => {
  const rel = relative(packageRoot, file);
  return rel.startsWith('..') ? file : rel;
};

/** The model's own held-out suite (the twins' default), or null. */
export function loadSuite(ref: string, dir: string | null): HeldoutSuite | null {
  const file = heldoutFileFor(ref, dir);
  if (!file) return null;
  return { kind: 'heldout', name: Object.hasOwn(TRAINED_PRESETS, ref) ? 'twins' : 'file', source: shown(file), heldout: loadHeldout(file), ownIds: true };
}

/**
 * The suite a run names with `--tasks`: `twins` (the twins' held-out file), `gsm8k`, or a task file; for a model
 * whose own suite it is (the twins' file for the twins), its own prompt ids are kept.
 */
export function namedSuite(name: string, own: QualitySuite | null): QualitySuite {
  if (name === 'gsm8k') return { kind: 'gsm8k', name: 'gsm8k', source: GSM8K_SOURCE, data: loadGsm8k() };
  const file = name === 'twins' ? heldoutFileFor('twins', null) : resolve(name);
  if (!file || !existsSync(file)) throw new UserError(`--tasks ${name}: not twins, gsm8k or an existing task file`);
  const source = shown(file);
  const ownIds = own?.kind === 'heldout' && own.source === source;
  return { kind: 'heldout', name: name === 'twins' ? 'twins' : 'file', source, heldout: loadHeldout(file), ownIds };
}

/**
 * Every held-out item, tasks interleaved (the first item of each task, then the second, ...), so that any prefix
 * of the list spreads over the tasks: the prompt list of the speed scenarios for a model that has a suite.
 */
export function interleaveTasks<T extends { task: string }>(items: readonly T[]): T[] {
  const byTask = new Map<string, T[]>();
  for (const it of items) {
    if (!byTask.has(it.task)) byTask.set(it.task, []);
    byTask.get(it.task)!.push(it);
  }
  const lists = [...byTask.values()];
  const out: T[] = [];
  const longest = Math.max(0, ...lists.map((l) => l.length));
  for (let i = 0; i < longest; i++) for (const l of lists) if (i < l.length) out.push(at(l, i, 'l'));
  return out;
}

function heldoutItem(suite: HeldoutSuite, it: HeldoutItem, index: number): QualityItem {
  return { index, task: it.task, prompt: it.prompt, ...(suite.ownIds ? { promptIds: it.promptIds } : {}), heldout: it };
}

/** Every item of the suite in its prompt order (held-out tasks interleaved): the speed scenarios' prompt list. */
export function allItems(suite: QualitySuite): QualityItem[] {
  if (suite.kind === 'gsm8k') return suite.data.test.map((_, i) => ({ index: i, task: 'gsm8k', prompt: gsm8kPrompt(suite.data, i) }));
  const indexed = suite.heldout.items.map((it, i) => ({ it, i, task: it.task }));
  return interleaveTasks(indexed).map(({ it, i }) => heldoutItem(suite, it, i));
}

/** The fixed slice a case decodes for its quality. */
export function qualityItems(suite: QualitySuite, sel: ItemSelection | number): QualityItem[] {
  const s: ItemSelection = typeof sel === 'number' ? { perTask: sel } : sel;
  if (s.limit !== undefined) {
    const all = allItems(suite);
    return s.limit === 'all' ? all : all.slice(0, s.limit);
  }
  if (suite.kind === 'gsm8k') return allItems(suite);
  const index = new Map(suite.heldout.items.map((it, i) => [it, i]));
  return sliceItems(suite.heldout.items, s.perTask).map((it) => heldoutItem(suite, it, index.get(it)!));
}

function accuracy(correct: number, total: number): Accuracy {
  const { low, high } = wilsonInterval(correct, total);
  return { correct, total, accuracy: total === 0 ? 0 : correct / total, ci95: [low, high] };
}

/** What the quality decodes measured besides the answers: forward passes, time, tokens, batch. */
export interface DecodeStats {
  nfe: readonly number[];
  /** Wall time of all the quality decodes, ms. */
  decodeMs?: number;
  /** Generated positions over all items (dllm-bench's count). */
  generatedTokens?: number;
  /** Answer tokens after the stop-string cut, EOS excluded, over all items (Fast-dLLM's count); absent without a tokenizer. */
  answerTokens?: number;
  batchSize?: number;
  /** Items the pass meant to decode (more than decoded when interrupted). */
  planned?: number;
  /** Extra stop strings (the model's end-of-turn texts) for GSM8K's cut. */
  stops?: readonly string[];
}

/** The filter a GSM8K quality leads with (its `overall`): flexible-extract, which does not need the `####` format. */
export const LEADING_FILTER = 'flexible-extract' as const;

/** A case's quality from its decoded answers (`decoded[i]` answers `items[i]`). */
export function scoreQuality(suite: QualitySuite, sel: ItemSelection | number, items: readonly QualityItem[], decoded: readonly string[], stats: DecodeStats | readonly number[]): CaseQuality {
  if (items.length !== decoded.length) throw new RangeError(`scoreQuality: ${items.length} items but ${decoded.length} answers`);
  const s: ItemSelection = typeof sel === 'number' ? { perTask: sel } : sel;
  const st: DecodeStats = Array.isArray(stats) ? { nfe: stats as readonly number[] } : (stats as DecodeStats);
  let tasks: CaseQuality['tasks'];
  let overall: Accuracy;
  let filters: CaseQuality['filters'];
  if (suite.kind === 'gsm8k') {
    const stops = [...GSM8K_STOPS, ...(st.stops ?? [])];
    const scores = items.map((it, i) => scoreGsm8k(at(decoded, i, 'decoded'), at(suite.data.test, it.index, 'suite.data.test'), stops));
    const strict = accuracy(scores.filter((x) => x.strictCorrect).length, scores.length);
    const flexible = accuracy(scores.filter((x) => x.flexibleCorrect).length, scores.length);
    filters = { strictMatch: strict, flexibleExtract: flexible, leading: LEADING_FILTER };
    overall = flexible;
    tasks = [{ task: 'gsm8k', ...flexible }];
  } else {
    const tally = new Map<string, { correct: number; n: number }>();
    items.forEach((it, i) => {
      const t = tally.get(it.task) ?? { correct: 0, n: 0 };
      t.n += 1;
      if (checkAnswer(it.heldout!, at(decoded, i, 'decoded'))) t.correct += 1;
      tally.set(it.task, t);
    });
    tasks = [...tally.entries()].map(([task, t]) => ({ task, ...accuracy(t.correct, t.n) }));
    overall = accuracy(
      tasks.reduce((a, t) => a + t.correct, 0),
      tasks.reduce((a, t) => a + t.total, 0),
    );
  }
  const seconds = st.decodeMs !== undefined && st.decodeMs > 0 ? st.decodeMs / 1000 : null;
  return {
    suite: suite.name,
    source: suite.source,
    ...(s.limit === undefined && suite.kind === 'heldout' ? { perTask: s.perTask } : { limit: s.limit ?? 'all' }),
    tasks,
    overall,
    ...(filters ? { filters } : {}),
    meanNfe: st.nfe.length ? st.nfe.reduce((a, b) => a + b, 0) / st.nfe.length : 0,
    items: items.length,
    ...(st.planned !== undefined && st.planned > items.length ? { planned: st.planned, interrupted: true } : {}),
    ...(st.batchSize !== undefined ? { batchSize: st.batchSize } : {}),
    ...(st.decodeMs !== undefined ? { decodeMs: st.decodeMs } : {}),
    ...(st.generatedTokens !== undefined && seconds ? { tokensPerSec: st.generatedTokens / seconds } : {}),
    ...(st.answerTokens !== undefined ? { answerTokens: st.answerTokens, ...(seconds ? { answerTokensPerSec: st.answerTokens / seconds } : {}) } : {}),
  };
}
