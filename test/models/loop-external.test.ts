/**
 * With external data (models over 2 GB), the extra graphs (ar-loop; the diffusion decoding-modes graph) reference
 * the model graph's weight file: one copy on disk.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createArLoopEngine } from '../../src/engines/ar-loop/engine.js';
import { createLladaEngine } from '../../src/engines/llada/engine.js';
import { DEFAULT_LLADA_OPTIONS } from '../../src/engines/llada/sampler.js';
import { createOrtArEngine } from '../../src/engines/ar-ort/engine.js';
import { convertCheckpoint } from '../../src/models/build.js';
import { buildMicroModel, microSpec } from '../helpers/models.js';

describe('ar-loop graph with external data', () => {
  it('shares model.onnx_data with the model graph and decodes the same tokens as ar-ort', async () => {
    const inline = buildMicroModel(microSpec('llama', { numKvHeads: 2 }), 12);
    const dir = join(inline.root, 'ext');
    const r = convertCheckpoint(inline.ckpt, dir, { dtype: 'fp32', externalData: true });
    expect(r.meta.loopOnnxFile).toBe('onnx/model_loop.onnx');
    expect(readdirSync(join(dir, 'onnx')).sort()).toEqual(['model.onnx', 'model.onnx_data', 'model_loop.onnx']);
    const data = statSync(join(dir, 'onnx/model.onnx_data')).size;
    // The data file holds one copy of the weights (fp32), not two; the loop graph itself is small.
    expect(data).toBeLessThan(1.5 * r.meta.parameters * 4);
    expect(statSync(join(dir, 'onnx/model_loop.onnx')).size).toBeLessThan(data / 4);
    expect(existsSync(join(dir, 'onnx/model_loop.onnx_data'))).toBe(false);

    const loop = await createArLoopEngine({ modelDir: dir, device: 'cpu' });
    const direct = await createOrtArEngine({ modelDir: inline.out, device: 'cpu' });
    try {
      const req = { prompts: [[90, 5, 17, 33], [90, 8]], genLength: 6 };
      const a = await loop.generate(req, { mode: 'fixed' });
      const b = await direct.generate(req, { mode: 'fixed' });
      if (!a.ok || !b.ok) throw new Error('generation failed');
      expect(a.value.tokens).toEqual(b.value.tokens);
    } finally {
      await loop.dispose();
      await direct.dispose();
    }
  });
});

describe('diffusion cached graphs with external data', () => {
  it('the decoding-modes graph shares model.onnx_data and decodes the same tokens as the inline model', async () => {
    const inline = buildMicroModel(microSpec('llada', { vocabSize: 128 }), 23);
    const dir = join(inline.root, 'ext');
    const r = convertCheckpoint(inline.ckpt, dir, { dtype: 'fp32', externalData: true });
    expect(readdirSync(join(dir, 'onnx')).sort()).toEqual(['model.onnx', 'model.onnx_data', 'model_entries.onnx']);
    // One copy of the weights in the data file, not two; the decoding-modes graph references it.
    const data = statSync(join(dir, 'onnx/model.onnx_data')).size;
    expect(data).toBeLessThan(1.5 * r.meta.parameters * 4);
    // Inline, the decoding-modes graph (three entries) stores the weights once: it outgrows the plain graph by its
    // extra nodes only, less than one more copy of the weights.
    const plain = statSync(join(inline.out, 'onnx', 'model.onnx')).size;
    expect(statSync(join(inline.out, 'onnx', 'model_entries.onnx')).size - plain).toBeLessThan(r.meta.parameters * 4);
    // The decoding-modes graph is smaller than its inline twin by at least half the weights (small tensors stay inline).
    expect(statSync(join(dir, 'onnx', 'model_entries.onnx')).size).toBeLessThan(statSync(join(inline.out, 'onnx', 'model_entries.onnx')).size - data / 2);

    const ext = await createLladaEngine({ modelDir: dir, device: 'cpu' });
    const ref = await createLladaEngine({ modelDir: inline.out, device: 'cpu' });
    try {
      const req = { prompts: [[3, 17, 40, 9, 77, 12], [21, 8]], genLength: 16 };
      for (const cacheLoop of ['device', 'host'] as const) {
        const o = { ...DEFAULT_LLADA_OPTIONS, steps: 16, blockLength: 8, cache: 'dual' as const, cacheLoop };
        const a = await ext.generate(req, o);
        const b = await ref.generate(req, o);
        if (!a.ok || !b.ok) throw new Error(`generation failed: ${a.ok ? '' : a.error.message} ${b.ok ? '' : b.error.message}`);
        expect(a.value.tokens).toEqual(b.value.tokens);
      }
    } finally {
      await ext.dispose();
      await ref.dispose();
    }
  });
});
