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
 * v3 -> v4: cases record what readers used to reconstruct: `role` (diffusion / ar: the engine kind, or for HTTP
 * cases the side the case id names), `family` (llada, llama, remote), `parameters` (v3 recorded none: estimated from
 * the FLOPs per forward, ~2 per parameter per position, when an efficiency block exists) and `conditions.handicapCodes`
 * (v3 had only the prose: each entry is classified by the wording v3 wrote). Reconstruction lives here, once, for
 * old files; readers of v4 read the recorded fields.
 *
 * The context analysis of v1 (and early v2) files is the log-log `scaling` fit, kept as a legacy field; readers
 * compute the cost models those files lack from their cases (src/results/cost-model.ts), so nothing is migrated.
 */
import type { HandicapCode } from '../config/kinds.js';
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

/** A v3 handicap's code, from the wording v3 wrote (src/engines: ar-common, ar-loop, attention-parity, openai). */
export function handicapCodeV3(text: string): HandicapCode {
  if (/crosses the bus once/.test(text)) return 'prompt-cache-once';
  if (/left-padded batches/.test(text)) return 'gqa-padding';
  if (/^attention unfused/.test(text)) return 'attention-unfused';
  if (/measured over HTTP/.test(text)) return 'over-http';
  if (/KV cache copied/.test(text)) return 'kv-round-trip';
  return 'attention-unknown';
}

const AR_KINDS = ['ar', 'ar-ort', 'ar-loop'];

/** A v3 case's parameter count, estimated from its recorded FLOPs per forward; undefined without them. */
export function parametersV3(c: Record<string, unknown>): number | undefined {
  const p = isRecord(c.params) ? c.params : {};
  const e = isRecord(c.efficiency) ? c.efficiency : {};
  const batch = num(p.batchSize) ?? 1;
  const decode = isRecord(e.decode) ? num(e.decode.flopsPerForward) : undefined;
  // An AR decode step is one position per row: ~2 FLOPs per parameter (plus attention over the cache).
  let est: number | undefined;
  if (AR_KINDS.includes(String(c.engine)) && decode && decode > 0) est = decode / (2 * batch);
  else {
    const flops = num(e.flopsPerForward);
    if (!flops) return undefined;
    const prompt = num(p.promptTokens) ?? 0;
    const gen = num(p.genLength) ?? 0;
    const nfes = records(c.samples).map((s) => num(s.nfe)).filter((x): x is number => x !== undefined);
    const nfe = nfes.length ? nfes.reduce((a, b) => a + b, 0) / nfes.length : 0;
    // LLaDA's forwards each cover prompt + answer (twice the rows with CFG); AR's are one prefill and nfe - 1 single-token steps.
    const positions = c.engine === 'llada' ? (num(p.cfgScale) ? 2 : 1) * (prompt + gen) : nfe > 0 ? (prompt + nfe - 1) / nfe : prompt;
    if (!(positions > 0)) return undefined;
    est = flops / (2 * batch * positions);
  }
  return est >= 1 ? Math.round(est) : undefined;
}

/** What a v3 case lacks, reconstructed: role, family, parameters (when estimable) and handicap codes. */
export function recordedFieldsV3(c: Record<string, unknown>): { role: 'diffusion' | 'ar'; family: 'llada' | 'llama' | 'remote'; parameters?: number; handicapCodes: HandicapCode[] } {
  const engine = String(c.engine);
  const role = engine === 'openai' ? (typeof c.id === 'string' && c.id.split('/')[1] === 'openai-diffusion' ? 'diffusion' : 'ar') : engine === 'llada' ? 'diffusion' : 'ar';
  const parameters = parametersV3(c);
  const handicaps = isRecord(c.conditions) && Array.isArray(c.conditions.handicaps) ? c.conditions.handicaps : [];
  return { role, family: engine === 'openai' ? 'remote' : engine === 'llada' ? 'llada' : 'llama', ...(parameters ? { parameters } : {}), handicapCodes: handicaps.map((h) => handicapCodeV3(String(h))) };
}

export function migrateV3toV4(file: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(file);
  out.schemaVersion = 4;
  for (const scenario of records(out.scenarios)) {
    for (const c of records(scenario.cases)) {
      const { handicapCodes, ...header } = recordedFieldsV3(c);
      Object.assign(c, header);
      if (isRecord(c.conditions)) c.conditions.handicapCodes = handicapCodes;
    }
  }
  return out;
}

/** Schema versions this reader can bring up to date, each with the step to the next version. */
export const MIGRATIONS: Readonly<Record<number, (file: Record<string, unknown>) => Record<string, unknown>>> = {
  1: migrateV1toV2,
  2: migrateV2toV3,
  3: migrateV3toV4,
};
