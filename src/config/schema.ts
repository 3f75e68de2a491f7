/**
 * The run configuration: one zod schema for configs/*.json (published as configs/config.schema.json) and the
 * flags of `dllm-bench run`, which override the file field by field (see src/config/flags.ts).
 */
import { z } from 'zod';
import { CACHE_MODES } from '../engines/llada/sampler.js';

export const SCENARIOS = ['throughput', 'batch', 'context', 'steps'] as const;
export const AR_ENGINES = ['ar', 'ar-ort'] as const;

const posInt = z.number().int().positive();
const posIntList = z.array(posInt).min(1);

/** HTTP side: an OpenAI-compatible server (vLLM, SGLang, llama.cpp, TGI, Mercury). */
const Http = z
  .object({
    model: z.string().min(1).describe('model name sent in requests'),
    endpoint: z.enum(['completions', 'chat']).default('completions'),
    apiKeyEnv: z.string().optional().describe('NAME of the environment variable holding the API key (the key is never written)'),
    timeoutMs: posInt.default(60000),
    ignoreEos: z.boolean().default(true).describe('ask the server for fixed-length output (vLLM: ignore_eos + min_tokens)'),
  })
  .strict();

const Side = z
  .object({
    model: z
      .string()
      .min(1)
      .describe('a synthetic preset name (tiny, small, llada-8b, llama3-8b), a model folder, or an http(s) URL of an OpenAI-compatible server'),
    dtype: z.enum(['fp32', 'fp16']).default('fp32').describe('weights dtype when building a preset'),
    seed: z.number().int().nonnegative().default(0).describe('weight seed when building a preset'),
    http: Http.optional().describe('required when model is a URL'),
  })
  .strict();

export const RunConfig = z
  .object({
    $schema: z.string().optional(),
    name: z.string().default('default'),
    description: z.string().optional(),
    diffusion: Side.default({ model: 'tiny', dtype: 'fp32', seed: 0 }),
    ar: Side.extend({
      engines: z.array(z.enum(AR_ENGINES)).min(1).default(['ar', 'ar-ort']).describe('ar = transformers.js, ar-ort = direct onnxruntime loop'),
    })
      .strict()
      .default({ model: 'tiny', dtype: 'fp32', seed: 0, engines: ['ar', 'ar-ort'] }),
    device: z.enum(['auto', 'cpu', 'cuda', 'webgpu']).default('auto'),
    session: z
      .object({
        intraOpThreads: posInt.optional(),
        interOpThreads: posInt.optional(),
        graphOptimization: z.enum(['disabled', 'basic', 'extended', 'all']).default('all'),
      })
      .strict()
      .default({ graphOptimization: 'all' }),
    scenarios: z.array(z.enum(SCENARIOS)).min(1).default([...SCENARIOS]),
    prompts: z.string().default('default').describe('a built-in prompt set name (configs/prompts/NAME.json) or a path to one'),
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
        remasking: z.enum(['low_confidence', 'random']).default('low_confidence'),
        threshold: z.number().gt(0).lte(1).nullable().default(null),
        seed: z.number().int().nonnegative().default(0),
        cache: z.enum(CACHE_MODES).default('none').describe('Fast-dLLM KV cache: none (the reference sampler), prefix or dual'),
      })
      .strict()
      .default({ steps: 32, blockLength: 32, temperature: 0, cfgScale: 0, remasking: 'low_confidence', threshold: null, seed: 0, cache: 'none' }),
    throughput: z
      .object({ batchSize: posInt.default(1), prompts: posInt.default(4).describe('prompts from the set per repetition') })
      .strict()
      .default({ batchSize: 1, prompts: 4 }),
    batch: z.object({ batchSizes: posIntList.default([1, 2, 4]) }).strict().default({ batchSizes: [1, 2, 4] }),
    context: z
      .object({ promptLengths: posIntList.default([64, 128, 256, 512]) })
      .strict()
      .default({ promptLengths: [64, 128, 256, 512] }),
    steps: z
      .object({
        steps: posIntList.default([8, 16, 32]),
        thresholds: z.array(z.number().gt(0).lte(1)).default([0.9, 0.7]),
        caches: z.array(z.enum(CACHE_MODES)).min(1).default([...CACHE_MODES]).describe('KV cache modes swept against steps and thresholds'),
      })
      .strict()
      .default({ steps: [8, 16, 32], thresholds: [0.9, 0.7], caches: [...CACHE_MODES] }),
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

export function isUrl(model: string): boolean {
  return /^https?:\/\//i.test(model);
}
