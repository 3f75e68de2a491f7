/**
 * `--tasks gsm8k` with local models: the twins (a 56-symbol character vocabulary) are refused before any engine
 * starts, with one line saying why; the `tiny-long` synthetic preset, whose byte-level tokenizer spells any text and
 * whose window holds a 5-shot prompt, runs it end to end (random weights: accuracy near zero, reported as such),
 * its quality decoded as a left-padded batch of 2.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ResultsFile } from '../../src/results/types.js';
import { cliAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/models.js';

const env = { DLLM_BENCH_CACHE: tempDir('dllm-cache-') };

describe('gsm8k on local models', () => {
  it('the twins: refused before any decoding, one line naming why, exit 2', async () => {
    const out = join(tempDir(), 'out');
    const res = await cliAsync(['run', '--tasks', 'gsm8k', '--task-limit', '5', '--scenarios', 'throughput', '--device', 'cpu', '--out', out], env).done;
    expect(res.code).toBe(2);
    const errors = res.stderr.split('\n').filter((l) => l.startsWith('dllm-bench:'));
    expect(errors).toEqual([expect.stringMatching(/^dllm-bench: --tasks gsm8k: the tokenizer of twins \(diffusion side\) cannot spell the suite's text .*tiny-long/)]);
    expect(res.stderr).not.toMatch(/starting engine|quality \d/);
  }, 120_000);

  it('tiny-long (synthetic, byte-level tokenizer, 4,096 positions): runs GSM8K end to end, batched quality', async () => {
    const dir = tempDir();
    const file = join(dir, 'tl.json');
    // Short speed prompts (a named set) keep the test fast: only the quality decodes take GSM8K's 5-shot prompts.
    const set = join(dir, 'short.json');
    writeFileSync(set, JSON.stringify({ name: 'short', prompts: [{ id: 'p', category: 'chat', text: 'Hello there.' }], longContext: { instruction: 'Read.', document: 'Some text. ' } }));
    writeFileSync(
      file,
      JSON.stringify({
        diffusion: { model: 'tiny-long' },
        ar: { model: 'tiny-long', engines: ['ar-loop'] },
        device: 'cpu',
        scenarios: ['throughput'],
        prompts: set,
        warmup: 0,
        repetitions: 1,
        genLength: 4,
        llada: { steps: 2, blockLength: 4 },
        throughput: { prompts: 1 },
        quality: { tasks: 'gsm8k', limit: 2, batchSize: 2 },
      }),
    );
    const out = join(dir, 'out');
    const res = await cliAsync(['run', '--config', file, '--out', out], env).done;
    expect(res.code, res.stderr).toBe(0);
    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
    const cases = r.scenarios[0]!.cases;
    expect(cases.map((c) => c.engine)).toEqual(['llada', 'ar-loop']);
    for (const c of cases) {
      expect(c.state).toBe('completed');
      const q = c.state === 'completed' ? c.quality! : undefined;
      expect(q?.suite).toBe('gsm8k');
      expect(q?.items).toBe(2);
      expect(q?.batchSize).toBe(2);
      expect(q?.overall.total).toBe(2);
      expect(q?.filters?.strictMatch.total).toBe(2);
      // Fast-dLLM's count never exceeds the generated positions; dllm-bench's rate counts all of them.
      expect(q!.answerTokens!).toBeLessThanOrEqual(2 * 4);
      expect(q!.tokensPerSec!).toBeGreaterThan(0);
    }
    expect(cases[0]!.state === 'completed' && cases[0]!.quality!.meanNfe).toBe(2);
    // AR decodes GSM8K in natural length (stops at EOS): never more passes than gen_length.
    expect(cases[1]!.state === 'completed' && cases[1]!.quality!.meanNfe).toBeLessThanOrEqual(4);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/GSM8K 5-shot as lm-evaluation-harness v0\.4\.8 runs it: the first 2 of 1,319/);
  }, 180_000);
});
