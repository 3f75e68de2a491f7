/**
 * The shape of a verdict, defined once (types derived): what `claims --format json` prints and the HTML report shows.
 * A verdict is a union on its kind: an inconclusive one carries the interval that would decide it, a claim this run
 * cannot speak to carries what would make it measurable.
 */
import { z } from 'zod';
import { Ci95 } from '../results/schema.js';

export const ClaimId = z.enum(['speed-10x', 'h100-1000-tokens-per-sec', 'gpu-efficiency', 'batch-efficiency', 'context-scaling', 'context-window-3000', 'reversal-curse', 'multi-step-chains', 'competitive-accuracy']);

export const VerdictKind = z.enum(['reproduced', 'not-reproduced', 'inconclusive', 'not-measurable']);

/** What a verdict was measured under; null where the evidence has no such field (e.g. no cases). */
export const ClaimConditions = z.strictObject({
  device: z.string().nullable().describe('devices and execution providers of the cases used, e.g. "cuda (cuda)"'),
  gpuName: z.string().nullable().describe("GPU names from the run's environment; null when the run saw no GPU"),
  dtype: z.string().nullable(),
  weights: z.enum(['synthetic', 'real', 'mixed']).nullable(),
  scale: z
    .enum(['full', 'miniature'])
    .nullable()
    .describe('real weights of billions of parameters (full) or a smaller real model (miniature: the claim reproduced as a scale-down); null for synthetic weights or no cases'),
  tokenCounting: z.string().describe('all generated positions (padded) vs up to the first EOS/EoT (useful)'),
  handicaps: z.array(z.string()).describe('disclosed handicaps of the engines used, each prefixed with its engine'),
  holdsUnder: z.array(z.string()).describe('the conditions the verdict holds under (batch, lengths, settings, scale), one phrase each'),
});

const verdictBase = {
  id: ClaimId,
  claim: z.string().describe("the blog's words"),
  evidence: z.string().describe('the measured numbers behind the verdict, or why nothing could be measured'),
  evidenceUsed: z.array(z.string()).describe('case ids and analyses the verdict read'),
  conditions: ClaimConditions,
  figures: z.record(z.string(), z.number().nullable()).describe('the same numbers for machines, units in the names'),
};

export const ClaimVerdict = z.discriminatedUnion('verdict', [
  z.strictObject({ ...verdictBase, verdict: z.literal('reproduced') }),
  z.strictObject({ ...verdictBase, verdict: z.literal('not-reproduced') }),
  z.strictObject({
    ...verdictBase,
    verdict: z.literal('inconclusive'),
    deciding: z.strictObject({
      quantity: z.string().describe('what was estimated, with its unit'),
      ci95: Ci95,
      decidesWhen: z.string().describe('where the interval would have to lie for each decided verdict'),
    }),
  }),
  z.strictObject({ ...verdictBase, verdict: z.literal('not-measurable'), needs: z.string().describe('what would make the claim measurable') }),
]);

export type ClaimId = z.infer<typeof ClaimId>;
export type VerdictKind = z.infer<typeof VerdictKind>;
export type ClaimConditions = z.infer<typeof ClaimConditions>;
export type ClaimVerdict = z.infer<typeof ClaimVerdict>;

export const CLAIM_TEXT: Record<ClaimId, string> = {
  'speed-10x': 'Mercury LLM from Inception Labs now brings this paradigm shift to text - achieving 10x speed boost',
  'h100-1000-tokens-per-sec': 'Mercury is able to achieve over 1000 tokens/second on NVIDIA H100s.',
  'gpu-efficiency': 'Hardware Utilization: 60-65% GPU efficiency (autoregressive) vs 85%+ GPU efficiency (diffusion)',
  'batch-efficiency': 'Batch document generation: 92% batch efficiency',
  'context-scaling': 'Context Scaling: Quadratic complexity (autoregressive) vs Linear scaling (diffusion)',
  'context-window-3000': 'Context Window: only 3,000 tokens',
  'reversal-curse': 'LLaDA ... Solves reversal curse better than GPT-4',
  'multi-step-chains': 'Reasoning Depth: Struggles with multi-step logic chains',
  'competitive-accuracy': 'achieving 10x speed boost while maintaining competitive performance',
};
