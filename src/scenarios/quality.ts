/**
 * Quality beside speed: after a case's timed repetitions, the engine decodes a fixed slice of its model's held-out
 * prompts with the case's exact call (steps, threshold, cache mode; AR as the case runs it, the answer cut at the
 * first EOS by the checker), one prompt per request, and the answers are scored. Never inside a timed sample.
 */
import type { CaseQuality } from '../quality/schema.js';
import { type QualitySuite, interleaveTasks, qualityItems, scoreQuality } from '../quality/suite.js';
import type { PromptTokenizer } from '../models/tokenize.js';
import type { EngineCall } from './measure.js';
import type { PreparedPrompt } from './prompts.js';

export interface QualityRun {
  suite: QualitySuite;
  perTask: number;
  tokenizer: PromptTokenizer;
  genLength: number;
  call: EngineCall;
  signal: AbortSignal;
  progress?: (text: string) => void;
}

/** The case's quality, or a one-line reason it has none (an engine error, Ctrl-C). */
export async function measureQuality(q: QualityRun): Promise<{ ok: true; quality: CaseQuality } | { ok: false; reason: string }> {
  const items = qualityItems(q.suite, q.perTask);
  const decoded: string[] = [];
  const nfe: number[] = [];
  for (const [i, item] of items.entries()) {
    if (q.signal.aborted) return { ok: false, reason: 'interrupted' };
    q.progress?.(`quality ${i + 1}/${items.length}`);
    const r = await q.call({ prompts: [item.promptIds], genLength: q.genLength, promptTexts: [item.prompt] }, q.signal);
    if (!r.ok) return { ok: false, reason: `${r.error.code}: ${r.error.message}` };
    decoded.push(q.tokenizer.decode(r.value.tokens[0]!));
    nfe.push(r.value.trace.length);
  }
  return { ok: true, quality: scoreQuality(q.suite, q.perTask, items, decoded, nfe) };
}

/**
 * The prompt list of the speed scenarios for a model with held-out tasks: its task prompts (tasks interleaved, so
 * the first few cover every task), through the model's own tokenizer and chat template like any prompt set.
 */
export function suitePrompts(suite: QualitySuite, tokenizer: PromptTokenizer, chat: boolean): PreparedPrompt[] {
  return interleaveTasks(suite.heldout.items).map((it) => ({ text: it.prompt, ids: tokenizer.encode(it.prompt, chat) }));
}
