/** models build / convert / inspect and generate through the built CLI, as a user runs them. */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/models.js';

const root = tempDir('dllm-e2e-');
const llada = join(root, 'tiny-llada');
const llama = join(root, 'tiny-llama');

describe('models and generate (built CLI)', () => {
  beforeAll(async () => {
    expect((await cli(['models', 'build', '--preset', 'tiny', '--family', 'llada', '--out', llada, '--seed', '3'])).code).toBe(0);
    expect((await cli(['models', 'build', '--preset', 'tiny', '--family', 'llama', '--out', llama, '--seed', '3'])).code).toBe(0);
  }, 120_000);

  it('inspect --json describes the graph', async () => {
    const r = await cli(['models', 'inspect', llada, '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.family).toBe('llada');
    expect(info.graph).toBe('diffusion');
    expect(info.inputs.map((i: { name: string }) => i.name)).toEqual(['input_ids', 'attention_mask', 'position_ids', 'logits_start', 'cfg_scale', 'temperature', 'noise_seed']);
    expect(info.outputs.map((i: { name: string }) => i.name)).toEqual(['x0', 'confidence', 'logits']);
    expect(info.parameters).toBeGreaterThan(500_000);
    expect(info.synthetic).toEqual({ preset: 'tiny', seed: 3 });
  });

  it('convert re-converts the preset\'s native checkpoint (fp16)', async () => {
    const out = join(root, 'converted');
    const r = await cli(['models', 'convert', join(llama, 'checkpoint'), '--out', out, '--dtype', 'fp16']);
    expect(r.code).toBe(0);
    const info = JSON.parse((await cli(['models', 'inspect', out, '--json'])).stdout);
    expect(info.dtype).toBe('fp16');
    expect(info.files.map((f: { path: string }) => f.path)).toContain('onnx/model_fp16.onnx');
  });

  it('generate --json (diffusion): one row of gen_length token ids, text, nfe, timings', async () => {
    const r = await cli(['generate', '--model', llada, '--prompt', 'Hello there', '--gen-length', '16', '--steps', '8', '--block-length', '8', '--json', '--device', 'cpu']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.tokens).toHaveLength(1);
    expect(out.tokens[0]).toHaveLength(16);
    expect(out.tokens[0].every((t: unknown) => Number.isInteger(t))).toBe(true);
    expect(out.nfe).toBe(8);
    expect(typeof out.text[0]).toBe('string');
    expect(out.totalMs).toBeGreaterThan(0);
  });

  it('generate --json (autoregressive) has the same shape; --prompt-ids works', async () => {
    const r = await cli(['generate', '--model', llama, '--prompt-ids', '1018,5,6,7', '--max-new-tokens', '12', '--mode', 'fixed', '--json', '--device', 'cpu']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.tokens).toHaveLength(1);
    expect(out.tokens[0]).toHaveLength(12);
    expect(out.nfe).toBe(12);
    const direct = JSON.parse((await cli(['generate', '--model', llama, '--prompt-ids', '1018,5,6,7', '--max-new-tokens', '12', '--mode', 'fixed', '--json', '--engine', 'ar-ort'])).stdout);
    expect(direct.tokens).toEqual(out.tokens);
  });

  it('generate --model twins: a preset run accepts works; the answer prints as the task reads it, the padding summarized', async () => {
    const env = { DLLM_BENCH_CACHE: join(root, 'cache') };
    // The first held-out sort item: "sort 686500" -> "005668".
    const r = await cli(['generate', '--model', 'twins', '--prompt', 'sort 686500', '--gen-length', '16', '--device', 'cpu'], env);
    expect(r.code, r.stderr).toBe(0);
    const answer = r.stdout.trim();
    expect(answer).toMatch(/^\d{6}$/); // six characters, no spaces between them, no end tokens after them
    expect(r.stderr).toMatch(/the answer ended at an end token; \d+ end\/padding token\(s\) after it not shown/);
    const j = await cli(['generate', '--model', 'twins', '--family', 'llama', '--engine', 'ar-loop', '--prompt', 'sort 686500', '--max-new-tokens', '16', '--device', 'cpu', '--json'], env);
    expect(j.code, j.stderr).toBe(0);
    const out = JSON.parse(j.stdout);
    expect(out.family).toBe('llama');
    expect(out.answer).toEqual(['005668']); // the AR twin sorts (100% on sort in its model card)
    expect(out.text[0]).toMatch(/0 0 5 6 6 8/); // the tokenizer's own decoding, kept in --json
    expect(out.paddingTokens[0]).toBe(out.tokens[0].length - out.usefulTokens[0]);
  });

  it('bad generate input: one line, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--gen-length', '10', '--block-length', '4'], /gen_length \(10\) must be a multiple of block_length \(4\)/],
      [['--gen-length', '16', '--steps', '3', '--block-length', '8'], /steps \(3\) must be a multiple of the number of blocks/],
      [['--prompt-ids', '99999'], /outside the vocabulary/],
      [['--prompt', 'x'.repeat(3000)], /exceeds the model's maximum length 2048/],
      [['--device', 'cuda'], /--device cuda: .*CUDA provider libraries are not installed.*ONNXRUNTIME_NODE_INSTALL=cuda12/],
    ];
    for (const [args, message] of cases) {
      const withPrompt = args.includes('--prompt') || args.includes('--prompt-ids') ? args : ['--prompt', 'hi', ...args];
      const r = await cli(['generate', '--model', llada, ...withPrompt]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });

  it('an unreadable model folder and a wrong family fail clearly', async () => {
    expect((await cli(['run', '--diffusion', llama, '--out', join(root, 'x')])).stderr).toMatch(/a llama model, but this side needs a llada model/);
    const r = await cli(['models', 'inspect', root]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a model folder \(no config\.json\)/);
  });
});

describe('report (built CLI)', () => {
  it('re-renders a run in every format; a non-results file is exit 2', async () => {
    const { writeFileSync, readFileSync } = await import('node:fs');
    const run = join(root, 'run');
    expect((await cli(['run', '--scenarios', 'throughput', '--repetitions', '1', '--min-time', '0', '--warmup', '0', '--gen-length', '8', '--steps', '8', '--block-length', '8', '--out', run], { DLLM_BENCH_CACHE: join(root, 'cache') })).code).toBe(0);
    expect((await cli(['report', run, '--format', 'md'])).stdout).toMatch(/## throughput/);
    expect((await cli(['report', join(run, 'results.json'), '--format', 'json'])).stdout).toContain('"schemaVersion": 4');
    const html = join(root, 'r.html');
    expect((await cli(['report', run, '--format', 'html', '--out', html])).code).toBe(0);
    expect(readFileSync(html, 'utf8')).toMatch(/<svg/);
    expect((await cli(['report', run])).stdout).toMatch(/tok\/s/);
    const bogus = join(root, 'bogus.json');
    writeFileSync(bogus, '{"hello": 1}');
    const bad = await cli(['report', bogus]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  }, 120_000);
});
