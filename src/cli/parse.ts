/** Commander argument parsers: a bad value becomes commander's one-line "argument ... is invalid" error. */
import { InvalidArgumentError } from 'commander';
import { at } from '../util/indexing.js';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer.');
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a non-negative integer.');
  return n;
}

export function nonNegativeFloat(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0.');
  return n;
}

export function positiveFloat(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number > 0.');
  return n;
}

export function probability(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 1) throw new InvalidArgumentError('expected a number in (0, 1].');
  return n;
}

export function oneOf<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!choices.includes(value as T)) throw new InvalidArgumentError(`expected one of: ${choices.join(', ')}.`);
    return value as T;
  };
}

/** "1,2,3" -> [1, 2, 3] (token ids: non-negative integers). */
export function idList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) throw new InvalidArgumentError('expected comma-separated token ids, e.g. 1,2,3.');
  return parts.map(Number);
}

/** Free text (model names, paths): the value as given. */
export function text(value: string): string {
  return value;
}

/** Longest list a range may expand to: a sweep is a handful of points, a typo like 1-100000 is not. */
const MAX_LIST = 1024;

/**
 * Positive integers as llama-bench writes them: comma items, each N, A-B (every integer from A to B), A-B+S (step
 * S) or A-B*M (times M each step, M > 1). "1-8*2" -> [1, 2, 4, 8]; "256,1024-4096*2" -> [256, 1024, 2048, 4096].
 */
export function positiveIntList(value: string): number[] {
  const out: number[] = [];
  for (const item of value.split(',').map((s) => s.trim())) {
    const m = /^(\d+)(?:-(\d+)(?:([+*])(\d+))?)?$/.exec(item);
    const bad = (why: string) => new InvalidArgumentError(`expected positive integers or ranges like 1-8, 1-8+2, 1-8*2; "${item}" ${why}.`);
    if (!m) throw bad('is neither');
    const [first, last, op, by] = [Number(m[1]), m[2] === undefined ? undefined : Number(m[2]), m[3], Number(m[4] ?? 1)];
    if (!(first > 0) || (last !== undefined && !(last > 0))) throw bad('is not positive');
    if (last === undefined) {
      out.push(first);
      continue;
    }
    if (last < first) throw bad('ends before it starts');
    if (op === '*' ? !(by > 1) : !(by > 0)) throw bad(op === '*' ? 'needs a factor above 1' : 'needs a step above 0');
    for (let v = first; v <= last; v = op === '*' ? v * by : v + by) {
      if (out.length >= MAX_LIST) throw bad(`expands to more than ${MAX_LIST} values`);
      out.push(v);
    }
  }
  return out;
}

/** "1,4,16,inf" -> [1, 4, 16, 'inf']: open-loop request rates in requests/s (positive numbers or inf). */
export function requestRateList(value: string): (number | 'inf')[] {
  return value.split(',').map((s) => {
    const item = s.trim().toLowerCase();
    if (item === 'inf') return 'inf' as const;
    const n = Number(item);
    if (item === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected request rates (requests/s) like 1,4,16,inf; "${s.trim()}" is not a positive number or inf.`);
    return n;
  });
}

const SLO_KEYS = { ttft: 'ttftMs', tpot: 'tpotMs', e2e: 'e2eMs' } as const;

/** "ttft=500ms,tpot=50ms,e2e=2s" -> { ttftMs: 500, tpotMs: 50, e2eMs: 2000 } (a bare number is ms). */
export function sloSpec(value: string): { ttftMs?: number; tpotMs?: number; e2eMs?: number } {
  const out: { ttftMs?: number; tpotMs?: number; e2eMs?: number } = {};
  for (const item of value.split(',').map((s) => s.trim())) {
    const m = /^(ttft|tpot|e2e)=(\d+(?:\.\d+)?)(ms|s)?$/i.exec(item);
    if (!m) throw new InvalidArgumentError(`expected targets like ttft=500ms,tpot=50ms,e2e=2s; "${item}" is not one (keys: ${Object.keys(SLO_KEYS).join(', ')}).`);
    const ms = Number(m[2]) * (m[3]?.toLowerCase() === 's' ? 1000 : 1);
    if (!(ms > 0)) throw new InvalidArgumentError(`"${item}": a target must be above 0.`);
    out[SLO_KEYS[at(m, 1, 'm').toLowerCase() as keyof typeof SLO_KEYS]] = ms;
  }
  return out;
}

/** The NAME of an environment variable (never the key itself). */
export function envName(value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) throw new InvalidArgumentError('expected the NAME of an environment variable (e.g. OPENAI_API_KEY), not the key itself.');
  return value;
}
