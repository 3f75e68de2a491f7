/**
 * Reads a results.json written by any dllm-bench run (or the run folder holding one) for compare, claims and reports.
 * Validation is deliberately shallow: enough that the readers never crash on a foreign or truncated file, loose
 * enough (unknown fields pass through) that a newer writer with extra fields in the same schema version still reads.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { RESULTS_FILE } from './writer.js';
import { SCHEMA_VERSION, type ResultsFile } from './types.js';

// JSON has no Infinity: a one-sample CI (±Infinity) is written as null.
const num = z.number().nullable();

const sampleSchema = z.looseObject({
  latencyMs: z.number(),
  generatedTokens: z.number(),
  usefulTokens: z.number(),
  tokensPerSec: num,
  usefulTokensPerSec: num,
  nfe: z.number(),
  tokensPerForward: num,
  timePerForwardMs: num,
  forwardMs: z.number(),
  ttftMs: num.optional(),
  itlMs: num.optional(),
});

const caseSchema = z.looseObject({
  id: z.string().min(1),
  scenario: z.string(),
  engine: z.string(),
  model: z.string(),
  params: z.looseObject({ batchSize: z.number(), promptTokens: z.number(), genLength: z.number() }),
  conditions: z.looseObject({
    device: z.string(),
    executionProvider: z.string(),
    dtype: z.string(),
    synthetic: z.boolean(),
    handicaps: z.array(z.string()),
  }),
  state: z.enum(['completed', 'errored']),
  error: z.string().optional(),
  samples: z.array(sampleSchema),
  summary: z.record(z.string(), z.looseObject({ n: z.number(), mean: num, ci95: z.tuple([num, num]) })),
  efficiency: z.looseObject({ mfu: num, mbu: num }).optional(),
  telemetry: z.looseObject({ gpuUtilizationPctMean: z.number().optional(), samples: z.number() }).optional(),
});

const scalingSchema = z.looseObject({
  engine: z.string(),
  metric: z.string(),
  exponent: num,
  ci95: z.tuple([num, num]),
  r2: num,
});

const scenarioSchema = z.looseObject({
  kind: z.enum(['throughput', 'batch', 'context', 'steps']),
  state: z.enum(['completed', 'errored', 'aborted']),
  error: z.string().optional(),
  cases: z.array(caseSchema),
  analysis: z.looseObject({
    batchEfficiency: z.array(z.looseObject({ engine: z.string(), batchSize: z.number(), efficiency: num })).optional(),
    scaling: z.array(scalingSchema).optional(),
  }),
});

const resultsSchema = z.looseObject({
  schemaVersion: z.literal(SCHEMA_VERSION),
  runId: z.string(),
  createdAt: z.string(),
  tool: z.looseObject({ name: z.literal('dllm-bench'), version: z.string(), gitSha: z.string().nullable() }),
  environment: z.looseObject({
    executionProvider: z.string(),
    gpus: z.array(z.looseObject({ name: z.string() })),
  }),
  scenarios: z.array(scenarioSchema),
  telemetry: z.looseObject({ state: z.enum(['available', 'unavailable']) }),
  complete: z.boolean(),
  errors: z.array(z.unknown()),
  warnings: z.array(z.looseObject({ code: z.string(), message: z.string() })),
});

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  return `${path || '(top level)'}: ${issue.message}`;
}

/**
 * Checks already-parsed JSON; `label` names the source in the error (a path, or "baseline" in tests).
 * The order of checks gives the most useful reason first: a foreign file says so before any field-level detail.
 */
export function parseResults(value: unknown, label: string): ResultsFile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UserError(`${label}: not a dllm-bench results file (the JSON is not an object)`);
  }
  const v = value as Record<string, unknown>;
  const tool = v.tool as Record<string, unknown> | undefined;
  if (typeof tool !== 'object' || tool === null || tool.name !== 'dllm-bench') {
    const name = typeof tool === 'object' && tool !== null && 'name' in tool ? JSON.stringify(tool.name) : 'missing';
    throw new UserError(`${label}: not a dllm-bench results file (tool.name is ${name})`);
  }
  if (v.schemaVersion !== SCHEMA_VERSION) {
    throw new UserError(
      `${label}: results schemaVersion ${JSON.stringify(v.schemaVersion ?? null)} (written by dllm-bench ${String(tool.version ?? '?')}); this dllm-bench reads schemaVersion ${SCHEMA_VERSION}`,
    );
  }
  const parsed = resultsSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more problems)` : '';
    throw new UserError(`${label}: invalid results file: ${describeIssue(first)}${more}`);
  }
  // The input, not zod's copy: it already holds every field the writer put there.
  return value as ResultsFile;
}

/** results.json, or a run folder that holds one. Any problem is one UserError line (exit code 2) naming the file. */
export function readResultsFile(pathOrDir: string): ResultsFile {
  let file = pathOrDir;
  if (existsSync(pathOrDir) && statSync(pathOrDir).isDirectory()) {
    file = join(pathOrDir, RESULTS_FILE);
    if (!existsSync(file)) throw new UserError(`${pathOrDir}: folder has no ${RESULTS_FILE} (is it a dllm-bench run folder?)`);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'cannot read');
    throw new UserError(`${file}: cannot read results file (${reason})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file}: not JSON (${(err as Error).message.split('\n')[0]})`);
  }
  return parseResults(value, file);
}
