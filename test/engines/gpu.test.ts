/**
 * On a machine with an NVIDIA GPU and the CUDA provider installed, the engines run on CUDA and agree with the CPU.
 * Elsewhere these tests are skipped, and the skip says why.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cudaProviderInstalled } from '../../src/engines/device.js';
import { createLladaEngine } from '../../src/engines/llada/engine.js';
import { DEFAULT_LLADA_OPTIONS } from '../../src/engines/llada/sampler.js';
import { createOrtArEngine } from '../../src/engines/ar-ort/engine.js';
import { buildMicroModel, microSpec } from '../helpers/models.js';
import { okValue } from '../helpers/engine.js';

function gpuReason(): string | null {
  if (!cudaProviderInstalled()) return 'CUDA provider libraries not installed (ONNXRUNTIME_NODE_INSTALL=cuda12)';
  try {
    execFileSync('nvidia-smi', ['-L'], { stdio: 'ignore' });
  } catch {
    return 'no NVIDIA GPU (nvidia-smi unavailable)';
  }
  return null;
}
const reason = gpuReason();

describe.skipIf(reason !== null)(`CUDA${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it('LLaDA on CUDA decodes the same tokens as on the CPU', async () => {
    const built = buildMicroModel(microSpec('llada'), 5);
    const cpu = await createLladaEngine({ modelDir: built.out, device: 'cpu' });
    const gpu = await createLladaEngine({ modelDir: built.out, device: 'cuda' });
    expect(gpu.info.device).toBe('cuda');
    const req = { prompts: [[90, 3, 4, 5]], genLength: 16 };
    const o = { ...DEFAULT_LLADA_OPTIONS, steps: 16, blockLength: 8 };
    const [a, b] = [await cpu.generate(req, o), await gpu.generate(req, o)];
    expect(okValue(b).tokens).toEqual(okValue(a).tokens);
    await cpu.dispose();
    await gpu.dispose();
  });

  it('the AR loop on CUDA discloses the KV-cache round trip', async () => {
    const built = buildMicroModel(microSpec('llama'), 5);
    const gpu = await createOrtArEngine({ modelDir: built.out, device: 'cuda' });
    expect(gpu.info.handicaps.join(' ')).toMatch(/KV cache copied device->host->device/);
    const r = await gpu.generate({ prompts: [[90, 3, 4]], genLength: 8 }, { mode: 'fixed' });
    expect(okValue(r).hostDeviceBytesPerForward).toBeGreaterThan(0);
    await gpu.dispose();
  });
});
