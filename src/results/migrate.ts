/**
 * Older results files, brought to the current schema before validation. Only what changed is touched; the
 * migrated value is then validated like any current file.
 *
 * v1 -> v2: a confidence interval that was ±Infinity in memory was written by JSON.stringify as [null, null];
 * v2 stores an undefined interval as null (case summaries and scaling fits). Nothing else changed shape.
 *
 * v2 -> v3: sample fields are per request or named as sums. v2's generatedTokens, usefulTokens and forwardMs were
 * sums over the repetition; v3 divides them by the repetition's request count, recovered as
 * forwardMs / timePerForwardMs / nfe (HTTP: v2 put the request count in nfe). v2's itlMs was per answer
 * ((last - first) / (n - 1)): it is v3's tpotMs; v2 kept no gaps, so v3's itlMs and the pooled distributions of
 * TTFT/TPOT/ITL are absent (latency's raw values are v2's per-repetition means). HTTP samples lose the forward-pass
 * fields v2 filled with request figures. cpuUtilizationPctMean is renamed cpuUtilizationPctOfOneCore. Batch
 * efficiency compared B=1 on another prompt, and efficiency blocks used another MBU: neither has a mapping, so
 * both are dropped. A sample whose request count cannot be recovered is refused in one line.
 *
 * The context analysis of v1 (and early v2) files is the log-log `scaling` fit, kept as a legacy field; readers
 * compute the cost models those files lack from their cases (src/results/cost-model.ts), so nothing is migrated.
 */
import { summarizeCase } from './summary.js';
import type { Sample } from './types.js';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const records = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter(isRecord) : []);

/** [a, b] with a null (or missing) bound -> null; anything else is left for validation to judge. */
function ciV1toV2(ci: unknown): unknown {
  return Array.isArray(ci) && ci.length === 2 && ci.some((x) => x === null || x === undefined) ? null : ci;
}

export function migrateV1toV2(file: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(file);
  out.schemaVersion = 2;
  for (const scenario of records(out.scenarios)) {
    for (const c of records(scenario.cases)) {
      if (!isRecord(c.summary)) continue;
      for (const s of Object.values(c.summary)) if (isRecord(s) && 'ci95' in s) s.ci95 = ciV1toV2(s.ci95);
    }
    const analysis = scenario.analysis;
    if (isRecord(analysis)) for (const fit of records(analysis.scaling)) if ('ci95' in fit) fit.ci95 = ciV1toV2(fit.ci95);
  }
  return out;
}

/** Thrown (caught by the reader, which names the file) when a v2 sample has no mapping to v3. */
export class MigrationError extends Error {}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function sampleV2toV3(s: Record<string, unknown>, http: boolean, where: string): Record<string, unknown> {
  const nfe = num(s.nfe);
  const tpf = num(s.timePerForwardMs);
  const fwd = num(s.forwardMs);
  const requests = http ? nfe : nfe && tpf && fwd !== undefined ? Math.round(fwd / tpf / nfe) : undefined;
  if (requests === undefined || !Number.isInteger(requests) || requests < (http ? 0 : 1)) {
    throw new MigrationError(`${where}: the v2 sample's request count cannot be recovered (forwardMs / timePerForwardMs / nfe)`);
  }
  const per = (v: unknown) => (requests > 0 && num(v) !== undefined ? num(v)! / requests : 0);
  const out: Record<string, unknown> = {
    requests,
    latencyMs: s.latencyMs,
    generatedTokens: per(s.generatedTokens),
    usefulTokens: per(s.usefulTokens),
    tokensPerSec: s.tokensPerSec,
    usefulTokensPerSec: s.usefulTokensPerSec,
  };
  if (!http) Object.assign(out, { nfe, tokensPerForward: s.tokensPerForward, timePerForwardMs: tpf, forwardMs: per(fwd) });
  if (s.ttftMs !== undefined) out.ttftMs = s.ttftMs;
  if (s.itlMs !== undefined) out.tpotMs = s.itlMs;
  out.values = { latencyMs: num(s.latencyMs) !== undefined ? [s.latencyMs] : [] };
  if (s.hostDeviceBytesPerForward !== undefined) out.hostDeviceBytesPerForward = s.hostDeviceBytesPerForward;
  if (s.errors !== undefined) out.errors = s.errors;
  return out;
}

/** Case summaries are recomputed from the migrated samples, as v3's writer derives them (src/results/summary.ts). */
export function migrateV2toV3(file: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(file);
  out.schemaVersion = 3;
  for (const scenario of records(out.scenarios)) {
    for (const c of records(scenario.cases)) {
      const http = c.engine === 'openai';
      const samples = records(c.samples).map((s, i) => sampleV2toV3(s, http, `case ${String(c.id)} sample ${i}`));
      c.samples = samples;
      Object.assign(c, summarizeCase(samples as Sample[]));
      delete c.efficiency;
      if (isRecord(c.telemetry) && 'cpuUtilizationPctMean' in c.telemetry) {
        c.telemetry.cpuUtilizationPctOfOneCore = c.telemetry.cpuUtilizationPctMean;
        delete c.telemetry.cpuUtilizationPctMean;
      }
    }
    if (isRecord(scenario.analysis)) delete scenario.analysis.batchEfficiency;
  }
  return out;
}

/** Schema versions this reader can bring up to date, each with the step to the next version. */
export const MIGRATIONS: Readonly<Record<number, (file: Record<string, unknown>) => Record<string, unknown>>> = {
  1: migrateV1toV2,
  2: migrateV2toV3,
};
