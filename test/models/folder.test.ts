import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPreset } from '../../src/models/build.js';
import { META_KEY, ModelMetaSchema, loadModelFolder } from '../../src/models/folder.js';
import { UserError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/models.js';

describe('ModelMeta: a schema checks the "dllm_bench" block of config.json', () => {
  const dir = join(tempDir(), 'tiny-llama');
  beforeAll(() => {
    buildPreset(dir, { preset: 'tiny', family: 'llama', seed: 0, dtype: 'fp32' });
  }, 60_000);

  it('what the builder writes is valid, and loads as written', () => {
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(ModelMetaSchema.safeParse(config[META_KEY]).success).toBe(true);
    expect(loadModelFolder(dir).meta).toEqual(config[META_KEY]);
  });

  it('a broken field is one line naming where, not a crash later in an engine', () => {
    const broken = join(tempDir(), 'broken');
    cpSync(dir, broken, { recursive: true });
    const config = JSON.parse(readFileSync(join(broken, 'config.json'), 'utf8'));
    config[META_KEY].spec.numKvHeads = 'four';
    writeFileSync(join(broken, 'config.json'), JSON.stringify(config));
    let err: unknown;
    try {
      loadModelFolder(broken);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/config\.json's "dllm_bench" block is invalid at dllm_bench\.spec\.numKvHeads: .*; rebuild the model folder$/);
  });
});
