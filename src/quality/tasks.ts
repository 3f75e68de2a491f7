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
import { wilsonInterval } from '../stats/proportions.js';

/** Wilson's interval lives with the other proportion statistics; the task files' readers import it from here too. */
export { wilsonInterval };

const promptFields = {
  prompt: z.string().min(1),
  /** The prompt after the chat template, as the training script encoded it. */
  promptIds: z.array(z.number().int().nonnegative()).min(1),
};

/** The multi-step chain task, one name per number of dependent steps k (scored per k). */
export const CHAIN_TASKS = ['chain-1', 'chain-2', 'chain-3', 'chain-4'] as const;
/**
 * The reversal probe: the probe pairs asked the way they were taught (forward) and the way they never were
 * (backward), and the control pairs (taught both ways) asked backward. `reversal` is schema version 1's single probe.
 */
export const REVERSAL_TASKS = ['reversal-forward', 'reversal-backward', 'reversal-control'] as const;

const exactTaskNames = ['sort', 'reverse', 'add', 'copy', ...CHAIN_TASKS, ...REVERSAL_TASKS, 'reversal'] as const;

/** The number of dependent steps of a chain task's name ("chain-3" -> 3), else null. */
export function chainSteps(task: string): number | null {
  const m = /^chain-([1-9])$/.exec(task);
  return m ? Number(m[1]) : null;
}

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
  /** 2 adds the chain task and the three reversal rows (1: one `reversal` row). */
  schemaVersion: z.union([z.literal(1), z.literal(2)]),
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
