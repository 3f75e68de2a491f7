/**
 * GSM8K as lm-evaluation-harness v0.4.8's `gsm8k` task runs it (the version LLaDA and Fast-dLLM pin), read from its
 * source (lm_eval/tasks/gsm8k/gsm8k.yaml, lm_eval/api/samplers.py, lm_eval/api/task.py, lm_eval/filters/extraction.py,
 * lm_eval/api/metrics.py exact_match_hf_evaluate):
 * - prompt: five train exemplars `Question: {q}\nAnswer: {a}\n\n`, then `Question: {q}\nAnswer:`; the exemplars are
 *   those lm-eval's default sampler draws (one random.Random(1234) stream, sample(train, 5) per test doc in order),
 *   shipped as indices in data/gsm8k/fewshot.json (written once by scripts/gsm8k-fewshot.py);
 * - the answer is cut at the first stop string (`Question:`, `</s>`, `<|im_end|>`, plus the model's end-of-turn text);
 * - two filters: strict-match (`#### (-?[0-9.,]+)`, first match) and flexible-extract (`(-?[$0-9.,]{2,})|(-?[0-9]+)`,
 *   last match, its first non-empty group), `[invalid]` when nothing matches, the match stripped;
 * - exact match after removing `,`, `$`, `(?s).*#### ` and a final `.` from both sides (Python's `$`: the end, or
 *   before a final newline), ignoring case.
 * The data (test 1,319, train 7,473) is openai/grade-school-math's, MIT, shipped with its LICENSE in data/gsm8k/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { packageRoot } from '../util/version.js';
import { at } from '../util/indexing.js';

export const GSM8K_DIR = join(packageRoot, 'data', 'gsm8k');
export const GSM8K_SOURCE = 'data/gsm8k/test.jsonl (openai/grade-school-math, MIT), lm-evaluation-harness v0.4.8 gsm8k 5-shot';

/** lm-eval's `until` for gsm8k; an engine's end-of-turn text is appended by the caller. */
export const GSM8K_STOPS = ['Question:', '</s>', '<|im_end|>'] as const;
export const INVALID = '[invalid]';
export const NUM_FEWSHOT = 5;

const Doc = z.object({ question: z.string().min(1), answer: z.string().min(1) });
export type Gsm8kDoc = z.infer<typeof Doc>;

const Fewshot = z.object({
  schemaVersion: z.literal(1),
  trainItems: z.number().int().positive(),
  testItems: z.number().int().positive(),
  indices: z.array(z.array(z.number().int().nonnegative()).length(NUM_FEWSHOT)),
});

export interface Gsm8kData {
  test: Gsm8kDoc[];
  train: Gsm8kDoc[];
  /** fewshot[i]: the train indices of test doc i's exemplars, in prompt order. */
  fewshot: number[][];
}

function readJsonl(file: string): Gsm8kDoc[] {
  if (!existsSync(file)) throw new UserError(`${file}: GSM8K data file not found (the package ships data/gsm8k/)`);
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      const parsed = Doc.safeParse(JSON.parse(line));
      if (!parsed.success) throw new UserError(`${file}:${i + 1}: not a GSM8K item`);
      return parsed.data;
    });
}

let cached: Gsm8kData | null = null;

/** The shipped data (read once per process). */
export function loadGsm8k(dir = GSM8K_DIR): Gsm8kData {
  if (cached && dir === GSM8K_DIR) return cached;
  const test = readJsonl(join(dir, 'test.jsonl'));
  const train = readJsonl(join(dir, 'train.jsonl'));
  const fewshot = Fewshot.parse(JSON.parse(readFileSync(join(dir, 'fewshot.json'), 'utf8')));
  if (fewshot.testItems !== test.length || fewshot.trainItems !== train.length || fewshot.indices.length !== test.length) {
    throw new UserError(`${dir}/fewshot.json does not match test.jsonl/train.jsonl (regenerate with scripts/gsm8k-fewshot.py)`);
  }
  if (fewshot.indices.some((row) => row.some((j) => j >= train.length))) throw new UserError(`${dir}/fewshot.json: an index is past train.jsonl`);
  const data = { test, train, fewshot: fewshot.indices };
  if (dir === GSM8K_DIR) cached = data;
  return data;
}

/** lm-eval's doc_to_text: `Question: {{question}}\nAnswer:`. */
const docToText = (d: Gsm8kDoc): string => `Question: ${d.question}\nAnswer:`;

/** The 5-shot prompt of test doc `index`, byte for byte as lm-eval v0.4.8 builds it without a chat template. */
export function gsm8kPrompt(data: Gsm8kData, index: number): string {
  const doc = data.test[index];
  if (!doc) throw new RangeError(`gsm8k: no test doc ${index} (0..${data.test.length - 1})`);
  // get_context: doc_to_text + target_delimiter (" ") + doc_to_target ("{{answer}}") + fewshot_delimiter ("\n\n").
  const shots = at(data.fewshot, index, 'data.fewshot').map((j) => `${docToText(at(data.train, j, 'data.train'))} ${at(data.train, j, 'data.train').answer}\n\n`).join('');
  return shots + docToText(doc);
}

/** The gold answer text as lm-eval's reference: the whole `answer` (the metric's regexes reduce it to the number). */
export const goldReference = (doc: Gsm8kDoc): string => doc.answer;

/** The gold number (for people and test servers): the text after `#### `. */
export function goldNumber(doc: Gsm8kDoc): string {
  const at = doc.answer.lastIndexOf('#### ');
  return at < 0 ? '' : doc.answer.slice(at + 5).trim();
}

/** lm-eval's HF generate_until cut: for each stop string in turn, keep what precedes its first occurrence. */
export function cutAtStops(text: string, stops: readonly string[]): string {
  let s = text;
  for (const term of stops) if (term.length > 0) s = at(s.split(term), 0, 's.split(term)');
  return s;
}

/** lm-eval's RegexFilter with take_first: findall, pick group_select, first non-empty group of a tuple, strip. */
function regexFilter(resp: string, pattern: RegExp, groupSelect: 0 | -1): string {
  const matches = [...resp.matchAll(pattern)];
  if (matches.length === 0) return INVALID;
  const m = groupSelect === 0 ? at(matches, 0, 'matches') : matches.at(-1)!;
  // Python's findall gives the groups of each match ('' for a group that did not take part).
  const groups = m.slice(1).map((g) => g ?? '');
  const picked = groups.length === 1 ? at(groups, 0, 'groups') : (groups.find((g) => g !== '') ?? INVALID);
  return picked.trim();
}

/** strict-match: `#### (\-?[0-9\.\,]+)`, the first match. */
export const strictMatch = (resp: string): string => regexFilter(resp, /#### (-?[0-9.,]+)/g, 0);

/** flexible-extract: `(-?[$0-9.,]{2,})|(-?[0-9]+)`, the last match, its first non-empty group. */
export const flexibleExtract = (resp: string): string => regexFilter(resp, /(-?[$0-9.,]{2,})|(-?[0-9]+)/g, -1);

/**
 * The metric's regexes_to_ignore in order, as Python's re.sub applies them: `,`, `\$`, `(?s).*#### ` and `\.$`
 * (Python's `$` without MULTILINE matches at the end and just before a final newline).
 */
export function normalizeForMatch(s: string): string {
  return s
    .replace(/,/g, '')
    .replace(/\$/g, '')
    .replace(/[\s\S]*#### /g, '')
    .replace(/\.(?=\n?$)/g, '')
    .toLowerCase();
}

/** exact_match with ignore_case, the gsm8k regexes ignored on both sides. */
export const exactMatch = (prediction: string, reference: string): boolean => normalizeForMatch(prediction) === normalizeForMatch(reference);

export type Gsm8kFilter = 'strict-match' | 'flexible-extract';

export interface Gsm8kScore {
  /** The answer after the stop-string cut. */
  response: string;
  strict: string;
  flexible: string;
  strictCorrect: boolean;
  flexibleCorrect: boolean;
}

/** One decoded answer scored under both filters. `stops` are lm-eval's plus the model's end-of-turn texts. */
export function scoreGsm8k(decoded: string, doc: Gsm8kDoc, stops: readonly string[] = GSM8K_STOPS): Gsm8kScore {
  const response = cutAtStops(decoded, stops);
  const strict = strictMatch(response);
  const flexible = flexibleExtract(response);
  const ref = goldReference(doc);
  return { response, strict, flexible, strictCorrect: exactMatch(strict, ref), flexibleCorrect: exactMatch(flexible, ref) };
}
