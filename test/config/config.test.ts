import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/util/errors.js';
import { runConfigJsonSchema } from '../../src/config/json-schema.js';
import { type Override, loadRunConfig } from '../../src/config/load.js';
import { RunConfig } from '../../src/config/schema.js';
import { checkSamplerConfig } from '../../src/run/check-config.js';
import { loadPromptSet } from '../../src/scenarios/prompts.js';
import { tempDir } from '../helpers/models.js';

const configsDir = join(import.meta.dirname, '..', '..', 'configs');

function userError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
}

describe('run configuration', () => {
  it('every shipped config validates', () => {
    const files = readdirSync(configsDir).filter((f) => f.endsWith('.json') && f !== 'config.schema.json');
    expect(files).toEqual(expect.arrayContaining(['default.json', 'small-cpu.json', 'llada-8b-vs-llama3-8b.json', 'ci-regression.json', 'http-example.json']));
    for (const f of files) expect(() => {
        const { config, source } = loadRunConfig(join(configsDir, f), []);
        checkSamplerConfig(config, source);
      }, f).not.toThrow();
  });

  it('the published JSON Schema is the zod schema (regenerate with npm run schema)', () => {
    expect(readFileSync(join(configsDir, 'config.schema.json'), 'utf8')).toBe(runConfigJsonSchema());
  });

  it('defaults: the trained twins scored on their held-out tasks, every scenario, auto device', () => {
    const { config } = loadRunConfig(undefined, []);
    expect(config.diffusion.model).toBe('twins');
    expect(config.ar.model).toBe('twins');
    expect(config.genLength).toBe(16); // the diffusion twin's training generation length
    expect(config.quality.perTask).toBeGreaterThan(0);
    expect(RunConfig.parse({}).diffusion.model).toBe('twins');
    expect(RunConfig.parse({}).ar.model).toBe('twins');
    expect(config.scenarios).toEqual(['throughput', 'batch', 'context', 'steps']);
    expect(config.device).toBe('auto');
  });

  it('flags override the file field by field', () => {
    const { config } = loadRunConfig('default', [
      { path: ['llada', 'steps'], value: 16 },
      { path: ['batch', 'batchSizes'], value: [1, 8] },
      { path: ['scenarios'], value: ['batch'] },
    ]);
    expect(config.llada.steps).toBe(16);
    expect(config.llada.blockLength).toBe(16);
    expect(config.batch.batchSizes).toEqual([1, 8]);
    expect(config.scenarios).toEqual(['batch']);
  });

  it('bad input: one line naming the file and field', () => {
    const dir = tempDir();
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ llada: { steps: -3 } }));
    expect(userError(() => loadRunConfig(bad, []))).toMatch(/bad\.json: llada\.steps: /);
    writeFileSync(bad, '{ not json');
    expect(userError(() => loadRunConfig(bad, []))).toMatch(/not valid JSON/);
    writeFileSync(bad, JSON.stringify({ bogus: 1 }));
    expect(userError(() => loadRunConfig(bad, []))).toMatch(/bogus/);
    expect(userError(() => loadRunConfig(join(dir, 'missing.json'), []))).toMatch(/file not found/);
  });

  it('sampler combinations are checked before any work', () => {
    const checked = (overrides: Override[]) => () => {
      const { config, source } = loadRunConfig('default', overrides);
      checkSamplerConfig(config, source);
    };
    expect(userError(checked([{ path: ['llada', 'blockLength'], value: 5 }]))).toMatch(/default\.json: gen_length \(16\) must be a multiple of block_length \(5\)/);
    expect(userError(checked([{ path: ['llada', 'blockLength'], value: 4 }, { path: ['llada', 'steps'], value: 6 }]))).toMatch(/steps \(6\) must be a multiple of the number of blocks/);
    expect(userError(checked([{ path: ['llada', 'blockLength'], value: 8 }, { path: ['steps', 'steps'], value: [8, 7] }]))).toMatch(/steps sweep: steps \(7\)/);
    expect(checked([{ path: ['llada', 'blockLength'], value: 5 }, { path: ['diffusion', 'model'], value: 'http://127.0.0.1:9/v1' }, { path: ['diffusion', 'http'], value: { model: 'm' } }])).not.toThrow();
    expect(userError(() => loadRunConfig('default', [{ path: ['diffusion', 'model'], value: 'http://127.0.0.1:9/v1' }]))).toMatch(/the served model's name is required: pass --diffusion-model NAME/);
  });

  it('a served side from flags alone: URL + model name; --endpoint and --api-key-env reach served sides only', () => {
    const url = 'http://127.0.0.1:9/v1';
    const { config } = loadRunConfig('default', [
      { path: ['ar', 'model'], value: url },
      { path: ['ar', 'http', 'model'], value: 'm' },
      { path: ['diffusion', 'http', 'endpoint'], value: 'chat' },
      { path: ['ar', 'http', 'endpoint'], value: 'chat' },
      { path: ['diffusion', 'http', 'apiKeyEnv'], value: 'MY_KEY' },
      { path: ['ar', 'http', 'apiKeyEnv'], value: 'MY_KEY' },
    ]);
    expect(config.ar.http).toMatchObject({ model: 'm', endpoint: 'chat', apiKeyEnv: 'MY_KEY', ignoreEos: true });
    // The local diffusion side keeps no http block: the flags meant the served side.
    expect(config.diffusion).toMatchObject({ model: 'twins' });
    expect(config.diffusion.http).toBeUndefined();
    // A URL with only --endpoint: the missing model name is named by its flag.
    expect(userError(() => loadRunConfig('default', [{ path: ['ar', 'model'], value: url }, { path: ['ar', 'http', 'endpoint'], value: 'chat' }]))).toMatch(/pass --ar-model NAME/);
    // Open-loop rates and targets are config fields too.
    const { config: c2 } = loadRunConfig('default', [
      { path: ['http', 'requestRates'], value: [1, 4, 'inf'] },
      { path: ['http', 'slo'], value: { ttftMs: 500, tpotMs: 50 } },
    ]);
    expect(c2.http).toMatchObject({ requestRates: [1, 4, 'inf'], arrival: 'poisson', arrivalSeed: 0, slo: { ttftMs: 500, tpotMs: 50 } });
    expect(RunConfig.safeParse({ http: { requestRates: [0] } }).success).toBe(false);
    expect(RunConfig.safeParse({ http: { requestRates: ['fast'] } }).success).toBe(false);
  });

  it('overrides are typed against the schema (npm test type-checks the @ts-expect-error lines)', () => {
    const ok: Override[] = [
      { path: ['llada', 'steps'], value: 8 },
      { path: ['ar', 'engines'], value: ['ar-ort'] },
    ];
    // @ts-expect-error: no such field
    const typo: Override = { path: ['llada', 'stepz'], value: 8 };
    // @ts-expect-error: llada.steps is a number
    const wrongType: Override = { path: ['llada', 'steps'], value: 'eight' };
    // @ts-expect-error: not an AR engine
    const wrongEnum: Override = { path: ['ar', 'engines'], value: ['llada'] };
    expect(loadRunConfig('default', ok).config.llada.steps).toBe(8);
    expect([typo, wrongType, wrongEnum]).toHaveLength(3);
  });

  it('the schema rejects what it should', () => {
    expect(RunConfig.safeParse({ device: 'tpu' }).success).toBe(false);
    expect(RunConfig.safeParse({ scenarios: [] }).success).toBe(false);
    expect(RunConfig.safeParse({ steps: { thresholds: [1.5] } }).success).toBe(false);
  });
});

describe('prompt set', () => {
  it('the built-in set has every category and a long-context document', () => {
    const set = loadPromptSet('default');
    expect(new Set(set.prompts.map((p) => p.category))).toEqual(new Set(['math', 'code', 'summary', 'chat']));
    expect(set.longContext.document.length).toBeGreaterThan(500);
  });
});
