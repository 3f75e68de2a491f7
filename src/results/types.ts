/**
 * results.json: the one result type every exporter, the regression gate and the claims checker read.
 * Units are in the field names. Raw samples are always kept; summaries are derived from them by src/stats.
 */
import type { EngineKind } from '../engines/types.js';

export const SCHEMA_VERSION = 1 as const;

export interface ResultsFile {
  schemaVersion: typeof SCHEMA_VERSION;
  runId: string;
  /** ISO 8601. */
  createdAt: string;
  tool: { name: 'dllm-bench'; version: string; gitSha: string | null };
  environment: Environment;
  /** The resolved configuration the run used (after flags override the file). */
  config: unknown;
  scenarios: ScenarioResult[];
  /** Whole-run telemetry; per-case figures are in CaseResult.telemetry. */
  telemetry: TelemetryStatus;
  /** False when the run was interrupted (Ctrl-C) or a scenario failed before all were run. */
  complete: boolean;
  errors: RunError[];
  warnings: Warning[];
}

export interface Environment {
  os: string; // e.g. "linux 6.1.0 x64"
  cpuModel: string;
  cpuCount: number;
  totalMemoryBytes: number;
  node: string;
  onnxruntime: string;
  /** Execution provider the engines ran on ('cpu', 'cuda', 'webgpu'). */
  executionProvider: string;
  gpus: GpuInfo[];
}

export interface GpuInfo {
  index: number;
  name: string;
  driver: string | null;
  memoryTotalBytes: number | null;
}

export type ScenarioKind = 'throughput' | 'batch' | 'context' | 'steps';

export interface ScenarioResult {
  kind: ScenarioKind;
  state: 'completed' | 'errored' | 'aborted';
  /** Set when state is 'errored' or 'aborted'. */
  error?: string;
  startedAt: string;
  finishedAt: string;
  cases: CaseResult[];
  /** Scenario-level derived figures (batch efficiency, scaling fits). */
  analysis: ScenarioAnalysis;
}

export interface ScenarioAnalysis {
  /** batch scenario: per engine and batch size, tput(B) / (B * tput(1)). */
  batchEfficiency?: { engine: EngineKind; batchSize: number; efficiency: number }[];
  /** context scenario: log-log fit of a time metric against prompt length, per engine. */
  scaling?: ScalingFit[];
}

export interface ScalingFit {
  engine: EngineKind;
  /** The metric fitted, e.g. 'timePerForwardMs' or 'msPerToken'. */
  metric: string;
  /** Fitted exponent k in metric ~ a * promptTokens^k. ~1 = linear, ~2 = quadratic. */
  exponent: number;
  ci95: [number, number];
  r2: number;
  points: { promptTokens: number; value: number }[];
}

export interface CaseParams {
  batchSize: number;
  promptTokens: number;
  genLength: number;
  /** diffusion only */
  steps?: number;
  blockLength?: number;
  threshold?: number | null;
  cfgScale?: number;
  temperature?: number;
  remasking?: 'low_confidence' | 'random';
  /** Fast-dLLM KV cache mode (absent in older results: none). */
  cache?: 'none' | 'prefix' | 'dual';
  /** openai only */
  concurrency?: number;
}

export interface CaseConditions {
  device: string;
  executionProvider: string;
  dtype: string;
  synthetic: boolean;
  /** Disclosed handicaps, e.g. "KV cache copied device->host->device every token (~12 MB/token)". */
  handicaps: string[];
  /** The model's maximum sequence length (prompt + generated), when known (not over HTTP). */
  maxPositions?: number;
}

/** One repetition of one case (warmup runs are never recorded here). */
export interface Sample {
  latencyMs: number;
  /** Generated positions, summed over batch rows (prompt tokens never count). */
  generatedTokens: number;
  /** Generated tokens up to the first EOS/EoT, summed over rows. */
  usefulTokens: number;
  tokensPerSec: number;
  usefulTokensPerSec: number;
  /** Forward passes (function evaluations) per generation: mean over the repetition's requests. */
  nfe: number;
  tokensPerForward: number;
  timePerForwardMs: number;
  /** Time inside the runtime (session.run); latencyMs - forwardMs is host overhead. */
  forwardMs: number;
  /** AR / HTTP: time to first token (mean over rows). */
  ttftMs?: number;
  /** AR / HTTP: mean inter-token latency. */
  itlMs?: number;
  hostDeviceBytesPerForward?: number;
  /** HTTP: requests that failed in this repetition. */
  errors?: number;
}

export interface Summary {
  n: number;
  mean: number;
  sd: number;
  min: number;
  max: number;
  p50: number;
  p90: number;
  p99: number;
  ci95: [number, number];
  /** Indices of samples flagged as outliers (|x - median| / MAD > 3.5 scaled). */
  outliers: number[];
}

/** Metric names that CaseResult.summary may hold (every numeric Sample field). */
export type MetricName =
  | 'latencyMs'
  | 'tokensPerSec'
  | 'usefulTokensPerSec'
  | 'nfe'
  | 'tokensPerForward'
  | 'timePerForwardMs'
  | 'ttftMs'
  | 'itlMs';

export interface CaseResult {
  /** Stable key used by compare, e.g. "throughput/llada/b1/p64/g32/s32/bl32". */
  id: string;
  scenario: ScenarioKind;
  engine: EngineKind;
  /** Model folder, preset or URL. */
  model: string;
  params: CaseParams;
  conditions: CaseConditions;
  state: 'completed' | 'errored';
  error?: string;
  warmupRuns: number;
  samples: Sample[];
  summary: Partial<Record<MetricName, Summary>>;
  /** Hardware efficiency from the architecture and measured time. */
  efficiency?: Efficiency;
  telemetry?: CaseTelemetry;
}

export interface Efficiency {
  flopsPerForward: number;
  bytesPerForward: number;
  /** Model FLOPs utilization, 0..1, against the device peak for the dtype. null when the peak is unknown. */
  mfu: number | null;
  /** Memory-bandwidth utilization, 0..1. */
  mbu: number | null;
  /** Which peak table entry was used, e.g. "NVIDIA H100 80GB HBM3 (SXM) fp16 dense". */
  peakSource: string | null;
}

export interface CaseTelemetry {
  gpuUtilizationPctMean?: number;
  gpuUtilizationPctP95?: number;
  gpuMemoryPeakBytes?: number;
  gpuPowerWattsMean?: number;
  energyJoulesPerToken?: number;
  cpuUtilizationPctMean?: number;
  rssPeakBytes?: number;
  samples: number;
}

export type TelemetryStatus =
  | { state: 'available'; source: 'nvidia-smi' | 'process'; sampleIntervalMs: number; samples: number }
  | { state: 'unavailable'; reason: string };

export interface RunError {
  scenario?: ScenarioKind;
  caseId?: string;
  message: string;
}

export interface Warning {
  code: string;
  message: string;
}
