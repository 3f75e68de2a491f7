/**
 * What a case records about answer quality (results.json `cases[].quality`): accuracy per held-out task and
 * overall, each with a Wilson 95% interval. Defined here, below results/, so the scorer and the results schema
 * share one definition.
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
  source: z.string().describe("the held-out task file, relative to the package when shipped (e.g. 'models/twins/heldout.json')"),
  perTask: z.number().int().positive().describe('the first perTask held-out items of each task were decoded (a fixed slice)'),
  tasks: z.array(Accuracy.extend({ task: z.string() })).describe('per task, in the order of the file'),
  overall: Accuracy.describe('pooled over every decoded item'),
  meanNfe: z.number().nonnegative().describe('forward passes per answer over the quality decodes (same settings as the timed samples)'),
});

export type Accuracy = z.infer<typeof Accuracy>;
export type CaseQuality = z.infer<typeof CaseQuality>;
