/**
 * The results.json types, each derived from its zod schema in src/results/schema.ts (the one definition; field
 * documentation lives there, on the schema).
 */
import type { z } from 'zod';
import type * as S from './schema.js';

export { SCHEMA_VERSION } from './schema.js';
export type { EngineKind, ScenarioKind, Warning, WarningCode } from '../config/kinds.js';
export type { CaseTelemetry, Efficiency, GpuInfo, TelemetryStatus } from '../telemetry/schema.js';

export type ResultsFile = z.infer<typeof S.ResultsFile>;
export type Environment = z.infer<typeof S.Environment>;
export type ScenarioResult = z.infer<typeof S.ScenarioResult>;
export type ScenarioAnalysis = z.infer<typeof S.ScenarioAnalysis>;
export type ScalingFit = z.infer<typeof S.ScalingFit>;
export type CostModelFit = z.infer<typeof S.CostModelFit>;
export type CostPhase = z.infer<typeof S.CostPhase>;
export type Coefficient = z.infer<typeof S.Coefficient>;
export type CaseParams = z.infer<typeof S.CaseParams>;
export type CaseConditions = z.infer<typeof S.CaseConditions>;
export type Sample = z.infer<typeof S.Sample>;
export type MetricName = z.infer<typeof S.MetricName>;
export type Summary = z.infer<typeof S.Summary>;
export type Ci95 = z.infer<typeof S.Ci95>;
export type CaseSummary = z.infer<typeof S.CaseSummary>;
export type CompletedCase = z.infer<typeof S.CompletedCase>;
export type ErroredCase = z.infer<typeof S.ErroredCase>;
export type AbortedCase = z.infer<typeof S.AbortedCase>;
export type CaseResult = z.infer<typeof S.CaseResult>;
/** What a case records before it is measured (every state has it). */
export type CaseHeader = Omit<CaseResult, 'state' | 'samples' | 'summary' | 'pooled' | 'requestFailures'>;
export type RequestFailure = z.infer<typeof S.RequestFailure>;
export type RequestFailures = z.infer<typeof S.RequestFailures>;
export type RunError = z.infer<typeof S.RunError>;
export type EngineRun = z.infer<typeof S.EngineRun>;
export type SkippedCase = z.infer<typeof S.SkippedCase>;
export type MemoryPlanSummary = z.infer<typeof S.MemoryPlanSummary>;
export type SampleValues = z.infer<typeof S.SampleValues>;
export type PooledMetricName = z.infer<typeof S.PooledMetricName>;
export type Distribution = z.infer<typeof S.Distribution>;
export type PooledSummary = z.infer<typeof S.PooledSummary>;
export type BatchEfficiency = z.infer<typeof S.BatchEfficiency>;
export type CaseSampling = z.infer<typeof S.CaseSampling>;
export type CaseVariation = z.infer<typeof S.CaseVariation>;
export type SameSettings = z.infer<typeof S.SameSettings>;
export type PromptParity = z.infer<typeof S.PromptParity>;
