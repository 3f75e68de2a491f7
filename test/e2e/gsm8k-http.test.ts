/**
 * GSM8K end to end over HTTP: a loopback OpenAI-compatible server that reads which test question a 5-shot prompt
 * ends with and answers its gold number for even document ids, a wrong one for odd ids. `dllm-bench run --tasks
 * gsm8k --task-limit 20` must score exactly 10/20 = 50.0% under both filters, for a completions side and a chat side
 * alike, in results.json and in the report.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultsFile } from '../../src/results/types.js';
import { cliAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/models.js';

interface Doc {
  question: string;
  answer: string;
}
const test = readFileSync(join(import.meta.dirname, '..', '..', 'data', 'gsm8k', 'test.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Doc);
const byQuestion = new Map(test.map((d, i) => [d.question, i]));
const gold = (d: Doc) => d.answer.slice(d.answer.lastIndexOf('#### ') + 5);

let server: Server;
let base = '';
const seen = { completions: new Set<number>(), chat: new Set<number>(), unknown: 0, stops: [] as unknown[] };

/** The answer for a prompt: which doc its last question is, then gold (even ids) or gold + 1 (odd ids). */
function answerFor(prompt: string): string {
  const last = prompt.lastIndexOf('Question: ');
  const q = prompt.slice(last + 'Question: '.length).replace(/\nAnswer:$/, '');
  const id = byQuestion.get(q);
  if (id === undefined) {
    seen.unknown++;
    return ' I do not know.';
  }
  const g = gold(test[id]!);
  const n = Number(g.replace(/,/g, ''));
  // What a model writes: working, the marker, then the next question it would make up (cut at "Question:").
  return ` Working it out.\n#### ${id % 2 === 0 ? g : String(n + 1)}\n\nQuestion: ${id % 2 === 0 ? 'what is 1 + 1?' : 'and 99?'}`;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      const b = JSON.parse(body) as { prompt?: string; messages?: { content: string }[]; max_tokens: number };
      const chat = req.url!.endsWith('/chat/completions');
      const prompt = chat ? b.messages![0]!.content : b.prompt!;
      const text = answerFor(prompt);
      const id = byQuestion.get(prompt.slice(prompt.lastIndexOf('Question: ') + 10).replace(/\nAnswer:$/, ''));
      if (id !== undefined) (chat ? seen.chat : seen.completions).add(id);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const pieces = text.match(/[\s\S]{1,6}/g)!;
      for (const p of pieces) {
        const delta = chat ? { choices: [{ index: 0, delta: { content: p }, finish_reason: null }] } : { choices: [{ index: 0, text: p, finish_reason: null }] };
        res.write(`data: ${JSON.stringify(delta)}\n\n`);
      }
      const fin = chat ? { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] } : { choices: [{ index: 0, text: '', finish_reason: 'stop' }] };
      res.write(`data: ${JSON.stringify(fin)}\n\n`);
      res.write(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 100, completion_tokens: pieces.length } })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('gsm8k over HTTP', () => {
  it('scores exactly 50.0% on the first 20 items (gold for even ids, wrong for odd), completions and chat, in results.json and the report', async () => {
    const dir = tempDir();
    const file = join(dir, 'gsm8k-http.json');
    writeFileSync(
      file,
      JSON.stringify({
        diffusion: { model: base, http: { model: 'stub-diffusion', endpoint: 'completions' } },
        ar: { model: base, http: { model: 'stub-ar', endpoint: 'chat' } },
        scenarios: ['throughput'],
        warmup: 0,
        repetitions: 1,
        genLength: 32,
        http: { concurrency: [1], requests: 2, durationSec: 30, maxErrorRate: 0 },
        quality: { batchSize: 4 },
      }),
    );
    const out = join(dir, 'out');
    const res = await cliAsync(['run', '--config', file, '--tasks', 'gsm8k', '--task-limit', '20', '--out', out], { DLLM_BENCH_CACHE: tempDir('dllm-cache-') }).done;
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code, res.stderr).toBe(0);
    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
    const cases = r.scenarios[0]!.cases;
    expect(cases.map((c) => c.id)).toEqual(['throughput/openai-diffusion/b1/p0/g32/c1', 'throughput/openai-ar/b1/p0/g32/c1']);
    for (const c of cases) {
      const q = c.state === 'completed' ? c.quality : undefined;
      expect(q?.suite).toBe('gsm8k');
      expect(q?.limit).toBe(20);
      expect(q?.items).toBe(20);
      expect(q?.batchSize).toBe(4);
      expect(q?.overall).toMatchObject({ correct: 10, total: 20, accuracy: 0.5 });
      expect(q?.filters?.strictMatch).toMatchObject({ correct: 10, total: 20, accuracy: 0.5 });
      expect(q?.filters?.flexibleExtract).toMatchObject({ correct: 10, total: 20, accuracy: 0.5 });
      expect(q?.filters?.leading).toBe('flexible-extract');
    }
    // Every one of the first 20 questions reached each endpoint, and no prompt was one the server could not place.
    expect([...seen.completions].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect([...seen.chat].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(seen.unknown).toBe(0);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/GSM8K 5-shot/);
    expect(md.match(/50\.0% \(10\/20/g)?.length).toBeGreaterThanOrEqual(4);
  }, 120_000);
});
