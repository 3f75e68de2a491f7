/** Why the GPU check cannot run here (null on a machine with an NVIDIA GPU and the CUDA provider installed). */
import { execFileSync } from 'node:child_process';
import { cudaProviderInstalled } from '../engines/device.js';

export function gpuSkipReasonOf(): string | null {
  if (!cudaProviderInstalled()) return 'the CUDA provider libraries are not installed (ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js)';
  try {
    execFileSync('nvidia-smi', ['-L'], { stdio: 'ignore' });
  } catch {
    return 'no NVIDIA GPU (nvidia-smi is not available)';
  }
  return null;
}
