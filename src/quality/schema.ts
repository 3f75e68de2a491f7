/**
 * What a case records about answer quality (results.json `cases[].quality`): accuracy per task and overall, each
 * with a Wilson 95% interval; for GSM8K both of lm-eval's filters, the lead one as `overall`. Defined here, below
 * results/, so the scorer and the results schema share one definition.
 */
import { z } from 'zod';

const Ci95 = z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]);

export const Accuracy = z.strictObject({
  correct: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  accuracy: z.number().min(0).max(1).describe('correct / total (0 when total is 0)'),
  ci95: Ci95.describe('Wilson 95% interval of the accuracy'),
});

export const CaseQuality = z.strictObject({
  suite: z.enum(['twins', 'file', 'gsm8k']).optional().describe('the task suite: twins (held-out tasks), file (a task file named with --tasks), gsm8k (lm-evaluation-harness v0.4.8 gsm8k, 5-shot)'),
  source: z.string().describe("the task file, relative to the package when shipped (e.g. 'models/twins/heldout.json'), or GSM8K's data and protocol"),
  perTask: z.number().int().positive().optional().describe('the first perTask held-out items of each task were decoded (a fixed slice)'),
  limit: z.union([z.number().int().positive(), z.literal('all')]).optional().describe('the first `limit` items of the suite were decoded (--task-limit)'),
  tasks: z.array(Accuracy.extend({ task: z.string() })).describe('per task, in the order of the file'),
  overall: Accuracy.describe('pooled over every decoded item (GSM8K: the lead filter, filters.leading)'),
  filters: z
    .strictObject({
      strictMatch: Accuracy.describe('lm-eval strict-match: `#### (-?[0-9.,]+)`, first match'),
      flexibleExtract: Accuracy.describe('lm-eval flexible-extract: `(-?[$0-9.,]{2,})|(-?[0-9]+)`, last match'),
      leading: z.enum(['strict-match', 'flexible-extract']).describe('the filter `overall` reports'),
    })
    .optional()
    .describe('GSM8K: exact match under each of lm-eval\'s filters'),
  meanNfe: z.number().nonnegative().describe('forward passes per answer over the quality decodes (same settings as the timed samples)'),
  items: z.number().int().nonnegative().optional().describe('items decoded'),
  planned: z.number().int().positive().optional().describe('items the pass meant to decode, when it was interrupted before the end'),
  interrupted: z.boolean().optional().describe('true when Ctrl-C stopped the pass: the accuracy is over the items decoded'),
  batchSize: z.number().int().positive().optional().describe('rows per request of the quality decodes (left-padded batches)'),
  decodeMs: z.number().nonnegative().optional().describe('wall time of all the quality decodes'),
  tokensPerSec: z.number().nonnegative().optional().describe("generated positions per second over the quality decodes (dllm-bench's count)"),
  answerTokens: z.number().int().nonnegative().optional().describe("answer tokens after the stop-string cut, EOS excluded, summed over items (Fast-dLLM's count)"),
  answerTokensPerSec: z.number().nonnegative().optional().describe("answerTokens per second of quality decoding (Fast-dLLM's tok/s)"),
});

export type Accuracy = z.infer<typeof Accuracy>;
export type CaseQuality = z.infer<typeof CaseQuality>;
