/**
 * Verdicts on the blog's claims (shared/seed: "Diffusion LLMs Are Here"), from one results file.
 * The blog's numbers are about Inception Labs' Mercury; a run measures LLaDA against an autoregressive baseline, so a
 * verdict says whether *this run* reproduces the claim under *its* conditions, names the evidence it read and the
 * conditions it holds under. Vocabulary: reproduced, not-reproduced, inconclusive (with the interval that would
 * decide), not-measurable (with what would make it measurable): never a guess and never a crash.
 *
 * Gates (README, "How each verdict is decided"): hardware claims need the claimed device class; speed ratios need real
 * weights (full size, or a scale-down stated "in miniature"); diffusion settings that decode several tokens per step
 * count only above the quality floor; AR is its strongest engine without a handicap.
 */
import type { ResultsFile } from '../results/types.js';
import { contextScaling, contextWindow } from './context.js';
import { type EvaluateOptions, PROMPT_TOLERANCE_TOKENS, QUALITY_MARGIN_POINTS, recordedAccuracy } from './evidence.js';
import { gpuEfficiency } from './gpu.js';
import type { ClaimVerdict } from './schema.js';
import { competitiveAccuracy, multiStepChains, reversalCurse } from './quality.js';
import { batchEff, h100, speed10x } from './speed.js';

/** Every claim, in the blog's order of appearance. */
export function evaluateClaims(results: ResultsFile, options: EvaluateOptions = {}): ClaimVerdict[] {
  const o = {
    accuracyOf: options.accuracyOf ?? recordedAccuracy,
    qualityMarginPoints: options.qualityMarginPoints ?? QUALITY_MARGIN_POINTS,
    promptToleranceTokens: options.promptToleranceTokens ?? PROMPT_TOLERANCE_TOKENS,
  };
  return [
    speed10x(results, o),
    competitiveAccuracy(results, o),
    h100(results, o),
    gpuEfficiency(results),
    batchEff(results),
    contextScaling(results),
    contextWindow(results),
    multiStepChains(results, o),
    reversalCurse(results, o),
  ];
}
