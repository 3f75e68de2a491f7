/**
 * A task suite a model cannot take is bad input, refused before any decoding with one line saying why: its
 * tokenizer cannot spell the suite's text (the twins' 56-symbol vocabulary and GSM8K), or the longest prompt the run
 * would decode plus gen_length exceeds the model's window.
 */
import type { RunConfig } from '../config/schema.js';
import { positionsError } from '../engines/request.js';
import type { PromptTokenizer } from '../models/tokenize.js';
import { type QualitySuite, qualityItems } from '../quality/suite.js';
import { itemIds } from '../scenarios/quality.js';
import { UserError } from '../util/errors.js';

/**
 * Where `b` stops reproducing `a`, whitespace aside (real tokenizers' decode may tidy spaces, e.g. Llama 3's
 * clean_up_tokenization_spaces turns " ." into "."; the twins' decode joins characters with spaces), shown with a
 * little context; null when `b` spells every other character of `a`.
 */
export function spellingDifference(original: string, roundTrip: string): string | null {
  const a = original.replace(/\s+/g, '');
  const b = roundTrip.replace(/\s+/g, '');
  if (a === b) return null;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return JSON.stringify(a.slice(Math.max(0, i - 12), i + 12));
}

/** A local model about to be scored on a suite: checked once its tokenizer is loaded, before any engine starts. */
export interface SuiteSubject {
  /** Preset, folder or URL, as results name it. */
  model: string;
  /** Which side, for the message. */
  role: string;
  tokenizer: PromptTokenizer | null;
  maxPositions: number | undefined;
  suite: QualitySuite | null;
}

export function checkSuiteFits(c: RunConfig, subjects: readonly SuiteSubject[]): void {
  for (const h of subjects) {
    const suite = h.suite;
    const tok = h.tokenizer;
    if (!suite || !tok) continue;
    if (c.quality.limit === undefined && c.quality.perTask === 0) continue;
    const items = qualityItems(suite, { perTask: c.quality.perTask, ...(c.quality.limit !== undefined ? { limit: c.quality.limit } : {}) });
    const label = c.quality.tasks ?? suite.name;
    // Every character the items use, and the first item whole, must come back from encode + decode (whitespace aside).
    const texts = items.filter((it) => !it.promptIds).map((it) => it.prompt); // a file's own ids need no spelling
    const [firstText] = texts;
    if (firstText !== undefined) {
      const chars = [...new Set([...texts.join('')])].join('');
      for (const text of [firstText, chars]) {
        const lost = spellingDifference(text, tok.decode(tok.encode(text, false)));
        if (lost !== null) {
          throw new UserError(`--tasks ${label}: the tokenizer of ${h.model} (${h.role} side) cannot spell the suite's text (it comes back different near ${lost}); use a model whose tokenizer can (a converted checkpoint, or a synthetic preset such as tiny-long)`);
        }
      }
    }
    const max = h.maxPositions;
    if (max === undefined) continue;
    let longest = 0;
    let at = 0;
    for (const it of items) {
      const n = itemIds(it, tok, c.chatTemplate).length;
      if (n > longest) [longest, at] = [n, it.index];
    }
    if (positionsError(longest, c.genLength, max)) {
      throw new UserError(`--tasks ${label}: item ${at}'s prompt (${longest} tokens) + gen_length ${c.genLength} exceeds the window of ${h.model} of ${max} positions (${h.role} side)`);
    }
  }
}
