/**
 * The run configuration: one zod schema for configs/*.json (published as configs/config.schema.json) and the
 * flags of `dllm-bench run`, which override the file field by field (the flag table in src/cli/commands/run.ts,
 * typed against this schema by ConfigPath). The enums below are the one list of each choice; flags and help
 * text read them.
 */
import { z } from 'zod';
import { HttpSide } from './http.js';

export const Scenario = z.enum(['throughput', 'batch', 'context', 'steps']);
export const ArEngine = z.enum(['ar', 'ar-ort', 'ar-loop']);
export const Device = z.enum(['auto', 'cpu', 'cuda', 'webgpu']);
export const WeightDtype = z.enum(['fp32', 'fp16']);
export const Remasking = z.enum(['low_confidence', 'random']);
/** Fast-dLLM KV cache: none (the reference sampler), prefix cache, dual cache. */
export const CacheMode = z.enum(['none', 'prefix', 'dual']);
export type Scenario = z.infer<typeof Scenario>;
export type ArEngine = z.infer<typeof ArEngine>;
export type Device = z.infer<typeof Device>;
export type WeightDtype = z.infer<typeof WeightDtype>;
export type Remasking = z.infer<typeof Remasking>;
export type CacheMode = z.infer<typeof CacheMode>;

const posInt = z.number().int().positive();
const posIntList = z.array(posInt).min(1);
/** Rows of one request: a sanity bound (the memory plan refuses what does not fit the machine long before it). */
export const MAX_BATCH_SIZE = 1024;
const batchSize = posInt.max(MAX_BATCH_SIZE);

const Side = z
  .object({
    model: z
      .string()
      .min(1)
      .describe('a preset name (twins: the trained tiny twins; tiny, small, llada-8b, llama3-8b: random weights), a model folder, or an http(s) URL of an OpenAI-compatible server'),
    dtype: WeightDtype.default('fp32').describe('weights dtype when building a preset'),
    seed: z.number().int().nonnegative().default(0).describe('weight seed when building a preset'),
    http: HttpSide.optional().describe('required when model is a URL'),
  })
  .strict();

export const RunConfig = z
  .object({
    $schema: z.string().optional(),
    name: z.string().default('default'),
    description: z.string().optional(),
    diffusion: Side.default({ model: 'twins', dtype: 'fp32', seed: 0 }),
    ar: Side.extend({
      engines: z.array(ArEngine).min(1).default(['ar', 'ar-ort', 'ar-loop']).describe('ar = transformers.js, ar-ort = direct onnxruntime loop, ar-loop = the decode loop inside one onnxruntime call'),
    })
      .strict()
      .default({ model: 'twins', dtype: 'fp32', seed: 0, engines: ['ar', 'ar-ort', 'ar-loop'] }),
    device: Device.default('auto'),
    session: z
      .object({
        intraOpThreads: posInt.optional(),
        interOpThreads: posInt.optional(),
        graphOptimization: z.enum(['disabled', 'basic', 'extended', 'all']).default('all'),
      })
      .strict()
      .default({ graphOptimization: 'all' }),
    scenarios: z.array(Scenario).min(1).default([...Scenario.options]),
    prompts: z
      .string()
      .default('default')
      .describe("a built-in prompt set name (configs/prompts/NAME.json) or a path to one; 'default' gives a model with held-out tasks (the twins) its task prompts"),
    chatTemplate: z.boolean().default(true).describe('wrap prompts in each model\'s chat template'),
    warmup: z.number().int().nonnegative().default(1),
    repetitions: posInt.default(3),
    genLength: posInt.default(32).describe('generated tokens per row (diffusion fills exactly this many; AR runs fixed-length)'),
    llada: z
      .object({
        steps: posInt.default(32),
        blockLength: posInt.default(32),
        temperature: z.number().nonnegative().default(0),
        cfgScale: z.number().nonnegative().default(0),
        remasking: Remasking.default('low_confidence'),
        threshold: z.number().gt(0).lte(1).nullable().default(null),
        seed: z.number().int().nonnegative().default(0),
        cache: CacheMode.default('none').describe('Fast-dLLM KV cache: none (the reference sampler), prefix or dual'),
      })
      .strict()
      .default({ steps: 32, blockLength: 32, temperature: 0, cfgScale: 0, remasking: 'low_confidence', threshold: null, seed: 0, cache: 'none' }),
    throughput: z
      .object({ batchSize: batchSize.default(1), prompts: posInt.default(4).describe('prompts from the set per repetition') })
      .strict()
      .default({ batchSize: 1, prompts: 4 }),
    batch: z.object({ batchSizes: z.array(batchSize).min(1).default([1, 2, 4]) }).strict().default({ batchSizes: [1, 2, 4] }),
    context: z
      // To 1024 so that the diffusion step's attention (quadratic in L) is over half of the tiny preset's FLOPs at the
      // longest length: c2 then shows above the linear cost; four lengths leave the quadratic fit a lack-of-fit check.
      .object({ promptLengths: posIntList.default([64, 256, 512, 1024]) })
      .strict()
      .default({ promptLengths: [64, 256, 512, 1024] }),
    steps: z
      .object({
        steps: posIntList.default([8, 16, 32]),
        thresholds: z.array(z.number().gt(0).lte(1)).default([0.9, 0.7]),
        caches: z.array(CacheMode).min(1).default([...CacheMode.options]).describe('KV cache modes swept against steps and thresholds'),
      })
      .strict()
      .default({ steps: [8, 16, 32], thresholds: [0.9, 0.7], caches: [...CacheMode.options] }),
    quality: z
      .object({
        perTask: z.number().int().nonnegative().default(10).describe('held-out items decoded per task for each throughput and steps case of a model with held-out tasks (0: no quality)'),
      })
      .strict()
      .default({ perTask: 10 }),
    http: z
      .object({
        concurrency: posIntList.default([1, 4]),
        requests: posInt.default(16),
        durationSec: z.number().positive().default(60),
        maxErrorRate: z.number().min(0).max(1).default(0.05),
      })
      .strict()
      .default({ concurrency: [1, 4], requests: 16, durationSec: 60, maxErrorRate: 0.05 }),
    telemetry: z.object({ intervalMs: posInt.default(100) }).strict().default({ intervalMs: 100 }),
    out: z.string().optional().describe('results folder (default results/<run-id>)'),
  })
  .strict();

export type RunConfig = z.output<typeof RunConfig>;
export type RunConfigInput = z.input<typeof RunConfig>;

/** Every path into a config file, as a key tuple: ['llada', 'steps'] type-checks, ['llada', 'stepz'] does not. */
export type ConfigPath = PathsOf<RunConfigInput>;
/** The value a config file holds at a path. */
export type ConfigValue<P extends ConfigPath> = ValueAt<RunConfigInput, P>;

type PathsOf<T> = T extends readonly unknown[]
  ? never
  : T extends object
    ? { [K in keyof T & string]-?: [K] | [K, ...PathsOf<NonNullable<T[K]>>] }[keyof T & string]
    : never;
type ValueAt<T, P> = P extends [infer K, ...infer Rest]
  ? K extends keyof NonNullable<T>
    ? Rest extends []
      ? NonNullable<T>[K]
      : ValueAt<NonNullable<T>[K], Rest>
    : never
  : never;

export function isUrl(model: string): boolean {
  return /^https?:\/\//i.test(model);
}
