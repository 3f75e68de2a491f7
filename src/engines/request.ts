/**
 * The one validator of a generate request against a model: positive new-token count, non-empty prompts, and
 * prompt + new tokens within the model's maximum length. Engines call it before any work; the run and generate
 * commands call positionsError to reject bad input up front.
 */
import type { EngineError, GenerateRequest } from './types.js';

/** Message when `promptTokens + genLength` positions do not fit a model of `maxPositions`, else null. */
export function positionsError(promptTokens: number, genLength: number, maxPositions: number): string | null {
  const total = promptTokens + genLength;
  if (total <= maxPositions) return null;
  return `prompt (${promptTokens}) + gen_length (${genLength}) = ${total} exceeds the model's maximum length ${maxPositions}`;
}

/**
 * Message when a prompt holds the diffusion mask token id, else null. The reference sampler would let such a position
 * compete for the block's unmasking budget; no real prompt holds one.
 */
export function maskInPromptError(prompts: readonly number[][], maskId: number): string | null {
  const i = prompts.findIndex((p) => p.includes(maskId));
  return i < 0 ? null : `prompt ${i + 1} contains the mask token id ${maskId}; prompts must not contain it`;
}

export function validateRequest(req: GenerateRequest, maxPositions: number): EngineError | null {
  const invalid = (message: string): EngineError => ({ code: 'invalid-options', message });
  if (!Number.isInteger(req.genLength) || req.genLength < 1) return invalid(`gen_length must be a positive integer, got ${req.genLength}`);
  if (req.prompts.length === 0 || req.prompts.some((p) => p.length === 0)) return invalid('every batch row needs a non-empty prompt');
  const tooLong = positionsError(Math.max(...req.prompts.map((p) => p.length)), req.genLength, maxPositions);
  return tooLong ? invalid(tooLong) : null;
}
