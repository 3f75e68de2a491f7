/** Seeded random checkpoints in a family's native safetensors layout (the input a real checkpoint would be). */
import { at } from '../util/indexing.js';
import { float32ToBf16Array, float32ToFloat16Array, type StDtype } from './dtype.js';
import { type WeightRole, expectedShape, familyOf } from './families.js';
import { type TensorToWrite, writeSafetensors } from './safetensors.js';
import type { TransformerSpec } from './spec.js';
import { mulberry32 } from '../util/random.js';

export { mulberry32 };

function gaussian(rand: () => number, n: number, mean: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = mean + r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = mean + r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

function encode(values: Float32Array, dtype: StDtype): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.buffer);
  return new Uint8Array((dtype === 'F16' ? float32ToFloat16Array(values) : float32ToBf16Array(values)).buffer);
}

/** Every (name, shape, init) of a spec's checkpoint, in a stable order. */
export function checkpointTensors(spec: TransformerSpec, seed: number, dtype: StDtype = 'F32'): TensorToWrite[] {
  const { layout, features } = familyOf(spec.family);
  const out: TensorToWrite[] = [];
  // One generator per tensor, derived from the seed and the tensor's index: any tensor is reproducible alone.
  const add = (name: string, shape: number[], mean: number, std: number) => {
    const idx = out.length;
    out.push({
      name,
      dtype,
      shape,
      data: () => encode(gaussian(mulberry32(seed * 7919 + idx * 104729 + 1), shape.reduce((a, d) => a * d, 1), mean, std), dtype),
    });
  };
  const d = spec.hiddenSize;
  add(layout.embed, expectedShape(spec, 'embed'), 0, 1);
  const roles: WeightRole[] = ['attnNorm', 'q', 'k', 'v', 'o', 'mlpNorm', 'gate', 'up', 'down', ...(features.qkvBias ? (['qBias', 'kBias', 'vBias'] as const) : [])];
  for (let i = 0; i < spec.numLayers; i++) {
    for (const role of roles) {
      const shape = expectedShape(spec, role);
      if (role.endsWith('Bias')) add(layout.layer(i, role), shape, 0, 0.1);
      else if (shape.length === 1) add(layout.layer(i, role), shape, 1, 0.1);
      else add(layout.layer(i, role), shape, 0, 1 / Math.sqrt(at(shape, 1, 'shape')));
    }
  }
  add(layout.finalNorm, [d], 1, 0.1);
  // A sharper head than 1/sqrt(d) so that confidences spread out as in a trained model.
  if (!spec.tieWordEmbeddings) add(layout.head, expectedShape(spec, 'head'), 0, 3 / Math.sqrt(d));
  return out;
}

export function writeSyntheticCheckpoint(spec: TransformerSpec, file: string, seed: number, dtype: StDtype = 'F32'): void {
  writeSafetensors(file, checkpointTensors(spec, seed, dtype), { format: 'pt', generator: 'dllm-bench synthetic', seed: String(seed) });
}
