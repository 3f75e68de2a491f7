/**
 * The vocabularies every layer shares (engine kinds, scenario kinds, warning codes), defined once here, low in the
 * import order, so engines, telemetry, scenarios and results all derive their types from the same zod enums.
 */
import { z } from 'zod';
import { ArEngine, Scenario } from './schema.js';

export const EngineKind = z.enum(['llada', ...ArEngine.options, 'openai']).describe('llada = diffusion sampler, ar = transformers.js, ar-ort = direct onnxruntime loop, ar-loop = decode loop inside one onnxruntime call, openai = HTTP server');
export type EngineKind = z.infer<typeof EngineKind>;

/** Which attention kernel a graph this project emits uses: recorded per case, so that a difference between the sides is visible. */
export const AttentionImpl = z.enum(['fused-mha', 'fused-gqa', 'unfused']);
export type AttentionImpl = z.infer<typeof AttentionImpl>;
/** An engine's attention kernel; 'unknown' for graphs this project did not build (external exports). */
export const AttentionKind = z.enum([...AttentionImpl.options, 'unknown']);
export type AttentionKind = z.infer<typeof AttentionKind>;

/**
 * Which sampler a diffusion engine decoded with: LLaDA's (ML-GSAI/LLaDA generate.py, with Fast-dLLM's threshold and
 * caches) or Dream's (HKUNLP/Dream diffusion_generate, with Fast-dLLM's Dream caches). The model's family adapter
 * chooses it; results record it per case.
 */
export const DiffusionSampler = z.enum(['llada', 'dream']);
export type DiffusionSampler = z.infer<typeof DiffusionSampler>;

/** Dream's position-selection algorithms (diffusion_generate's `alg`). */
export const DreamAlg = z.enum(['origin', 'maskgit_plus', 'topk_margin', 'entropy']);
export type DreamAlg = z.infer<typeof DreamAlg>;

export const ScenarioKind = Scenario;
export type ScenarioKind = z.infer<typeof ScenarioKind>;

/** Every warning a run can record; each says what happened and what to do. */
export const WarningCode = z.enum([
  'device-fallback',
  'context-too-long',
  'telemetry-gpu-unavailable',
  'telemetry-gpu-selection',
  'telemetry-nvidia-smi-exited',
  'telemetry-nvidia-smi-unparsed',
  'http-no-done',
  'quality-failed',
  'high-variation',
  'case-disagreement',
]);
export type WarningCode = z.infer<typeof WarningCode>;

export const Warning = z.strictObject({
  code: WarningCode,
  message: z.string().describe('one line for people, saying what to do about it'),
});
export type Warning = z.infer<typeof Warning>;

/**
 * What a disclosed handicap is, as a code (the prose beside it in a case's conditions says it for people). Readers
 * judge fairness on the code, never on the prose: see `handicapSlows` for which ones slow an engine.
 */
export const HandicapCode = z.enum([
  'kv-round-trip',
  'prompt-cache-once',
  'gqa-padding',
  'attention-unfused',
  'attention-unknown',
  'over-http',
]);
export type HandicapCode = z.infer<typeof HandicapCode>;

/**
 * Whether a handicap slows the engine in a case of this batch size: a KV-cache round trip every token, an attention
 * kernel mismatch do; HTTP overhead (a served side is judged as served) and a one-time transfer per generation (ar-loop's prompt cache on CUDA) does not,
 * nor does the GQA padding branch at batch 1 (no padded rows).
 */
export function handicapSlows(code: HandicapCode, batchSize: number): boolean {
  if (code === 'prompt-cache-once') return false;
  // A served side is judged as served: the network and the server's queue are part of what it offers.
  if (code === 'over-http') return false;
  if (code === 'gqa-padding') return batchSize > 1;
  return true;
}
