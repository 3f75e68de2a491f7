/**
 * The trained twins' held-out task suite (models/twins/heldout.json, written by training/train.py) and its
 * checkers: exact match for tasks with one answer, validity for the split task (several answers whose tokens
 * depend on each other), accuracy per task with a Wilson 95% interval. No Python involved: the JSON carries the
 * prompts, their token ids under the shared tokenizer and chat template, and what each checker needs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { at } from '../util/indexing.js';

const promptFields = {
  prompt: z.string().min(1),
  /** The prompt after the chat template, as the training script encoded it. */
  promptIds: z.array(z.number().int().nonnegative()).min(1),
};

const exactTaskNames = ['sort', 'reverse', 'add', 'copy', 'reversal'] as const;

export const exactItemSchema = z.object({
  task: z.enum(exactTaskNames),
  ...promptFields,
  answer: z.string().min(1),
});

/** "split N into k": any k digits summing to N is right; `answers` lists them all (informative only). */
export const splitItemSchema = z.object({
  task: z.literal('split'),
  ...promptFields,
  digits: z.number().int().positive(),
  total: z.number().int().nonnegative(),
  answers: z.array(z.string()).min(2),
});

export const heldoutItemSchema = z.discriminatedUnion('task', [exactItemSchema, splitItemSchema]);

export const heldoutSchema = z.object({
  schemaVersion: z.literal(1),
  seed: z.number().int(),
  /** Generation length the diffusion twin was trained with (answers padded with EOS to it). */
  genLength: z.number().int().positive(),
  tasks: z.array(z.string()).min(1),
  checkers: z.record(z.string(), z.string()),
  note: z.string().optional(),
  items: z.array(heldoutItemSchema).min(1),
});

export type HeldoutItem = z.infer<typeof heldoutItemSchema>;
export type Heldout = z.infer<typeof heldoutSchema>;
export type TaskName = HeldoutItem['task'];

export function parseHeldout(value: unknown, source: string): Heldout {
  const parsed = heldoutSchema.safeParse(value);
  if (!parsed.success) {
    const issue = at(parsed.error.issues, 0, 'parsed.error.issues');
    throw new UserError(`${source}: not a held-out task file (${issue.path.join('.') || 'root'}: ${issue.message})`);
  }
  return parsed.data;
}

export function loadHeldout(file: string): Heldout {
  if (!existsSync(file)) throw new UserError(`${file}: held-out task file not found`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new UserError(`${file}: not valid JSON`);
  }
  return parseHeldout(value, file);
}

/** Marker strings that end an answer when the decoded text still contains special tokens. */
export const STOP_STRINGS = ['<|eot_id|>', '<|endoftext|>', '<|end_of_text|>'];

/**
 * The answer as the checkers see it: decoded text up to the first stop string, whitespace removed (the twins'
 * tokenizer decodes one character per token, joined by spaces).
 */
export function normalizeAnswer(decoded: string, stops: readonly string[] = STOP_STRINGS): string {
  let end = decoded.length;
  for (const s of stops) {
    const at = decoded.indexOf(s);
    if (at >= 0 && at < end) end = at;
  }
  return decoded.slice(0, end).replace(/\s+/g, '');
}

export function checkAnswer(item: HeldoutItem, decoded: string): boolean {
  const got = normalizeAnswer(decoded);
  if (item.task === 'split') {
    if (got.length !== item.digits || !/^[0-9]+$/.test(got)) return false;
    let sum = 0;
    for (const c of got) sum += c.charCodeAt(0) - 48;
    return sum === item.total;
  }
  return got === item.answer;
}

/** Wilson score interval for a binomial proportion (z = 1.96: 95%). Defined for n = 0 as [0, 1]. */
export function wilsonInterval(correct: number, n: number, z = 1.959963984540054): { low: number; high: number } {
  if (!Number.isInteger(correct) || !Number.isInteger(n) || correct < 0 || n < 0 || correct > n) {
    throw new RangeError(`wilsonInterval: need integers 0 <= correct <= n, got ${correct}/${n}`);
  }
  if (n === 0) return { low: 0, high: 1 };
  const p = correct / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export const taskAccuracySchema = z.object({
  task: z.string(),
  correct: z.number().int().nonnegative(),
  n: z.number().int().nonnegative(),
  /** correct / n (0 when n = 0). */
  accuracy: z.number().min(0).max(1),
  /** Wilson 95% interval of the accuracy. */
  ci95Low: z.number().min(0).max(1),
  ci95High: z.number().min(0).max(1),
});
export type TaskAccuracy = z.infer<typeof taskAccuracySchema>;

/** Accuracy per task, in the order tasks first appear in `items`. `decoded[i]` is the answer to `items[i]`. */
export function scoreAnswers(items: readonly HeldoutItem[], decoded: readonly string[]): TaskAccuracy[] {
  if (items.length !== decoded.length) {
    throw new RangeError(`scoreAnswers: ${items.length} items but ${decoded.length} answers`);
  }
  const tally = new Map<string, { correct: number; n: number }>();
  items.forEach((item, i) => {
    const t = tally.get(item.task) ?? { correct: 0, n: 0 };
    t.n += 1;
    if (checkAnswer(item, at(decoded, i, 'decoded'))) t.correct += 1;
    tally.set(item.task, t);
  });
  return [...tally.entries()].map(([task, { correct, n }]) => {
    const { low, high } = wilsonInterval(correct, n);
    return { task, correct, n, accuracy: n === 0 ? 0 : correct / n, ci95Low: low, ci95High: high };
  });
}

/** A fixed, deterministic slice: the first `perTask` items of each task, in file order. */
export function sliceItems(items: readonly HeldoutItem[], perTask: number): HeldoutItem[] {
  const taken = new Map<string, number>();
  return items.filter((item) => {
    const k = taken.get(item.task) ?? 0;
    taken.set(item.task, k + 1);
    return k < perTask;
  });
}
