/** Request checks and batch layout shared by the AR engines: everything decided before the first forward. */
import { UserError } from '../../cli/errors.js';
import type { ModelFolder } from '../../models/folder.js';
import type { TransformerSpec } from '../../models/spec.js';
import type { EngineError, GenerateRequest } from '../types.js';

/** The AR engines run the 'causal' graph (KV cache in and out); a diffusion folder is a user mistake. */
export function requireCausalFolder(folder: ModelFolder, dirArg: string): void {
  if (folder.meta.graph !== 'causal' || folder.meta.family !== 'llama') {
    throw new UserError(
      `${dirArg}: a ${folder.meta.family} (${folder.meta.graph}) model; the autoregressive engines need a llama (causal) model folder, e.g. "dllm-bench models build --family llama"`,
    );
  }
}

/** invalid-options before any work: empty batch or prompts, genLength < 1, prompt + genLength past maxPositions. */
export function checkArRequest(spec: Pick<TransformerSpec, 'maxPositions'>, req: GenerateRequest): EngineError | null {
  const bad = (message: string): EngineError => ({ code: 'invalid-options', message });
  if (!Number.isInteger(req.genLength) || req.genLength < 1) return bad(`new tokens must be a positive integer, got ${req.genLength}`);
  if (!Array.isArray(req.prompts) || req.prompts.length === 0) return bad('the batch has no prompts');
  const empty = req.prompts.findIndex((p) => p.length === 0);
  if (empty >= 0) return bad(`prompt ${empty} is empty: every batch row needs at least one token`);
  const longest = Math.max(...req.prompts.map((p) => p.length));
  const room = spec.maxPositions - req.genLength;
  if (longest > room) {
    return bad(
      `prompt of ${longest} tokens + ${req.genLength} new tokens exceeds the model's maximum length ${spec.maxPositions} (prompts may have at most ${Math.max(0, room)} tokens)`,
    );
  }
  return null;
}

export interface LeftPadded {
  batch: number;
  /** Padded prompt length (the longest prompt). */
  width: number;
  /** Real tokens per row. */
  lengths: number[];
  /** [batch, width] row-major, padding first. */
  ids: BigInt64Array;
  mask: BigInt64Array;
  /** Cumulative mask - 1, clamped at 0 (padding positions are masked, so their value does not matter). */
  positions: BigInt64Array;
}

export function leftPadBatch(prompts: number[][], padId: number): LeftPadded {
  const batch = prompts.length;
  const lengths = prompts.map((p) => p.length);
  const width = Math.max(...lengths);
  const ids = new BigInt64Array(batch * width).fill(BigInt(padId));
  const mask = new BigInt64Array(batch * width);
  const positions = new BigInt64Array(batch * width);
  prompts.forEach((p, b) => {
    const pad = width - p.length;
    for (let t = 0; t < p.length; t++) {
      ids[b * width + pad + t] = BigInt(p[t]!);
      mask[b * width + pad + t] = 1n;
      positions[b * width + pad + t] = BigInt(t);
    }
  });
  return { batch, width, lengths, ids, mask, positions };
}

/** Index of the first stop token, or -1. */
export function firstStop(tokens: readonly number[], stopIds: readonly number[]): number {
  return tokens.findIndex((t) => stopIds.includes(t));
}

export function runtimeError(prefix: string, err: unknown): EngineError {
  const msg = err instanceof Error ? err.message : String(err);
  return { code: 'runtime', message: `${prefix}: ${(msg.split('\n').find((l) => l.trim()) ?? msg).trim()}` };
}
