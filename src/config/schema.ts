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
/**
 * A sane bound on rows per request, until a memory plan refuses what cannot fit: 100,000 rows grew to 24 GB and was
 * OOM-killed after minutes. 1,024 rows is far past any batch the benchmark's figures need.
 */
export const MAX_BATCH_SIZE = 1024;
const batchSize = posInt.max(MAX_BATCH_SIZE, `at most ${MAX_BATCH_SIZE} rows per request`);

/** An open-loop request rate in requests/s; 'inf' sends every request at once (JSON has no Infinity). */
export const RequestRate = z.union([z.number().positive().finite(), z.literal('inf')]);
export type RequestRate = z.infer<typeof RequestRate>;
export const Arrival = z.enum(['poisson', 'constant']);
export type Arrival = z.infer<typeof Arrival>;
/** Service-level objectives a request must meet every one of to count in goodput (vLLM's --goodput). */
export const Slo = z
  .object({
    ttftMs: z.number().positive().optional().describe('time to first token at most this'),
    tpotMs: z.number().positive().optional().describe('time per output token at most this'),
    e2eMs: z.number().positive().optional().describe('end-to-end latency at most this'),
  })
  .strict();
export type Slo = z.infer<typeof Slo>;

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
    diffusion: Side.prefault({ model: 'twins' }),
    ar: Side.extend({
      engines: z.array(ArEngine).min(1).default([...ArEngine.options]).describe('ar = transformers.js, ar-ort = direct onnxruntime loop, ar-loop = the decode loop inside one onnxruntime call'),
    })
      .strict()
      .prefault({ model: 'twins' }),
    device: Device.default('auto'),
    session: z
      .object({
        intraOpThreads: posInt.optional(),
        interOpThreads: posInt.optional(),
        graphOptimization: z.enum(['disabled', 'basic', 'extended', 'all']).default('all'),
      })
      .strict()
      .prefault({}),
    scenarios: z.array(Scenario).min(1).default([...Scenario.options]),
    prompts: z
      .string()
      .default('default')
      .describe("a built-in prompt set name (configs/prompts/NAME.json) or a path to one; 'default' gives a model with held-out tasks (the twins) its task prompts"),
    chatTemplate: z.boolean().default(true).describe('wrap prompts in each model\'s chat template'),
    warmup: z.number().int().nonnegative().default(1),
    repetitions: posInt.default(3).describe('measured runs per case, at least (sampling.minTimeSec may add more)'),
    sampling: z
      .object({
        minTimeSec: z.number().nonnegative().default(0.5).describe('each case repeats until it has `repetitions` repetitions and at least this much measured time (warmups excluded); 0: exactly `repetitions`'),
        maxRepetitions: posInt.default(200).describe('cap on the repetitions minTimeSec can add (keeps big models practical)'),
        order: z.enum(['interleaved', 'sequential']).default('interleaved').describe("interleaved: the cases of one engine in one scenario take turns, one repetition each per round, rounds in a seeded random order; sequential: case after case"),
        seed: z.number().int().nonnegative().default(0).describe('seed of the interleaved order'),
        maxRelativeSpread: z.number().positive().default(0.1).describe("a case whose tokens/s 95% CI half-width exceeds this fraction of its mean gets a high-variation warning"),
        passes: posInt
          .default(2)
          .describe('passes over the engines, each engine opened once per pass, in alternating order (ABBA: A B, then B A); each pass measures every case with its share of the repetitions and time; claims resample passes, so a slow phase of the machine widens the interval instead of moving the answer'),
      })
      .strict()
      .prefault({}),
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
      .prefault({}),
    throughput: z
      .object({ batchSize: batchSize.default(1), prompts: posInt.default(4).describe('prompts from the set per repetition') })
      .strict()
      .prefault({}),
    batch: z.object({ batchSizes: z.array(batchSize).min(1).default([1, 2, 4]) }).strict().prefault({}),
    context: z
      // To 1024 so that the diffusion step's attention (quadratic in L) is over half of the tiny preset's FLOPs at the
      // longest length: c2 then shows above the linear cost; four lengths leave the quadratic fit a lack-of-fit check.
      .object({ promptLengths: posIntList.default([64, 256, 512, 1024]) })
      .strict()
      .prefault({}),
    steps: z
      .object({
        steps: posIntList.default([8, 16, 32]),
        thresholds: z.array(z.number().gt(0).lte(1)).default([0.9, 0.7]),
        caches: z.array(CacheMode).min(1).default([...CacheMode.options]).describe('KV cache modes swept against steps and thresholds'),
      })
      .strict()
      .prefault({}),
    quality: z
      .object({
        perTask: z.number().int().nonnegative().default(10).describe('held-out items decoded per task for each throughput and steps case of a model with held-out tasks (0: no quality)'),
        tasks: z
          .string()
          .min(1)
          .optional()
          .describe("the task suite every engine is scored on: 'twins' (the twins' held-out tasks), 'gsm8k' (lm-evaluation-harness v0.4.8 gsm8k, 5-shot) or a task file; default: the model's own held-out tasks (the twins), else none"),
        limit: z
          .union([posInt, z.literal('all')])
          .optional()
          .describe("decode the first N items of the suite ('all': every item); default: perTask items of each held-out task, every GSM8K item"),
        batchSize: posInt.default(1).describe('rows per request of the quality decodes (left-padded batches where the engine batches; HTTP rows run concurrently)'),
      })
      .strict()
      .prefault({}),
    http: z
      .object({
        concurrency: posIntList.default([1, 4]),
        requests: posInt.default(16),
        durationSec: z.number().positive().default(60),
        maxErrorRate: z.number().min(0).max(1).default(0.05),
        requestRates: z
          .array(RequestRate)
          .min(1)
          .optional()
          .describe("open-loop request rates (requests/s) swept per served side, as vLLM's benchmark_serving: 'inf' sends every request at once; each level sends `requests` requests within `durationSec`"),
        arrival: Arrival.default('poisson').describe('open-loop arrivals: poisson (exponential gaps, seeded) or constant (equal gaps)'),
        arrivalSeed: z.number().int().nonnegative().default(0).describe('seed of the Poisson arrival times'),
        slo: Slo.optional().describe('latency targets for goodput: requests per second that met every target'),
      })
      .strict()
      .prefault({}),
    telemetry: z.object({ intervalMs: posInt.default(100) }).strict().prefault({}),
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
