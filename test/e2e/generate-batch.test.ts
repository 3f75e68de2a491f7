/** generate with several prompts (one left-padded batch) and a KV cache mode, through the built CLI. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/models.js';

const root = tempDir('dllm-e2e-batch-');
const llada = join(root, 'tiny-llada');
const job = ['--gen-length', '16', '--steps', '16', '--block-length', '8', '--json', '--device', 'cpu'];

describe('generate: batches and caches (built CLI)', () => {
  beforeAll(async () => {
    expect((await cli(['models', 'build', '--preset', 'tiny', '--family', 'llada', '--out', llada, '--seed', '5'])).code).toBe(0);
  }, 120_000);

  it('repeated --prompt-ids form one batch; --prompts-file gives the same batch; --cache is recorded', async () => {
    const a = await cli(['generate', '--model', llada, '--prompt-ids', '5,6,7,8,9', '--prompt-ids', '10,11', '--cache', 'dual', ...job]);
    expect(a.code, a.stderr).toBe(0);
    const out = JSON.parse(a.stdout);
    expect(out.batchSize).toBe(2);
    expect(out.tokens).toHaveLength(2);
    for (const row of out.tokens) expect(row).toHaveLength(16);
    expect(out.options.cache).toBe('dual');
    expect(out.nfe).toBeLessThanOrEqual(16);
    const file = join(root, 'prompts.json');
    writeFileSync(file, JSON.stringify([[5, 6, 7, 8, 9], [10, 11]]));
    const b = JSON.parse((await cli(['generate', '--model', llada, '--prompts-file', file, '--cache', 'dual', ...job])).stdout);
    expect(b.tokens).toEqual(out.tokens);
  });

  it('a prompt holding the mask token id, a bad prompts file: one line, exit 2; a bad cache mode: exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--prompt-ids', '5,6', '--prompt-ids', '7,1023'], /prompt 2 contains the mask token id 1023/],
      [['--prompts-file', join(root, 'missing.json')], /--prompts-file .*not found/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['generate', '--model', llada, ...args, ...job]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    const bad = await cli(['generate', '--model', llada, '--prompt-ids', '5,6', '--cache', 'full', ...job]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/expected one of: none, prefix, dual/);
  });
});
