import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import ort from 'onnxruntime-node';
import { convertCheckpoint } from '../../src/models/build.js';
import { buildMicroModel, microSpec } from '../helpers/models.js';

describe('external data (the path models over 2 GB take)', () => {
  it('weights in model.onnx_data load and give the same outputs as inline weights', async () => {
    const spec = microSpec('llada');
    const inline = buildMicroModel(spec, 8);
    const ext = convertCheckpoint(inline.ckpt, join(inline.root, 'ext'), { dtype: 'fp32', externalData: true });
    expect(ext.meta.externalData).toBe(true);
    const onnx = join(inline.root, 'ext', 'onnx', 'model.onnx');
    expect(existsSync(`${onnx}_data`)).toBe(true);
    expect(statSync(onnx).size).toBeLessThan(statSync(`${onnx}_data`).size / 4);
    const feeds = () => {
      const t = (v: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
      return {
        input_ids: t([90, 3, 4, 95, 95]),
        attention_mask: t([1, 1, 1, 1, 1]),
        position_ids: t([0, 1, 2, 3, 4]),
        logits_start: new ort.Tensor('int64', BigInt64Array.from([0n]), [1]),
        cfg_scale: new ort.Tensor('float32', Float32Array.from([0]), [1]),
        temperature: new ort.Tensor('float32', Float32Array.from([0]), [1]),
        noise_seed: new ort.Tensor('int64', BigInt64Array.from([0n]), [1]),
      };
    };
    const a = await (await ort.InferenceSession.create(join(inline.out, 'onnx', 'model.onnx'))).run(feeds());
    const b = await (await ort.InferenceSession.create(onnx)).run(feeds());
    expect(Array.from(b.logits!.data as Float32Array)).toEqual(Array.from(a.logits!.data as Float32Array));
  });
});
