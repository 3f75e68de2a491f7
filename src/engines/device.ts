/**
 * Choosing an execution provider. onnxruntime-node does not fall back by itself: a 'cuda' session simply fails
 * to create when the CUDA provider libraries (downloaded by its install script, skipped offline) or the CUDA
 * runtime are missing. So we try, classify the failure, and either fall back (auto) or stop with the fix (cuda).
 */
import { existsSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UserError } from '../util/errors.js';
import type { DeviceRequest, ResolvedDevice } from './types.js';

export const CUDA_INSTALL_FIX =
  'install the CUDA provider: ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js';

export interface DeviceChoice {
  device: Exclude<ResolvedDevice, 'remote'>;
  /** Passed to InferenceSession.create. */
  executionProviders: string[];
  /** One line on why this device was chosen, shown to the user and stored in results. */
  note: string;
}

/** Folder holding onnxruntime-node's native binaries for this platform. */
export function ortBinaryDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('onnxruntime-node/package.json');
  return join(dirname(pkg), 'bin', 'napi-v6', `${process.platform}`, process.arch);
}

export function cudaProviderInstalled(): boolean {
  return existsSync(join(ortBinaryDir(), 'libonnxruntime_providers_cuda.so'));
}

/** Turns an onnxruntime CUDA failure into a reason a user can act on. */
export function explainCudaFailure(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (!cudaProviderInstalled()) return `the onnxruntime-node CUDA provider libraries are not installed; ${CUDA_INSTALL_FIX}`;
  if (/libcudnn/i.test(msg)) return `cuDNN 9 libraries were not found (${firstLine(msg)}); install cuDNN 9 for CUDA 12 and add it to LD_LIBRARY_PATH`;
  if (/libcu(blas|da|rt|fft|rand)/i.test(msg)) return `CUDA 12 runtime libraries were not found (${firstLine(msg)}); install the CUDA 12 toolkit libraries and add them to LD_LIBRARY_PATH`;
  if (/no CUDA-capable device|CUDA failure 100|cudaErrorNoDevice/i.test(msg)) return 'no CUDA GPU is visible (check nvidia-smi and CUDA_VISIBLE_DEVICES)';
  return `the CUDA provider failed to load: ${firstLine(msg)}`;
}

function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim()) ?? s).trim().slice(0, 300);
}

/**
 * Resolves a device request by actually creating a session: `create(providers)` must build the engine's session
 * (so the probe is the real model, not a stand-in). Returns the session and the choice.
 */
export async function withDevice<S>(
  request: DeviceRequest,
  create: (providers: string[]) => Promise<S>,
): Promise<{ session: S; choice: DeviceChoice }> {
  if (request === 'cpu') return { session: await create(['cpu']), choice: { device: 'cpu', executionProviders: ['cpu'], note: 'cpu: requested' } };
  if (request === 'webgpu') {
    try {
      return { session: await create(['webgpu']), choice: { device: 'webgpu', executionProviders: ['webgpu'], note: 'webgpu: requested' } };
    } catch (err) {
      throw new UserError(`--device webgpu: no usable WebGPU adapter (${firstLine(err instanceof Error ? err.message : String(err))}); use --device cpu or cuda`);
    }
  }
  if (request === 'cuda' && !cudaProviderInstalled()) throw new UserError(`--device cuda: ${explainCudaFailure(new Error('not installed'))}`);
  if (request === 'auto' && !cudaProviderInstalled()) {
    // Skip the doomed attempt (and onnxruntime's native error log) when the provider is not even installed.
    return {
      session: await create(['cpu']),
      choice: { device: 'cpu', executionProviders: ['cpu'], note: `auto: CUDA provider not installed, using CPU (to use a GPU: ${CUDA_INSTALL_FIX})` },
    };
  }
  try {
    // onnxruntime's own logger would print the provider-loading failure as a multi-line native error; we explain
    // it ourselves below.
    ort.env.logLevel = 'fatal';
    const session = await create(['cuda']);
    return { session, choice: { device: 'cuda', executionProviders: ['cuda'], note: `cuda: ${request === 'auto' ? 'auto-detected' : 'requested'}` } };
  } catch (err) {
    const reason = explainCudaFailure(err);
    if (request === 'cuda') throw new UserError(`--device cuda: ${reason}`);
    return {
      session: await create(['cpu']),
      choice: { device: 'cpu', executionProviders: ['cpu'], note: `auto: CUDA unavailable (${reason}); using CPU` },
    };
  }
}
