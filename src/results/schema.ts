/**
 * results.json as one zod schema: every TypeScript type of the file is derived from it (src/results/types.ts), the
 * writer checks what it writes against it and the reader validates with it. Units are in the field names. Raw
 * samples are always kept; summaries are derived from them (src/results/summary.ts over src/stats).
 *
 * Objects are strict: a field this version does not know is an error, not something silently dropped. Adding a
 * field is one line here (optional when older files of the same version lack it).
 */
import { z } from 'zod';
import { AttentionKind, DiffusionSampler, EngineKind, HandicapCode, ScenarioKind, Warning } from '../config/kinds.js';
import { Arrival, CacheMode, RequestRate, Slo } from '../config/schema.js';
import { FAMILY_IDS } from '../models/spec.js';
import { CaseQuality } from '../quality/schema.js';
import { CaseTelemetry, Efficiency, GpuInfo, TelemetryStatus } from '../telemetry/schema.js';

export const SCHEMA_VERSION = 4 as const;

/** A 95% confidence interval; null where it is undefined (one sample, a two-point fit), in memory and on disk. */
export const Ci95 = z.tuple([z.number(), z.number()]).nullable();

export const Environment = z.strictObject({
  os: z.string().describe('e.g. "linux 6.1.0 x64"'),
  cpuModel: z.string(),
  cpuCount: z.number().int().nonnegative(),
  totalMemoryBytes: z.number().nonnegative(),
  node: z.string(),
  onnxruntime: z.string(),
  executionProvider: z.string().describe("execution provider the engines ran on ('cpu', 'cuda', 'webgpu', 'http')"),
  gpus: z.array(GpuInfo),
});

export const CaseParams = z.strictObject({
  batchSize: z.number().int().positive(),
  promptTokens: z.number().int().nonnegative(),
  genLength: z.number().int().positive(),
  steps: z.number().int().positive().optional().describe('diffusion only'),
  blockLength: z.number().int().positive().optional().describe('diffusion only'),
  threshold: z.number().nullable().optional().describe('diffusion only: Fast-dLLM confidence threshold, null = fixed steps'),
  cfgScale: z.number().optional().describe('diffusion only'),
  temperature: z.number().optional().describe('diffusion only'),
  remasking: z.enum(['low_confidence', 'random']).optional().describe('diffusion only'),
  cache: CacheMode.optional().describe('diffusion only: Fast-dLLM KV cache mode (absent in older results: none)'),
  concurrency: z.number().int().positive().optional().describe('openai only: closed-loop concurrency'),
  requestRate: RequestRate.optional().describe("openai only: open-loop request rate, requests/s ('inf': all at once)"),
  arrival: Arrival.optional().describe('openai only: open-loop arrival process'),
});

export const CaseConditions = z.strictObject({
  device: z.string(),
  executionProvider: z.string(),
  dtype: z.string(),
  synthetic: z.boolean().describe('seeded random weights: the speed is real, the text is noise'),
  handicaps: z.array(z.string()).describe('disclosed handicaps, e.g. "KV cache copied device->host->device every token (~12 MB/token)"'),
  handicapCodes: z.array(HandicapCode).optional().describe('one typed code per entry of handicaps, same order: what verdicts judge fairness on (v4; migrated from older files)'),
  maxPositions: z.number().int().positive().optional().describe("the model's maximum sequence length (prompt + generated), when known (not over HTTP)"),
  attention: AttentionKind.optional().describe("attention kernel of the engine's graph (local engines)"),
  timingNote: z.string().optional().describe('how per-token times were obtained when not observed token by token (ar-loop)'),
  sampler: DiffusionSampler.optional().describe("diffusion cases: the sampler that decoded (llada: LLaDA's generate.py; dream: Dream's diffusion_generate), chosen by the model's family; absent in older files (llada)"),
});

/**
 * Raw values one repetition's pooled percentiles are taken over (vLLM benchmark_serving / AIPerf definitions):
 * latency per request (one generate call), TTFT and TPOT per answer (batch row or HTTP request), ITL per
 * inter-token gap (every gap of every answer, pooled).
 */
export const SampleValues = z.strictObject({
  latencyMs: z.array(z.number().nonnegative()).describe('wall time of each request, in the order the requests were sent'),
  ttftMs: z.array(z.number()).optional().describe('time to first token of each answer'),
  tpotMs: z.array(z.number()).optional().describe("time per output token of each answer: (last - first token time) / (tokens - 1)"),
  itlMs: z.array(z.number()).optional().describe('every gap between consecutive token (HTTP: chunk) arrivals, all answers pooled'),
});

/**
 * One repetition of one case (warmup runs are never recorded here). Counting rule: a field without a suffix is a
 * mean per request (one generate call; a batch of B rows is one request), so latencyMs - forwardMs is the host's
 * overhead per request; rates are over the whole repetition. HTTP cases have no forward-pass fields (the server's
 * forward passes are invisible).
 */
export const Sample = z.strictObject({
  requests: z.number().int().nonnegative().describe('requests in the repetition (HTTP: completed requests)'),
  latencyMs: z.number().nonnegative().describe('wall time per request (mean)'),
  generatedTokens: z.number().describe('generated positions per request (mean), batch rows summed; prompt tokens never count'),
  usefulTokens: z.number().describe('generated tokens up to the first EOS/EoT per request (mean), batch rows summed'),
  tokensPerSec: z.number().describe('generated tokens of the repetition / its wall time'),
  usefulTokensPerSec: z.number().describe('useful tokens / the time at which each answer was complete'),
  pass: z.number().int().nonnegative().optional().describe('the pass over the engines (sampling.passes: one engine opening each) the repetition was measured in; absent: one pass'),
  nfe: z.number().optional().describe('local engines: forward passes (function evaluations) per request (mean)'),
  tokensPerForward: z.number().optional().describe('local engines: generated tokens / forward passes'),
  timePerForwardMs: z.number().optional().describe('local engines: time inside the runtime per forward pass'),
  forwardMs: z.number().optional().describe('local engines: time inside the runtime (session.run) per request (mean); latencyMs - forwardMs is host overhead'),
  ttftMs: z.number().optional().describe('AR / HTTP: time to first token, mean over answers'),
  tpotMs: z.number().optional().describe("AR / HTTP: time per output token, mean over answers (vLLM's TPOT, AIPerf's ITL)"),
  itlMs: z.number().optional().describe("AR / HTTP: inter-token latency, mean of every gap pooled (vLLM's ITL)"),
  values: SampleValues.describe('raw per-request / per-gap values (pooled percentiles are taken over them)'),
  hostDeviceBytesPerForward: z.number().optional(),
  errors: z.number().int().nonnegative().optional().describe('HTTP: requests that failed in this repetition'),
  requestsPerSec: z.number().optional().describe('HTTP load: completed requests / the repetition\'s wall time'),
  goodputRequestsPerSec: z.number().optional().describe('HTTP load with SLO targets: completed requests that met every target / the wall time (vLLM\'s goodput)'),
});

/** The Sample fields a case summarizes (every per-repetition figure a reader ranks or plots). */
export const MetricName = z.enum(['latencyMs', 'tokensPerSec', 'usefulTokensPerSec', 'nfe', 'tokensPerForward', 'timePerForwardMs', 'ttftMs', 'tpotMs', 'itlMs', 'requestsPerSec', 'goodputRequestsPerSec']);

/** The metrics with raw per-request / per-gap values (Sample.values), pooled over a case's repetitions. */
export const PooledMetricName = z.enum(['latencyMs', 'ttftMs', 'tpotMs', 'itlMs']);

export const Distribution = z.strictObject({
  n: z.number().int().positive(),
  mean: z.number(),
  min: z.number(),
  max: z.number(),
  p50: z.number(),
  p90: z.number(),
  p99: z.number(),
});

/** Per metric, the distribution of the raw values of every measured repetition together (requests, answers, gaps). */
export const PooledSummary = z.partialRecord(PooledMetricName, Distribution);

export const Summary = z.strictObject({
  n: z.number().int().positive(),
  mean: z.number(),
  sd: z.number().nonnegative().describe('sample standard deviation (n - 1); 0 with one sample'),
  min: z.number(),
  max: z.number(),
  p50: z.number(),
  p90: z.number(),
  p99: z.number(),
  ci95: Ci95.describe("95% CI of the mean (Student's t); null with one sample"),
  outliers: z.array(z.number().int().nonnegative()).describe('indices of samples flagged as outliers (|x - median| / MAD > 3.5 scaled)'),
});

/** Per metric, present when every sample of the case has it. */
export const CaseSummary = z.partialRecord(MetricName, Summary);

/**
 * How a case was sampled: repetitions until both the minimum count and the minimum measured time were reached (or
 * the cap), and where each repetition fell in its engine's measurement order (cases of one engine in one scenario
 * take turns, in a seeded random order, so a drift of the machine's speed spreads over all of them).
 */
export const CaseSampling = z.strictObject({
  minRepetitions: z.number().int().positive(),
  minTimeSec: z.number().nonnegative().describe('measured time (warmups excluded) a case runs for at least'),
  maxRepetitions: z.number().int().positive().describe('cap: no more repetitions than this, whatever the time'),
  measuredSec: z.number().nonnegative().describe('wall time of the measured repetitions, summed'),
  stoppedBy: z.enum(['repetitions', 'time', 'cap']).describe('what ended it: the count (time already reached), the time, or the cap'),
  order: z.enum(['interleaved', 'sequential']).describe('interleaved: one repetition per case per round, rounds shuffled (seeded); sequential: case after case'),
  seed: z.number().int().nonnegative().describe('seed of the shuffle'),
  group: z.array(z.string()).describe('ids of the cases measured together with this one (same engine and scenario), in the order their warmups ran'),
  positions: z.array(z.number().int().nonnegative()).describe("0-based place of each repetition in the group's measurement sequence (restarting at each pass)"),
  passes: z.number().int().positive().optional().describe('passes over the engines the repetitions came from (sampling.passes; absent: one); the counts and times above are summed over them'),
});

/** Spread of a case's rate figures: flagged (warning high-variation) when the 95% interval is too wide to quote. */
export const CaseVariation = z.strictObject({
  metric: MetricName.describe('the rate metric with the widest relative interval'),
  relativeHalfWidth: z.number().nonnegative().nullable().describe('95% CI half-width / mean; null with one repetition (no interval)'),
  cv: z.number().nonnegative().nullable().describe('coefficient of variation (sd / mean) of the repetitions; null with one'),
  threshold: z.number().positive().describe('relativeHalfWidth above which the case is flagged'),
  flagged: z.boolean(),
});

/** The same case (engine, model, parameters, prompts) measured in another scenario of the run, and whether the two agree. */
export const SameSettings = z.strictObject({
  caseId: z.string(),
  agree: z.boolean().nullable().describe("tokens/s: the Welch 95% interval of the difference of means contains 0; null when either side has one repetition"),
});

/** What every case records before it is measured: its key, parameters and the engine's conditions. */
const caseHeader = {
  id: z.string().min(1).describe('stable key used by compare, e.g. "throughput/llada/b1/p64/g32/s32/bl32"'),
  scenario: ScenarioKind,
  engine: EngineKind,
  model: z.string().describe('model folder, preset or URL'),
  role: z.enum(['diffusion', 'ar']).optional().describe('which side of the comparison the case belongs to: the side its engine was given on'),
  family: z.enum([...FAMILY_IDS, 'remote']).optional().describe("the model's family (remote: a served model over HTTP) (v4; migrated from older files)"),
  parameters: z.number().int().positive().optional().describe("the model's parameter count, from its model folder (absent over HTTP; older files: estimated from the FLOPs per forward)"),
  params: CaseParams,
  conditions: CaseConditions,
  warmupRuns: z.number().int().nonnegative(),
  sampling: CaseSampling.optional().describe('how the repetitions were taken (absent in older results: a fixed count, case after case)'),
  serverPromptTokens: z.number().nonnegative().optional().describe('HTTP: prompt tokens the server reported (usage.prompt_tokens), mean over requests; params.promptTokens is what was sent (token ids) or asked for'),
  slo: Slo.optional().describe('HTTP load: the latency targets goodputRequestsPerSec was counted against'),
};

export const RequestFailure = z.strictObject({
  code: z.string().describe("'stream-cut', 'protocol', 'malformed-chunk', 'server-error', 'timeout', 'connection', 'http-500', 'http-429', ..."),
  message: z.string().describe('one line, API key removed'),
  repetition: z.number().int().nonnegative().nullable().describe('0-based measured repetition; null for a warmup run'),
});

/** Failed requests of one case: the first MAX_KEPT_FAILURES kept whole, the rest counted. */
export const RequestFailures = z.strictObject({
  count: z.number().int().nonnegative().describe('all failed requests; = kept.length + dropped'),
  kept: z.array(RequestFailure),
  dropped: z.number().int().nonnegative(),
});

/** HTTP engines: every failed request of the case (warmups included), present when any failed. */
const requestFailures = RequestFailures.optional();

export const CompletedCase = z.strictObject({
  ...caseHeader,
  state: z.literal('completed'),
  samples: z.array(Sample).min(1),
  summary: CaseSummary.describe('per metric, over the repetition means (what compare tests)'),
  pooled: PooledSummary.describe('per metric, over every request / answer / gap of the measured repetitions (p50/p90/p99 to quote)'),
  efficiency: Efficiency.optional(),
  telemetry: CaseTelemetry.optional(),
  requestFailures,
  quality: CaseQuality.optional().describe("accuracy on a fixed slice of the model's held-out tasks, decoded with the case's settings outside the timed repetitions (models with a held-out task file: the twins)"),
  variation: CaseVariation.optional().describe('relative spread of the rate figures; flagged cases carry a high-variation warning'),
  sameSettingsAs: z.array(SameSettings).optional().describe('the identical case in other scenarios of this run (claims pool their samples)'),
});

/** A case that failed: the samples measured before the failure are kept. */
export const ErroredCase = z.strictObject({
  ...caseHeader,
  state: z.literal('errored'),
  error: z.string().min(1).describe('one line: the engine error code and message'),
  samples: z.array(Sample),
  summary: CaseSummary,
  pooled: PooledSummary,
  requestFailures,
});

/** Interrupted (Ctrl-C) after `samples.length` repetitions: the samples measured are kept. */
export const AbortedCase = z.strictObject({
  ...caseHeader,
  state: z.literal('aborted'),
  error: z.string().min(1).describe("why it stopped, e.g. 'interrupted'"),
  samples: z.array(Sample),
  summary: CaseSummary,
  pooled: PooledSummary,
  requestFailures,
});

/** A case is a union on its state: readers narrow on `state` before reading what only that state has. */
export const CaseResult = z.discriminatedUnion('state', [CompletedCase, ErroredCase, AbortedCase]);

/** Superseded by CostModelFit: files written before it carry this log-log exponent; no verdict reads it. */
export const ScalingFit = z.strictObject({
  engine: EngineKind,
  metric: z.enum(['timePerForwardMs', 'latencyMs']).describe('the time metric fitted against prompt length'),
  exponent: z.number().describe('k in metric ~ a * promptTokens^k (legacy: fixed costs pull k towards 0, so k cannot separate linear from quadratic)'),
  ci95: Ci95.describe("95% CI of k (Student's t, n - 2 df); null with two points"),
  r2: z.number(),
  points: z.array(z.strictObject({ promptTokens: z.number(), value: z.number() })),
});

/** One coefficient of a least-squares cost model, with its 95% interval (null with no residual degrees of freedom). */
export const Coefficient = z.strictObject({ value: z.number(), ci95: Ci95 });

/**
 * The phases a cost model describes, each with its own length L:
 * - ar-prefill: ttftMs against L = prompt tokens (one causal forward over the prompt);
 * - ar-decode: tpotMs (time per output token after the first, mean over answers) against L = prompt + genLength / 2,
 *   the mean cache length over the decode steps;
 * - diffusion-step: timePerForwardMs against L = prompt + genLength (every step is a forward over the whole sequence);
 * - diffusion-request: a served diffusion side (its steps are invisible over HTTP): latencyMs of a fixed-length
 *   request against L = prompt + genLength.
 */
export const CostPhase = z.enum(['ar-prefill', 'ar-decode', 'diffusion-step', 'diffusion-request']);

/** time = c0 + c1·L + c2·L² by weighted least squares (1 / ȳ(L)²) over every repetition of the context cases (src/results/cost-model.ts). */
export const CostModelFit = z.strictObject({
  engine: EngineKind,
  role: z.enum(['diffusion', 'ar']).optional().describe('the side the fitted cases are on (two served sides share the engine openai)'),
  phase: CostPhase,
  metric: z.enum(['ttftMs', 'tpotMs', 'timePerForwardMs', 'latencyMs']).describe('the sample field fitted'),
  c0Ms: Coefficient.describe('fixed cost per forward / token, ms'),
  c1MsPerToken: Coefficient.describe('linear term, ms per token of L'),
  c2MsPerToken2: Coefficient.describe('quadratic term, ms per token² of L: > 0 is attention-like cost growth'),
  n: z.number().int().positive().describe('points fitted (one per repetition)'),
  distinctLengths: z.number().int().positive(),
  r2: z.number(),
  points: z.array(z.strictObject({ sequenceTokens: z.number(), valueMs: z.number() })).describe('L and the measured time of each repetition'),
});

/**
 * Batch efficiency at one batch size B over the same B prompts: tput(B) / (B * tput(1)), where tput(B) is the
 * throughput of one request of the B prompts as rows and tput(1) that of the same B prompts sent one at a time.
 */
export const BatchEfficiency = z.strictObject({
  engine: EngineKind,
  role: z.enum(['diffusion', 'ar']).optional().describe('the side of the cases (two served sides share the engine openai)'),
  batchSize: z.number().int().positive(),
  efficiency: z.number().describe('1 = perfect scaling, 1/B = no gain from batching'),
  ci95: Ci95.describe('95% percentile-bootstrap interval over the repetitions of both cases (seeded); null with one repetition each'),
  tokensPerSec: z.number().describe('tput(B): mean tokens/s of the B-row case'),
  tokensPerSecB1: z.number().describe('tput(1): tokens/s of the same B prompts one at a time (mean over repetitions)'),
});

/** Prompt length per side of a scenario (the server's count for a served side when it reported one). */
export const PromptParity = z.strictObject({
  diffusionPromptTokens: z.number().nullable().describe('mean over the diffusion side\'s completed cases; null when none'),
  arPromptTokens: z.number().nullable().describe('mean over the AR side\'s completed cases; null when none'),
  differenceTokens: z.number().nullable().describe('AR - diffusion; claims refuse a ratio when |difference| exceeds a few tokens unless told otherwise'),
});

export const ScenarioAnalysis = z.strictObject({
  promptParity: PromptParity.optional().describe('throughput, batch and steps: the prompt length each side saw (same work on both sides)'),
  batchEfficiency: z.array(BatchEfficiency).optional().describe('batch scenario: per engine and batch size, over the same prompts'),
  costModels: z.array(CostModelFit).optional().describe('context scenario: c0 + c1·L + c2·L² per engine and phase'),
  scaling: z.array(ScalingFit).optional().describe('legacy (older files): log-log fit of a time metric against prompt length'),
});

export const ScenarioResult = z.strictObject({
  kind: ScenarioKind,
  state: z.enum(['completed', 'errored', 'aborted']),
  error: z.string().optional().describe("set when state is 'errored' or 'aborted'"),
  startedAt: z.string(),
  finishedAt: z.string(),
  cases: z.array(CaseResult),
  analysis: ScenarioAnalysis.describe('scenario-level derived figures (batch efficiency, context cost models)'),
});

export const RunError = z.strictObject({
  scenario: ScenarioKind.optional(),
  caseId: z.string().optional(),
  message: z.string(),
});

/**
 * One engine's stay in memory during a run: engines are opened one at a time, in this order, each when its first case
 * starts and closed (worker ended, sessions released) before the next opens. Memory and load time are measured here.
 */
export const EngineRun = z.strictObject({
  order: z.number().int().nonnegative().describe('0-based position in the run: the order engines were opened'),
  pass: z.number().int().nonnegative().optional().describe('the pass of this opening (sampling.passes: each engine is opened once per pass, in alternating order)'),
  role: z.enum(['diffusion', 'ar']).describe('which side of the comparison the engine belongs to'),
  engine: EngineKind,
  model: z.string(),
  state: z.enum(['completed', 'errored', 'aborted', 'skipped']).describe("'skipped': the memory plan refused every case of the engine; 'errored': it failed to open"),
  reason: z.string().optional().describe('one line: why it errored or was skipped'),
  openedAt: z.string().nullable().describe('ISO 8601; null when it never opened'),
  closedAt: z.string().nullable(),
  loadMs: z.number().nullable().describe('session creation: from starting the engine (worker thread, every onnxruntime session) to ready'),
  rssPeakBytes: z.number().nullable().describe("the process's peak RSS while the engine was open (VmHWM when it rose meanwhile, else RSS sampled every 100 ms); null off Linux"),
  rssBeforeBytes: z.number().nullable().describe('RSS just before the engine opened (the baseline the engine adds to)'),
  gpuMemoryPeakBytes: z.number().nullable().describe("this process's peak GPU memory while the engine was open (nvidia-smi --query-compute-apps); null without nvidia-smi samples"),
  plannedBytes: z.number().nullable().optional().describe("the memory plan's estimate for the engine's largest case (weights + KV cache + activations)"),
});

/** A case the memory plan refused before loading anything: not measured, so readers treat it as missing. */
export const SkippedCase = z.strictObject({
  id: z.string().min(1).describe('the id the case would have had'),
  scenario: ScenarioKind,
  engine: EngineKind,
  model: z.string(),
  reason: z.string().min(1).describe('one line: what it needs against what is free'),
});

/** The memory plan made before any model loaded (src/run/plan.ts). */
export const MemoryPlanSummary = z.strictObject({
  device: z.enum(['cpu', 'cuda']),
  freeBytes: z.number().nullable().describe('the budget: CPU MemAvailable, nvidia-smi memory.free, or --cpu-memory / --gpu-memory; null: not planned (no figure)'),
  source: z.string().describe('where freeBytes came from'),
  verdict: z.enum(['pair', 'one-at-a-time', 'does-not-fit']),
  pairBytes: z.number().describe("estimate: both sides' largest cases resident at once"),
});

export const ResultsFile = z.strictObject({
  schemaVersion: z.literal(SCHEMA_VERSION),
  runId: z.string().min(1),
  createdAt: z.string().describe('ISO 8601'),
  tool: z.strictObject({ name: z.literal('dllm-bench'), version: z.string(), gitSha: z.string().nullable() }),
  environment: Environment,
  config: z.record(z.string(), z.unknown()).describe('the resolved configuration the run used (after flags override the file)'),
  scenarios: z.array(ScenarioResult),
  telemetry: TelemetryStatus.describe('whole-run telemetry; per-case figures are in each case\'s telemetry'),
  complete: z.boolean().describe('false when the run was interrupted (Ctrl-C) or a scenario failed before all were run'),
  errors: z.array(RunError),
  warnings: z.array(Warning),
  memoryPlan: MemoryPlanSummary.optional().describe('the memory plan made before any model loaded'),
  skippedCases: z.array(SkippedCase).optional().describe('cases the memory plan refused (not measured: report, compare and claims treat them as missing)'),
  engines: z.array(EngineRun).optional().describe('the engines in the order they were opened, one resident at a time, with memory and load time (files before it: absent)'),
});
