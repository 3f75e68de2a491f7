/**
 * The quality pass on GSM8K with a scripted engine: batches of B rows (the last one short), answers scored under
 * both filters, Fast-dLLM's token count (answer tokens after the stop cut, EOS excluded) beside dllm-bench's,
 * progress with an ETA, HTTP answers taken as streamed text, and an interrupted pass that keeps what it decoded.
 */
import { describe, expect, it } from 'vitest';
import type { EngineResult, GenerateRequest } from '../../src/engines/types.js';
import type { PromptTokenizer } from '../../src/models/tokenize.js';
import { goldNumber, loadGsm8k } from '../../src/quality/gsm8k.js';
import { CaseQuality } from '../../src/quality/schema.js';
import { namedSuite } from '../../src/quality/suite.js';
import { fastDllmTokens, measureQuality, progressText } from '../../src/scenarios/quality.js';

const data = loadGsm8k();
const suite = namedSuite('gsm8k', null);
const EOS = 1;
/** One token per character (code point + 10), EOS = 1 decodes to '<eos>'. */
const tok: PromptTokenizer = {
  hasChatTemplate: false,
  encode: (t) => [...t].map((c) => c.codePointAt(0)! + 10),
  decode: (ids) => ids.map((i) => (i === EOS ? '<eos>' : String.fromCodePoint(i - 10))).join(''),
  count: (t) => [...t].length,
};
const docOf = (prompt: string) => data.test.findIndex((d) => prompt.endsWith(`Question: ${d.question}\nAnswer:`));
/** Gold for even docs, gold + 1 for odd ones, then EOS and junk after it (diffusion fills every position). */
const answer = (doc: number) => ` so #### ${doc % 2 ? Number(goldNumber(data.test[doc]!).replace(/,/g, '')) + 1 : goldNumber(data.test[doc]!)}`;

function scripted(rowsSeen: number[], G = 40, abort?: { after: number; controller: AbortController }) {
  let calls = 0;
  return async (req: GenerateRequest): Promise<EngineResult> => {
    calls++;
    rowsSeen.push(req.prompts.length);
    if (abort && calls > abort.after) abort.controller.abort();
    if (abort?.controller.signal.aborted) return { ok: false, error: { code: 'aborted', message: 'interrupted' } };
    const tokens = req.prompts.map((ids) => {
      const doc = docOf(tok.decode(ids));
      const t = [...tok.encode(answer(doc), false), EOS];
      while (t.length < G) t.push(tok.encode('Q', false)[0]!);
      return t.slice(0, G);
    });
    return { ok: true, value: { tokens, generatedTokenCounts: tokens.map((t) => t.length), failures: [], usefulTokens: tokens.map((t) => t.indexOf(EOS)), trace: [{ startMs: 0, durationMs: 1, tokensCommitted: 1 }, { startMs: 1, durationMs: 1, tokensCommitted: 1 }], totalMs: 100, forwardMs: 90 } };
  };
}

describe('gsm8k quality pass', () => {
  it('batches of 3 over 7 items (3, 3, 1), both filters, counts both ways, ETA in the progress', async () => {
    const rows: number[] = [];
    const progress: string[] = [];
    let t = 0;
    const r = await measureQuality({ suite, perTask: 10, limit: 7, tokenizer: tok, chat: false, batchSize: 3, eosTokenIds: [EOS], genLength: 40, call: scripted(rows), signal: new AbortController().signal, progress: (p) => progress.push(p), now: () => (t += 1000) });
    if (!r.ok) throw new Error(r.reason);
    const q = r.quality;
    expect(CaseQuality.parse(q)).toEqual(q);
    expect(rows).toEqual([3, 3, 1]);
    expect(q.items).toBe(7);
    expect(q.interrupted).toBeUndefined();
    expect(q.overall).toMatchObject({ correct: 4, total: 7 }); // docs 0, 2, 4, 6
    expect(q.filters!.strictMatch).toMatchObject({ correct: 4, total: 7 });
    expect(q.batchSize).toBe(3);
    expect(q.meanNfe).toBe(2);
    expect(q.decodeMs).toBe(300);
    expect(q.tokensPerSec).toBeCloseTo((7 * 40) / 0.3, 9);
    // Fast-dLLM's count: the answer text before EOS, one token per character here.
    const expected = Array.from({ length: 7 }, (_, d) => [...answer(d)].length).reduce((a, b) => a + b, 0);
    expect(q.answerTokens).toBe(expected);
    expect(q.answerTokensPerSec).toBeCloseTo(expected / 0.3, 9);
    expect(progress[0]).toBe('quality 0/7');
    expect(progress[1]).toMatch(/^quality 3\/7, ETA \d+ s$/);
  });

  it('an interrupted pass keeps the items it decoded and says how far it got', async () => {
    const controller = new AbortController();
    const rows: number[] = [];
    const r = await measureQuality({ suite, perTask: 10, limit: 6, tokenizer: tok, chat: false, batchSize: 2, eosTokenIds: [EOS], genLength: 40, call: scripted(rows, 40, { after: 2, controller }), signal: controller.signal });
    if (!r.ok) throw new Error(r.reason);
    expect(r.quality.items).toBe(4);
    expect(r.quality.planned).toBe(6);
    expect(r.quality.interrupted).toBe(true);
    expect(r.quality.overall).toMatchObject({ correct: 2, total: 4 });
  });

  it('HTTP: the streamed text is the answer (no ids come back)', async () => {
    const call = async (req: GenerateRequest): Promise<EngineResult> => {
      const texts = req.promptTexts!.map((p) => `${answer(docOf(p))}\n\nQuestion: and 7?`);
      const value = { tokens: texts.map(() => []), generatedTokenCounts: texts.map(() => 5), failures: [], usefulTokens: texts.map(() => 5), trace: [], totalMs: 10, forwardMs: 10, requests: texts.map((text) => ({ text })) };
      return { ok: true, value };
    };
    const r = await measureQuality({ suite, perTask: 10, limit: 4, tokenizer: null, batchSize: 4, genLength: 32, call, signal: new AbortController().signal });
    if (!r.ok) throw new Error(r.reason);
    expect(r.quality.overall).toMatchObject({ correct: 2, total: 4 });
    expect(r.quality.answerTokens).toBeUndefined(); // no local tokenizer to count with
  });

  it('fastDllmTokens: ids before EOS within the stop-cut text; progress text', () => {
    const ids = [...tok.encode('#### 18\n\nQuestion: 2', false), EOS, 50, 50];
    expect(fastDllmTokens(tok.decode(ids), ids, tok, [EOS], [])).toBe('#### 18\n\n'.length);
    const noStop = [...tok.encode('12', false), EOS];
    expect(fastDllmTokens(tok.decode(noStop), noStop, tok, [EOS], ['<eos>'])).toBe(2);
    expect(fastDllmTokens('#### 5 Question: x', null, tok, [], [])).toBe(7);
    expect(fastDllmTokens('#### 5', null, null, [], [])).toBeNull();
    expect(progressText(0, 10, 0)).toBe('quality 0/10');
    expect(progressText(5, 10, 30_000)).toBe('quality 5/10, ETA 30 s');
    expect(progressText(1, 100, 60_000)).toBe('quality 1/100, ETA 1 h 39 min');
  });
});
