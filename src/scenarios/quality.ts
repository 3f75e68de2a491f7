/**
 * Quality beside speed: after a case's timed repetitions, the engine decodes a fixed slice of a task suite (the
 * twins' held-out tasks, a task file, GSM8K) with the case's exact call (steps, threshold, cache mode; AR as the case
 * runs it, the answer cut at the first stop by the scorer), `batchSize` prompts per request (left-padded rows; HTTP
 * rows run concurrently), and the answers are scored. Never inside a timed sample. Ctrl-C keeps what was decoded.
 */
import type { CaseQuality } from '../quality/schema.js';
import { type QualityItem, type QualitySuite, allItems, qualityItems, scoreQuality } from '../quality/suite.js';
import type { PromptTokenizer } from '../models/tokenize.js';
import { GSM8K_STOPS, cutAtStops } from '../quality/gsm8k.js';
import type { EngineCall } from './measure.js';
import type { PreparedPrompt } from './prompts.js';

export interface QualityRun {
  suite: QualitySuite;
  perTask: number;
  /** The first `limit` items of the suite (--task-limit); default: perTask of each held-out task, all of GSM8K. */
  limit?: number | 'all';
  /** Null for HTTP engines without a local tokenizer: prompts go as text, answers come back as text. */
  tokenizer: PromptTokenizer | null;
  /** Wrap prompts in the model's chat template (when it has one). */
  chat?: boolean;
  /** Rows per request (default 1). */
  batchSize?: number;
  /** The engine's end-of-turn ids: their text ends an answer (lm-eval adds the EOS text to `until`). */
  eosTokenIds?: readonly number[];
  genLength: number;
  call: EngineCall;
  signal: AbortSignal;
  progress?: (text: string) => void;
  /** Clock in ms (tests); default Date.now. */
  now?: () => number;
}

/** The ids each model sees for an item: the file's own ids for its own model, else the text through its tokenizer. */
export function itemIds(item: QualityItem, tokenizer: PromptTokenizer | null, chat: boolean): number[] {
  if (item.promptIds) return item.promptIds;
  return tokenizer ? tokenizer.encode(item.prompt, chat) : [];
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** "quality 12/20, ETA 35 s": the items done over the planned, the time left at the pace so far. */
export function progressText(done: number, total: number, elapsedMs: number): string {
  const eta = done > 0 && done < total ? `, ETA ${formatDuration(((total - done) * elapsedMs) / done)}` : '';
  return `quality ${done}/${total}${eta}`;
}

/** The answer text of each row: decoded ids, or the text an HTTP engine streamed. */
function answers(value: { tokens: number[][]; requests?: { text: string }[] }, rows: number, tokenizer: PromptTokenizer | null): string[] {
  return Array.from({ length: rows }, (_, i) => {
    const http = value.requests?.[i];
    if (http) return http.text;
    return tokenizer ? tokenizer.decode(value.tokens[i] ?? []) : '';
  });
}

/**
 * Fast-dLLM's token count of one answer: the generated tokens before the first EOS that lie inside the answer
 * after the stop-string cut (the longest id prefix whose text fits in the cut text). Over HTTP, where ids never come
 * back, the cut text through the local tokenizer; null without one.
 */
export function fastDllmTokens(text: string, ids: readonly number[] | null, tokenizer: PromptTokenizer | null, eos: readonly number[], stops: readonly string[]): number | null {
  const cut = cutAtStops(text, [...GSM8K_STOPS, ...stops]);
  if (ids === null) return tokenizer ? tokenizer.count(cut) : null;
  if (!tokenizer) return null;
  let hi = ids.findIndex((t) => eos.includes(t));
  if (hi < 0) hi = ids.length;
  let lo = 0;
  // Largest k in [0, hi] with decode(ids[:k]) a prefix of the cut text (decoded length grows with k).
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (cut.startsWith(tokenizer.decode(ids.slice(0, mid)))) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The case's quality, or a one-line reason it has none (an engine error, Ctrl-C before any item). An interrupted
 * pass with decoded items keeps them: its quality says how far it got (`items` of `planned`, `interrupted`).
 */
export async function measureQuality(q: QualityRun): Promise<{ ok: true; quality: CaseQuality } | { ok: false; reason: string }> {
  const sel = { perTask: q.perTask, ...(q.limit !== undefined ? { limit: q.limit } : {}) };
  const items = qualityItems(q.suite, sel);
  const B = Math.max(1, q.batchSize ?? 1);
  const chat = q.chat ?? true;
  const now = q.now ?? Date.now;
  const stops = q.tokenizer && q.eosTokenIds ? [...new Set(q.eosTokenIds.map((id) => q.tokenizer!.decode([id])).filter((t) => t.length > 0))] : [];
  const decoded: string[] = [];
  const nfe: number[] = [];
  let decodeMs = 0;
  let generated = 0;
  let answerTokens: number | null = 0;
  const t0 = now();
  for (let start = 0; start < items.length; start += B) {
    if (q.signal.aborted) break;
    q.progress?.(progressText(start, items.length, now() - t0));
    const rows = items.slice(start, start + B);
    const r = await q.call({ prompts: rows.map((it) => itemIds(it, q.tokenizer, chat)), genLength: q.genLength, promptTexts: rows.map((it) => it.prompt) }, q.signal);
    if (!r.ok) {
      if (q.signal.aborted) break;
      return { ok: false, reason: `${r.error.code}: ${r.error.message}` };
    }
    const v = r.value as typeof r.value & { requests?: { text: string }[]; generatedTokenCounts?: number[] };
    const texts = answers(v, rows.length, q.tokenizer);
    decoded.push(...texts);
    if (q.suite.kind === 'gsm8k' && answerTokens !== null) {
      for (const [i, text] of texts.entries()) {
        const n = fastDllmTokens(text, v.requests ? null : (v.tokens[i] ?? []), q.tokenizer, q.eosTokenIds ?? [], stops);
        answerTokens = n === null || answerTokens === null ? null : answerTokens + n;
      }
    }
    // Forward passes per answer: a batched call's passes serve every row at once.
    for (let i = 0; i < rows.length; i++) nfe.push(v.trace.length / (v.requests ? rows.length : 1));
    decodeMs += v.totalMs;
    generated += (v.generatedTokenCounts ?? v.tokens.map((t) => t.length)).reduce((a, b) => a + b, 0);
  }
  if (decoded.length === 0) return { ok: false, reason: 'interrupted' };
  const done = items.slice(0, decoded.length);
  const stats = { nfe, stops, decodeMs, generatedTokens: generated, batchSize: B, planned: items.length, ...(q.suite.kind === 'gsm8k' && answerTokens !== null ? { answerTokens } : {}) };
  return { ok: true, quality: scoreQuality(q.suite, sel, done, decoded, stats) };
}

/**
 * The prompt list of the speed scenarios for a run with a task suite: its prompts (held-out tasks interleaved, so
 * the first few cover every task), through the model's own tokenizer and chat template like any prompt set.
 */
export function suitePrompts(suite: QualitySuite, tokenizer: PromptTokenizer | null, chat: boolean, limit?: number): PreparedPrompt[] {
  const items = allItems(suite);
  return (limit !== undefined ? items.slice(0, limit) : items).map((it) => ({ text: it.prompt, ids: tokenizer ? tokenizer.encode(it.prompt, chat) : [] }));
}
