/**
 * The registry of model families (one adapter module each, under family/): detection from config.json, and the
 * lookups the converter, emitter, presets, cache, doctor, FLOPs model and `run` make. An unknown model_type is
 * refused by name; adding a family means adding its adapter here.
 */
import { UserError } from '../util/errors.js';
import type { FamilyAdapter, FamilyLayout, FamilyRole } from './family/base.js';
import { dream } from './family/dream.js';
import { llada } from './family/llada.js';
import { llama } from './family/llama.js';
import { qwen2 } from './family/qwen2.js';
import type { Family, TransformerSpec } from './spec.js';

export type { DiffusionDecoding, FamilyAdapter, FamilyLayout, FamilyRole, WeightRole } from './family/base.js';
export { expectedShape, ropeScalingConfig, ropeScalingFromConfig } from './family/base.js';

export const FAMILIES: Record<Family, FamilyAdapter> = { llada, llama, qwen2, dream };
export const FAMILY_NAMES = Object.keys(FAMILIES) as Family[];

/** The adapter of a family (every family-specific decision goes through this). */
export function familyOf(family: Family): FamilyAdapter {
  const a = FAMILIES[family];
  if (!a) throw new UserError(`unknown model family "${String(family)}"; supported: ${FAMILY_NAMES.join(', ')}`);
  return a;
}

/** The family a preset builds on each side when it names none. */
export const DEFAULT_FAMILY: Record<FamilyRole, Family> = { diffusion: 'llada', ar: 'llama' };

/** Families on one side of the comparison. */
export function familiesFor(role: FamilyRole): Family[] {
  return FAMILY_NAMES.filter((f) => FAMILIES[f].role === role);
}

/** "LLaDA (llada)"-style names of the families on one side, for messages. */
export function describeFamilies(role?: FamilyRole): string {
  return (role ? familiesFor(role) : FAMILY_NAMES).map((f) => `${f} (${FAMILIES[f].label}, ${FAMILIES[f].role === 'ar' ? 'autoregressive' : 'diffusion'})`).join(', ');
}

/** Weight names per family (a view of the adapters). */
export const layouts: Record<Family, FamilyLayout> = Object.fromEntries(FAMILY_NAMES.map((f) => [f, FAMILIES[f].layout])) as Record<Family, FamilyLayout>;

/** config.json -> family, by model_type first, then architectures; anything else is refused by name. */
export function detectFamily(config: Record<string, unknown>, file: string): Family {
  const modelType = String(config.model_type ?? '').toLowerCase();
  const archs = Array.isArray(config.architectures) ? config.architectures.map(String) : [];
  if (modelType) {
    const byType = FAMILY_NAMES.find((f) => FAMILIES[f].modelTypes.includes(modelType));
    if (byType) return byType;
  } else {
    const byArch = FAMILY_NAMES.find((f) => archs.some((a) => FAMILIES[f].architectures.includes(a)));
    if (byArch) return byArch;
  }
  throw new UserError(`${file}: unknown model family (model_type "${modelType || 'missing'}"); supported: ${describeFamilies()}`);
}

/** Reads a family's native config.json keys into a TransformerSpec. */
export function specFromConfig(config: Record<string, unknown>, file: string): TransformerSpec {
  return familyOf(detectFamily(config, file)).specFromConfig(config, file);
}

/** The family's native config.json for a spec (what a preset writes into checkpoint/). */
export function configFromSpec(spec: TransformerSpec, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return familyOf(spec.family).configFromSpec(spec, extra);
}
