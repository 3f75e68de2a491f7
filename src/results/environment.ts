import { createRequire } from 'node:module';
import { arch, cpus, release, totalmem, type as osType } from 'node:os';
import { queryGpus } from '../telemetry/nvidia-smi.js';
import type { Environment } from './types.js';

export function onnxruntimeVersion(): string {
  try {
    return (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function collectEnvironment(executionProvider: string): Promise<Environment> {
  const c = cpus();
  return {
    os: `${osType()} ${release()} ${arch()}`,
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    cpuCount: c.length,
    totalMemoryBytes: totalmem(),
    node: process.version,
    onnxruntime: onnxruntimeVersion(),
    executionProvider,
    gpus: await queryGpus().catch(() => []),
  };
}
