/**
 * GSM8K exactly as lm-evaluation-harness v0.4.8 runs it: the shipped data, the 5-shot prompts of test docs 0, 1 and
 * 1318 byte for byte against prompts built the way lm-eval builds them (test/fixtures/gsm8k/lm-eval-prompts.py, which
 * draws the exemplars afresh from random.Random(1234)), and both filters and the exact match on a table of hard
 * outputs whose expected values were worked out by hand from the regexes.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GSM8K_DIR, cutAtStops, exactMatch, flexibleExtract, goldNumber, gsm8kPrompt, loadGsm8k, normalizeForMatch, scoreGsm8k, strictMatch } from '../../src/quality/gsm8k.js';

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const data = loadGsm8k();
const fixture = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'gsm8k', 'lm-eval-prompts.json'), 'utf8')) as Record<string, { prompt: string; sha256: string }>;

describe('gsm8k data and prompts', () => {
  it('ships openai/grade-school-math test and train as its README pins them, with the MIT license', () => {
    expect(sha256(readFileSync(join(GSM8K_DIR, 'test.jsonl')))).toBe('3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14');
    expect(sha256(readFileSync(join(GSM8K_DIR, 'train.jsonl')))).toBe('17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465');
    expect(data.test).toHaveLength(1319);
    expect(data.train).toHaveLength(7473);
    expect(readFileSync(join(GSM8K_DIR, 'LICENSE'), 'utf8')).toMatch(/MIT License[\s\S]*Copyright \(c\) 2021 OpenAI/);
    expect(goldNumber(data.test[0]!)).toBe('18');
    expect(data.test.filter((d) => goldNumber(d).includes(','))).toHaveLength(14);
    expect(data.test.filter((d) => goldNumber(d).startsWith('-'))).toHaveLength(2);
    const pkg = JSON.parse(readFileSync(join(GSM8K_DIR, '..', '..', 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('data/gsm8k');
  });

  it('the exemplars of docs 0, 1 and 1318 are the train docs random.Random(1234).sample(train, 5) draws', () => {
    expect(data.fewshot[0]).toEqual([6374, 3610, 957, 61, 742]);
    expect(data.fewshot[1]).toEqual([7462, 6610, 4769, 286, 5501]);
    // Every row: 5 distinct indices (sample draws without replacement).
    expect(data.fewshot.every((r) => new Set(r).size === 5)).toBe(true);
  });

  it.each(['0', '1', '1318'])('doc %s: the prompt equals lm-eval\'s byte for byte', (doc) => {
    const prompt = gsm8kPrompt(data, Number(doc));
    expect(prompt).toBe(fixture[doc]!.prompt);
    expect(sha256(prompt)).toBe(fixture[doc]!.sha256);
  });

  it('pins the prompt hashes and its shape: five "Question: q\\nAnswer: a\\n\\n", then "Question: q\\nAnswer:"', () => {
    expect(sha256(gsm8kPrompt(data, 0))).toBe('32680f263ba83280e98a8a24ceefed10a722a4cdcd9f4d78e93c45d43143ca66');
    expect(sha256(gsm8kPrompt(data, 1))).toBe('e6b9a0195411932e5323ed20ad05e965b08b979103bbb26594a5bdf123d27990');
    expect(sha256(gsm8kPrompt(data, 1318))).toBe('c9c63955e0cf2185cb505fbc69b80561f7bad5c30a5daee94cc851b31107f4cb');
    const p = gsm8kPrompt(data, 0);
    const t = data.train[6374]!;
    expect(p.startsWith(`Question: ${t.question}\nAnswer: ${t.answer}\n\nQuestion: `)).toBe(true);
    expect(p.endsWith(`\n\nQuestion: ${data.test[0]!.question}\nAnswer:`)).toBe(true);
    expect(p.split('Question: ')).toHaveLength(7);
  });
});

/** [model output, gold number, strict-match, flexible-extract, strict correct, flexible correct]: worked out by hand. */
const HARD: [string, string, string, string, boolean, boolean][] = [
  ["#### 18", "18", "18", "18", true, true],
  ["The answer is 18.", "18", "[invalid]", "18.", false, true],
  ["#### 1,000", "1000", "1,000", "1,000", true, true],
  ["$18", "18", "[invalid]", "$18", false, true],
  ["#### -5", "-5", "-5", "-5", true, true],
  ["x = .5", "5", "[invalid]", ".5", false, false],
  ["5.", "5", "[invalid]", "5.", false, true],
  ["#### 5.", "5", "5.", "5.", true, true],
  ["#### 5.00", "5", "5.00", "5.00", false, false],
  ["I have 3 apples and 4 pears, so 7 in total.", "7", "[invalid]", "7", false, true],
  ["No numbers here", "7", "[invalid]", "[invalid]", false, false],
  ["", "7", "[invalid]", "[invalid]", false, false],
  ["The total is 1,234,567 dollars", "1234567", "[invalid]", "1,234,567", false, true],
  ["-$5", "-5", "[invalid]", "-$5", false, true],
  ["#### $1,000", "1000", "[invalid]", "$1,000", false, true],
  ["The answer is 18\n\n#### 20", "20", "20", "20", true, true],
  ["#### 18 #### 20", "20", "18", "20", false, true],
  ["answer: 18.5", "18", "[invalid]", "18.5", false, false],
  ["1.2.3", "123", "[invalid]", "1.2.3", false, false],
  ["18,", "18", "[invalid]", "18,", false, true],
  ["It costs $18.00.", "18", "[invalid]", "$18.00.", false, false],
  ["#### 18\n", "18", "18", "18", true, true],
  ["so the answer is 42.\n", "42", "[invalid]", "42.", false, true],
  ["12-5=7", "7", "[invalid]", "7", false, true],
  ["-7", "7", "[invalid]", "-7", false, false],
  ["#### -7", "-7", "-7", "-7", true, true],
  ["-.5", "5", "[invalid]", "-.5", false, false],
  ["Answer: 5 apples.", "5", "[invalid]", "5", false, true],
  ["$$", "5", "[invalid]", "$$", false, false],
  ["...", "5", "[invalid]", "...", false, false],
  ["#### 1.000", "1000", "1.000", "1.000", false, false],
  ["0018", "18", "[invalid]", "0018", false, false],
  ["#### ,18", "18", ",18", ",18", true, true],
  ["Total: 1 234", "1234", "[invalid]", "234", false, false],
  ["The result is 3/4", "4", "[invalid]", "4", false, true],
  ["#### 18\n\nThe answer is 19", "18", "18", "19", true, false],
  ["\u22125", "-5", "[invalid]", "5", false, false],
  ["#### 18.\n", "18", "18.", "18.", true, true],
  ["1e3", "1000", "[invalid]", "3", false, false],
  ["  #### 18  ", "18", "18", "18", true, true],
  ["-$-5", "-5", "[invalid]", "-5", false, true],
  ["#### 5\n#### 6", "6", "5", "6", false, true],
  ["5.\n", "5", "[invalid]", "5.", false, true],
  ["1,000.", "1000", "[invalid]", "1,000.", false, true],
  ["#### 1,5,0", "150", "1,5,0", "1,5,0", true, true],
  ["Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72", "72", "72", "72", true, true],
  ["#### 72,", "72", "72,", "72,", true, true],
];

describe('gsm8k extraction and scoring (lm-eval filters, exact match)', () => {
  it('has at least 40 hard outputs', () => expect(HARD.length).toBeGreaterThanOrEqual(40));

  it.each(HARD)('%j (gold %s): strict %j, flexible %j, correct %s / %s', (out, gold, strict, flexible, strictOk, flexibleOk) => {
    const reference = `Some working.\n#### ${gold}`;
    expect(strictMatch(out)).toBe(strict);
    expect(flexibleExtract(out)).toBe(flexible);
    expect(exactMatch(strict, reference)).toBe(strictOk);
    expect(exactMatch(flexible, reference)).toBe(flexibleOk);
    const s = scoreGsm8k(out, { question: 'q', answer: reference });
    expect([s.strict, s.flexible, s.strictCorrect, s.flexibleCorrect]).toEqual([strict, flexible, strictOk, flexibleOk]);
  });

  it('normalizes as Python re.sub does: `\\.$` also before a final newline, (?s).*#### through the last marker, case ignored', () => {
    expect(normalizeForMatch('5.\n')).toBe('5\n');
    expect(normalizeForMatch('5..')).toBe('5.');
    expect(normalizeForMatch('a\n#### b #### 1,234.')).toBe('1234');
    expect(normalizeForMatch('$1,000')).toBe('1000');
    expect(exactMatch('ABC', 'abc')).toBe(true);
    expect(exactMatch('[invalid]', 'x\n#### 5')).toBe(false);
    expect(exactMatch(flexibleExtract('18'), data.test[0]!.answer)).toBe(true);
  });

  it('cuts at the stop strings the way lm-eval splits: every stop in turn, what precedes it', () => {
    const stops = ['Question:', '</s>', '<|im_end|>'];
    expect(cutAtStops('#### 72\n\nQuestion: next #### 5', stops)).toBe('#### 72\n\n');
    expect(cutAtStops('18</s>#### 99', stops)).toBe('18');
    expect(cutAtStops('18<|im_end|>99', stops)).toBe('18');
    expect(cutAtStops('no stop', stops)).toBe('no stop');
    expect(scoreGsm8k('The answer is 7 Question: what is 99?', { question: 'q', answer: '#### 7' }).flexibleCorrect).toBe(true);
    expect(scoreGsm8k('#### 7<|eot_id|>#### 8', { question: 'q', answer: '#### 8' }, [...stops, '<|eot_id|>']).strict).toBe('7');
  });
});
