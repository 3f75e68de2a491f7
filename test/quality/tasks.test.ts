/** Held-out task file, checkers and the Wilson interval, each against a separately written reference. */
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/util/errors.js';
import {
  type HeldoutItem,
  checkAnswer,
  normalizeAnswer,
  parseHeldout,
  scoreAnswers,
  sliceItems,
  wilsonInterval,
} from '../../src/quality/tasks.js';

/** Wilson's interval as the roots of (phat - p)^2 = z^2 p (1 - p) / n, solved as a quadratic in p. */
function wilsonByQuadratic(k: number, n: number, z = 1.959963984540054): [number, number] {
  const phat = k / n;
  const a = 1 + (z * z) / n;
  const b = -(2 * phat + (z * z) / n);
  const c = phat * phat;
  const disc = Math.sqrt(b * b - 4 * a * c);
  return [(-b - disc) / (2 * a), (-b + disc) / (2 * a)];
}

const sortItem: HeldoutItem = { task: 'sort', prompt: 'sort 3141', promptIds: [1, 2], answer: '1134' };
const splitItem: HeldoutItem = { task: 'split', prompt: 'split 13 into 2', promptIds: [1, 2], digits: 2, total: 13, answers: ['49', '58', '67', '76', '85', '94'] };

describe('wilsonInterval', () => {
  it('matches the quadratic-root reference over a grid', () => {
    for (const n of [1, 2, 7, 10, 43, 200, 1000]) {
      for (const k of new Set([0, 1, Math.floor(n / 3), Math.floor(n / 2), n - 1, n].filter((x) => x >= 0 && x <= n))) {
        const { low, high } = wilsonInterval(k, n);
        const [rl, rh] = wilsonByQuadratic(k, n);
        expect(low).toBeCloseTo(Math.max(0, rl), 12);
        expect(high).toBeCloseTo(Math.min(1, rh), 12);
      }
    }
  });

  it('gives the textbook values', () => {
    const a = wilsonInterval(8, 10);
    expect(a.low).toBeCloseTo(0.4902, 4);
    expect(a.high).toBeCloseTo(0.9433, 4);
    const b = wilsonInterval(0, 10);
    expect(b.low).toBe(0);
    expect(b.high).toBeCloseTo(0.2775, 4);
    expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
  });

  it('rejects impossible counts', () => {
    expect(() => wilsonInterval(3, 2)).toThrow(RangeError);
    expect(() => wilsonInterval(-1, 2)).toThrow(RangeError);
    expect(() => wilsonInterval(0.5, 2)).toThrow(RangeError);
  });
});

describe('checkers', () => {
  it('normalizes decoded text: up to the first stop token, whitespace removed', () => {
    expect(normalizeAnswer('1 1 3 4 <|eot_id|> <|endoftext|> 9')).toBe('1134');
    expect(normalizeAnswer('4 9<|endoftext|><|eot_id|>')).toBe('49');
    expect(normalizeAnswer(' t a c ')).toBe('tac');
    expect(normalizeAnswer('<|eot_id|>1 2')).toBe('');
  });

  it('exact tasks need the exact answer', () => {
    expect(checkAnswer(sortItem, '1 1 3 4 <|eot_id|>')).toBe(true);
    expect(checkAnswer(sortItem, '1 1 3 4 4 <|eot_id|>')).toBe(false);
    expect(checkAnswer(sortItem, '1 1 3 <|eot_id|> 4')).toBe(false);
  });

  it('split accepts every valid answer and nothing else', () => {
    for (let x = 0; x <= 99; x++) {
      const s = String(x).padStart(2, '0');
      const valid = Number(s[0]) + Number(s[1]) === 13;
      expect(checkAnswer(splitItem, `${s[0]} ${s[1]} <|eot_id|>`)).toBe(valid);
      expect(splitItem.answers.includes(s)).toBe(valid);
    }
    expect(checkAnswer(splitItem, '4 9 0')).toBe(false); // three digits
    expect(checkAnswer(splitItem, '4 a')).toBe(false);
    expect(checkAnswer(splitItem, '')).toBe(false);
  });
});

describe('scoreAnswers and sliceItems', () => {
  it('tallies per task in first-seen order with Wilson intervals', () => {
    const items = [sortItem, splitItem, sortItem, splitItem, splitItem];
    const answers = ['1 1 3 4', '4 9', 'x', '9 9', '6 7 <|eot_id|>'];
    const r = scoreAnswers(items, answers);
    expect(r.map((t) => [t.task, t.correct, t.n])).toEqual([
      ['sort', 1, 2],
      ['split', 2, 3],
    ]);
    expect(r[1]!.accuracy).toBeCloseTo(2 / 3, 12);
    const [lo, hi] = wilsonByQuadratic(2, 3);
    expect(r[1]!.ci95Low).toBeCloseTo(lo, 12);
    expect(r[1]!.ci95High).toBeCloseTo(hi, 12);
    expect(() => scoreAnswers(items, answers.slice(1))).toThrow(RangeError);
  });

  it('slices the first k items of each task', () => {
    const items = [sortItem, splitItem, sortItem, splitItem, sortItem];
    expect(sliceItems(items, 1)).toEqual([sortItem, splitItem]);
    expect(sliceItems(items, 2)).toHaveLength(4);
  });
});

describe('parseHeldout', () => {
  const file = { schemaVersion: 1, seed: 0, genLength: 32, tasks: ['sort', 'split'], checkers: { sort: 'exact' }, items: [sortItem, splitItem] };

  it('accepts a well-formed file', () => {
    expect(parseHeldout(file, 'x.json').items).toHaveLength(2);
  });

  it('rejects malformed files with one line naming the field', () => {
    const bad = { ...file, items: [{ ...sortItem, task: 'poetry' }] };
    expect(() => parseHeldout(bad, 'x.json')).toThrow(UserError);
    try {
      parseHeldout({ ...file, items: [{ ...splitItem, total: -1 }] }, 'x.json');
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/^x\.json: not a held-out task file \(items\.0\.total: /);
      expect((err as Error).message).not.toContain('\n');
    }
  });
});
