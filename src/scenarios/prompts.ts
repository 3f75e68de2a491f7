/** The prompt set (configs/prompts/*.json), tokenized per engine with that model's own tokenizer. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { packageRoot } from '../util/version.js';
import { formatZodError, readJsonFile } from '../config/load.js';
import type { GenerateRequest } from '../engines/types.js';
import type { PromptTokenizer } from '../models/tokenize.js';
import { at } from '../util/indexing.js';

const PromptSet = z
  .object({
    name: z.string(),
    description: z.string().optional(),
    prompts: z.array(z.object({ id: z.string(), category: z.string(), text: z.string().min(1) })).min(1),
    longContext: z.object({ instruction: z.string(), document: z.string().min(1) }),
  })
  .strict();
export type PromptSet = z.output<typeof PromptSet>;

export function loadPromptSet(nameOrPath: string): PromptSet {
  const builtIn = join(packageRoot, 'configs', 'prompts', `${nameOrPath}.json`);
  const file = existsSync(nameOrPath) ? nameOrPath : builtIn;
  if (!existsSync(file)) throw new UserError(`prompt set ${nameOrPath}: not a built-in set and no such file`);
  const parsed = PromptSet.safeParse(readJsonFile(file, 'prompt set'));
  if (!parsed.success) throw new UserError(formatZodError(parsed.error, `prompt set ${file}`));
  return parsed.data;
}

/** A prompt as each side sees it: ids from its tokenizer (empty over HTTP without one) plus the user text. */
export interface PreparedPrompt {
  text: string;
  ids: number[];
}

export function preparePrompts(set: PromptSet, tokenizer: PromptTokenizer | null, chat: boolean): PreparedPrompt[] {
  return set.prompts.map((p) => ({ text: p.text, ids: tokenizer ? tokenizer.encode(p.text, chat) : [] }));
}

/**
 * A prompt of exactly n tokens: the instruction and the document (repeated as needed), encoded without a chat
 * template so that the length is exact; the text is the decoded ids (for HTTP engines).
 */
export function contextPrompt(set: PromptSet, tokenizer: PromptTokenizer | null, n: number): PreparedPrompt {
  let text = `${set.longContext.instruction}\n\n${set.longContext.document}`;
  if (!tokenizer) {
    while (text.length < n * 4) text += set.longContext.document; // ~4 characters per token for HTTP-only runs
    return { text: text.slice(0, n * 4), ids: [] };
  }
  let ids = tokenizer.encode(text, false);
  while (ids.length < n) {
    text += set.longContext.document;
    ids = tokenizer.encode(text, false);
  }
  ids = ids.slice(0, n);
  return { text: tokenizer.decode(ids), ids };
}

/** Cycles through the prompts to fill `count` rows. */
export function pick(prompts: PreparedPrompt[], count: number, offset = 0): PreparedPrompt[] {
  return Array.from({ length: count }, (_, i) => at(prompts, (offset + i) % prompts.length, 'prompts'));
}

/** A request of these rows; `idsOnly` (a served side on the completions endpoint) sends the token ids, not the text. */
export function toRequest(rows: PreparedPrompt[], genLength: number, idsOnly = false): GenerateRequest {
  if (idsOnly && rows.every((r) => r.ids.length > 0)) return { prompts: rows.map((r) => r.ids), genLength };
  return { prompts: rows.map((r) => r.ids), genLength, promptTexts: rows.map((r) => r.text) };
}

/** One prompt of an HTTP load run: its token ids when `idsOnly` and known, else its text. */
export function loadPrompt(p: PreparedPrompt, idsOnly: boolean): { text: string } | { ids: number[] } {
  return idsOnly && p.ids.length > 0 ? { ids: p.ids } : { text: p.text };
}

export function promptTokens(rows: PreparedPrompt[]): number {
  return Math.max(...rows.map((r) => r.ids.length));
}
