import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrateV1toV2 } from '../../src/results/migrate.js';
import { parseResults, readResultsFile } from '../../src/results/read.js';
import { MetricName, Sample } from '../../src/results/schema.js';
import { summarizeMetric } from '../../src/results/summary.js';
import { SCHEMA_VERSION, type ResultsFile } from '../../src/results/types.js';
import { writeResultsAtomic } from '../../src/results/writer.js';
import { summarize } from '../../src/stats/index.js';
import { UserError } from '../../src/util/errors.js';
import { buildCase, buildResults, h100Environment } from '../fixtures/results/builder.js';

/** A results.json written by dllm-bench 0.1.0 (schemaVersion 1, commit 86efa2d): a run whose llada worker crashed. */
const V1_FIXTURE = join(import.meta.dirname, '../fixtures/results/v1-crash.json');
const v1 = (): Record<string, any> => JSON.parse(readFileSync(V1_FIXTURE, 'utf8'));
/** The v1 fixture brought to v2 (what dllm-bench wrote before per-request fields). */
const v2 = (): Record<string, any> => migrateV1toV2(v1());
const tmp = () => mkdtempSync(join(tmpdir(), 'dllm-results-'));

function userError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UserError) return err;
    throw err;
  }
  throw new Error('expected a UserError');
}

/** Every state and optional part the schema knows: completed, errored with partial samples, one sample, fits, telemetry. */
function richRun(): ResultsFile {
  const errored = { ...buildCase({ engine: 'ar', seed: 4 }), state: 'errored' as const, error: 'runtime: engine worker exited unexpectedly (code 70)' };
  return buildResults({
    environment: h100Environment(),
    cases: [
      buildCase({ engine: 'llada', tokensPerSec: [123.4], efficiency: { mfuInRun: 0.31, mbuInRun: 0.52, peakSource: 'NVIDIA H100 80GB HBM3 (SXM) fp16 dense' }, telemetry: { gpuUtilizationPctMean: 93, rssPeakBytes: 5e8 } }),
      errored,
      {
        ...buildCase({ engine: 'openai', state: 'aborted', tokensPerSec: [40, 42], params: { concurrency: 4 } }),
        requestFailures: { count: 51, kept: [{ code: 'http-500', message: 'HTTP 500 Internal Server Error', repetition: 0 }, { code: 'stream-cut', message: 'stream closed before finish_reason', repetition: null }], dropped: 49 },
      },
      buildCase({ scenario: 'context', engine: 'ar-ort', params: { promptTokens: 256 } }),
    ],
    analysis: {
      batch: { batchEfficiency: [{ engine: 'llada', batchSize: 2, efficiency: 0.9, ci95: null, tokensPerSec: 1, tokensPerSecB1: 1 }] },
      context: {
        scaling: [
          { engine: 'ar-ort', metric: 'latencyMs', exponent: 1.01, ci95: null, r2: 1, points: [{ promptTokens: 256, value: 10 }, { promptTokens: 512, value: 20 }] },
          { engine: 'llada', metric: 'timePerForwardMs', exponent: 1.4, ci95: [1.2, 1.6], r2: 0.99, points: [{ promptTokens: 256, value: 1 }, { promptTokens: 512, value: 2.6 }, { promptTokens: 1024, value: 7 }] },
        ],
      },
    },
    telemetry: { state: 'available', source: 'nvidia-smi', sampleIntervalMs: 100, samples: 250 },
    warnings: [{ code: 'context-too-long', message: 'context 4096 + gen 32 exceeds llada maximum length 4096: skipped for llada' }],
    complete: false,
  });
}

describe('results schema', () => {
  it('every summarized metric is a numeric Sample field', () => {
    for (const m of MetricName.options) expect(Sample.shape[m].safeParse(1.5).success).toBe(true);
  });

  it('a one-sample summary has a null CI in memory (stats alone says ±Infinity)', () => {
    expect(summarize([5]).ci95).toEqual([-Infinity, Infinity]);
    expect(summarizeMetric([5]).ci95).toBeNull();
    const two = summarizeMetric([4, 6]);
    expect(two.ci95).toEqual(summarize([4, 6]).ci95);
    expect(two.ci95![0]).toBeLessThan(4);
  });
});

describe('write -> read', () => {
  it('a file written by the writer reads back unchanged, and rewrites to the same bytes', () => {
    const r = richRun();
    const dir = tmp();
    const file = writeResultsAtomic(dir, r);
    const text = readFileSync(file, 'utf8');
    const back = readResultsFile(dir);
    expect(back).toEqual(r);
    expect(back.scenarios[0]!.cases[0]!.summary.tokensPerSec!.ci95).toBeNull();
    const again = tmp();
    writeResultsAtomic(again, back);
    expect(readFileSync(join(again, 'results.json'), 'utf8')).toBe(text);
  });

  it('the writer refuses an object the reader would refuse, naming the path, and keeps the previous file', () => {
    const dir = tmp();
    const r = richRun();
    writeResultsAtomic(dir, r);
    const before = readFileSync(join(dir, 'results.json'), 'utf8');
    const bad = richRun();
    // What src/stats returns for one sample: no interval as ±Infinity, which JSON cannot hold.
    bad.scenarios[0]!.cases[0]!.summary.tokensPerSec!.ci95 = summarize([1]).ci95 as [number, number];
    expect(() => writeResultsAtomic(dir, bad)).toThrow(/^results\.json not written, it would not be valid: scenarios\[0\]\.cases\[0\]\.summary\.tokensPerSec\.ci95\[0\]: /);
    expect(readFileSync(join(dir, 'results.json'), 'utf8')).toBe(before);
  });
});

describe('schemaVersion 1 files', () => {
  it('a v1 file written by dllm-bench 0.1.0 is migrated: same cases, same figures, per-request fields', () => {
    const raw = v1();
    const r = readResultsFile(V1_FIXTURE);
    expect(raw.schemaVersion).toBe(1);
    expect(r.schemaVersion).toBe(SCHEMA_VERSION);
    expect(r.runId).toBe(raw.runId);
    expect(r.scenarios.map((s) => s.cases.map((c) => [c.id, c.state]))).toEqual(raw.scenarios.map((s: any) => s.cases.map((c: any) => [c.id, c.state])));
    const ar = r.scenarios[0]!.cases.find((c) => c.engine === 'ar')!;
    const rawAr = raw.scenarios[0].cases.find((c: any) => c.engine === 'ar');
    // v2 summed generatedTokens, usefulTokens and forwardMs over the repetition; v3 gives them per request, the
    // request count recovered as forwardMs / timePerForwardMs / nfe. v2's itlMs was per answer: v3's tpotMs.
    ar.samples.forEach((s, i) => {
      const v = rawAr.samples[i];
      const requests = Math.round(v.forwardMs / v.timePerForwardMs / v.nfe);
      expect(requests).toBeGreaterThan(1);
      expect(s).toMatchObject({ requests, latencyMs: v.latencyMs, tokensPerSec: v.tokensPerSec, nfe: v.nfe, tpotMs: v.itlMs, ttftMs: v.ttftMs, values: { latencyMs: [v.latencyMs] } });
      expect(s.generatedTokens).toBeCloseTo(v.generatedTokens / requests, 9);
      expect(s.forwardMs).toBeCloseTo(v.forwardMs / requests, 9);
      expect(s.itlMs).toBeUndefined();
      expect(s.latencyMs - s.forwardMs!).toBeGreaterThanOrEqual(0);
    });
    // Summaries are recomputed from the migrated samples: the same figures, under the new names.
    const same = (a: any, b: any) => expect([a.n, a.mean, a.sd, a.p50]).toEqual([b.n, b.mean, b.sd, b.p50]);
    same(ar.summary.tokensPerSec, rawAr.summary.tokensPerSec);
    same(ar.summary.tpotMs, rawAr.summary.itlMs);
    const errored = r.scenarios[0]!.cases.find((c) => c.state === 'errored');
    expect(errored?.state === 'errored' && errored.error).toBe('runtime: engine worker exited unexpectedly (code 70)');
  });

  it('a v1 one-sample interval ([null, null] on disk) and a two-point fit become null', () => {
    const raw = v1();
    const c = raw.scenarios[0].cases.find((x: any) => x.engine === 'ar');
    c.samples = c.samples.slice(0, 1);
    for (const s of Object.values(c.summary) as any[]) s.ci95 = [null, null];
    raw.scenarios[1].analysis.scaling = [{ engine: 'ar', metric: 'latencyMs', exponent: 1, ci95: [null, null], r2: 1, points: [] }];
    const r = parseResults(raw, 'v1.json');
    const back = r.scenarios[0]!.cases.find((x) => x.engine === 'ar')!;
    expect(Object.values(back.summary).map((s) => s.ci95)).toEqual(Object.keys(c.summary).map(() => null));
    expect(r.scenarios[1]!.analysis.scaling![0]!.ci95).toBeNull();
    // The migration works on a copy: the caller's value is untouched.
    expect(raw.schemaVersion).toBe(1);
  });

  it('what v1 allowed and v2 cannot hold is refused in one line that says the file was migrated', () => {
    const raw = v1();
    raw.scenarios[1].cases[1].samples[0].tokensPerSec = null;
    const e = userError(() => parseResults(raw, 'old.json'));
    expect(e.message).toBe('old.json: invalid results file (migrated from schemaVersion 1): scenarios[1].cases[1].samples[0].tokensPerSec: Invalid input: expected number, received null');
  });

  it.each([
    [0, /^v\.json: results schemaVersion 0 \(written by dllm-bench 0\.1\.0\); this dllm-bench reads schemaVersion 1, 2, 3 and 4; re-run the benchmark with this version$/],
    ['1', /^v\.json: results schemaVersion "1" .*re-run the benchmark with this version$/],
    [undefined, /^v\.json: results schemaVersion null /],
    [5, /^v\.json: results schemaVersion 5 .*use the dllm-bench version that wrote it, or a newer one$/],
  ])('schemaVersion %j: refused in one line naming the version and what to do', (version, reason) => {
    const raw = v1();
    raw.schemaVersion = version;
    const e = userError(() => parseResults(raw, 'v.json'));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(reason);
  });

  it('v2 HTTP samples lose the forward-pass fields v2 filled with request figures', () => {
    const raw = v2();
    const c = raw.scenarios[0].cases[1];
    c.engine = 'openai';
    for (const s of c.samples) {
      s.nfe = 3; // v2: the request count
      s.timePerForwardMs = s.latencyMs;
      s.forwardMs = 3 * s.latencyMs;
      s.generatedTokens = 3 * 32;
    }
    const r = parseResults(raw, 'v2.json');
    const s = r.scenarios[0]!.cases[1]!.samples[0]!;
    expect(s).toMatchObject({ requests: 3, generatedTokens: 32 });
    for (const k of ['nfe', 'timePerForwardMs', 'forwardMs', 'tokensPerForward'] as const) expect(s[k]).toBeUndefined();
  });

  it('a v2 sample whose request count cannot be recovered is refused in one line', () => {
    const raw = v2();
    raw.scenarios[0].cases[1].samples[0].timePerForwardMs = 0;
    const e = userError(() => parseResults(raw, 'v2.json'));
    expect(e.message).toMatch(/^v2\.json: cannot migrate from schemaVersion 2: case \S+ sample 0: the v2 sample's request count cannot be recovered/);
  });

  it('a run folder holding a v1 file reads the same way', () => {
    const dir = tmp();
    copyFileSync(V1_FIXTURE, join(dir, 'results.json'));
    expect(readResultsFile(dir)).toEqual(readResultsFile(V1_FIXTURE));
  });
});

describe('corrupt files', () => {
  const corrupt = (edit: (r: Record<string, any>) => void): string => {
    const r = JSON.parse(JSON.stringify(richRun()));
    edit(r);
    const dir = tmp();
    writeFileSync(join(dir, 'results.json'), JSON.stringify(r));
    const e = userError(() => readResultsFile(dir));
    expect(e.message).not.toContain('\n');
    expect(e.message.startsWith(join(dir, 'results.json'))).toBe(true);
    return e.message;
  };

  it.each<[string, (r: Record<string, any>) => void, RegExp]>([
    ['a sample value of the wrong type', (r) => (r.scenarios[0].cases[1].samples[0].latencyMs = 'fast'), /invalid results file: scenarios\[0\]\.cases\[1\]\.samples\[0\]\.latencyMs: Invalid input: expected number, received string$/],
    ['an unknown case state', (r) => (r.scenarios[0].cases[0].state = 'exploded'), /scenarios\[0\]\.cases\[0\]\.state: Invalid discriminator value\. Expected 'completed' \| 'errored' \| 'aborted'$/],
    ['a request failure with a negative repetition', (r) => (r.scenarios[0].cases[2].requestFailures.kept[0].repetition = -1), /scenarios\[0\]\.cases\[2\]\.requestFailures\.kept\[0\]\.repetition: Too small: expected number to be >=0$/],
    ['an errored case without its error', (r) => delete r.scenarios[0].cases[1].error, /scenarios\[0\]\.cases\[1\]\.error: Invalid input: expected string, received undefined$/],
    ['a completed case without samples', (r) => (r.scenarios[0].cases[0].samples = []), /scenarios\[0\]\.cases\[0\]\.samples: Too small: expected array to have >=1 items$/],
    ['an unknown warning code', (r) => (r.warnings[0].code = 'something'), /warnings\[0\]\.code: Invalid option: expected one of "device-fallback"\|/],
    ['an unknown engine', (r) => (r.scenarios[1].cases[0].engine = 'gpt'), /scenarios\[1\]\.cases\[0\]\.engine: Invalid option/],
    ['a half-open interval', (r) => (r.scenarios[1].analysis.scaling[1].ci95 = [1.2, null]), /scenarios\[1\]\.analysis\.scaling\[1\]\.ci95\[1\]: Invalid input: expected number, received null$/],
    ['several problems', (r) => { r.runId = 5; r.complete = 'yes'; }, /runId: Invalid input: expected string, received number \(and 1 more problems\)$/],
  ])('%s: one line naming the first failing path', (_name, edit, reason) => {
    expect(corrupt(edit)).toMatch(reason);
  });
});

describe('schemaVersion 3 files', () => {
  /** A v3 file: what v4 records about each case (role, family, parameters, handicap codes) taken away. */
  function v3(): Record<string, any> {
    const KV = 'KV cache copied device->host->device every token (onnxruntime-node has no IO binding): ~1.2 MB per forward';
    const ONCE = 'prompt KV cache crosses the bus once between the prefill and the loop call (no IO binding in onnxruntime-node): ~0.1 MB each way per generation';
    const r: Record<string, any> = structuredClone(
      buildResults({
        cases: [
          buildCase({ engine: 'llada', efficiency: { flopsPerForward: 2 * 8e9 * 96 } }),
          buildCase({ engine: 'ar-ort', conditions: { handicaps: [KV] } }),
          buildCase({ engine: 'ar-loop', conditions: { handicaps: [ONCE, 'left-padded batches (rows of different lengths) run MatMul/Softmax attention: GroupQueryAttention takes no attention bias on CUDA'] } }),
          buildCase({ engine: 'openai', id: 'throughput/openai-diffusion/b1/p64/g32', conditions: { handicaps: ['measured over HTTP: times include the network, server queueing and SSE framing'] } }),
        ],
      }),
    );
    r.schemaVersion = 3;
    for (const c of r.scenarios[0].cases) {
      delete c.role;
      delete c.family;
      delete c.parameters;
      delete c.conditions.handicapCodes;
    }
    return r;
  }

  it('are migrated: each case gets its role, family, parameter count (from the FLOPs) and handicap codes', () => {
    const r = parseResults(v3(), 'v3.json');
    expect(r.schemaVersion).toBe(4);
    const got = r.scenarios[0]!.cases.map((c) => [c.engine, c.role, c.family, c.parameters, c.conditions.handicapCodes]);
    expect(got).toEqual([
      ['llada', 'diffusion', 'llada', 8e9, []],
      ['ar-ort', 'ar', 'llama', undefined, ['kv-round-trip']],
      ['ar-loop', 'ar', 'llama', undefined, ['prompt-cache-once', 'gqa-padding']],
      ['openai', 'diffusion', 'remote', undefined, ['over-http']],
    ]);
  });

  it('a v4 case records them: written and read back unchanged', () => {
    const r = buildResults({ cases: [buildCase({ engine: 'ar-loop', role: 'ar', parameters: 800_000, conditions: { handicaps: ['x'], handicapCodes: ['attention-unfused'] } })] });
    const back = parseResults(JSON.parse(JSON.stringify(r)), 'v4.json').scenarios[0]!.cases[0]!;
    expect([back.role, back.family, back.parameters, back.conditions.handicapCodes]).toEqual(['ar', 'llama', 800_000, ['attention-unfused']]);
  });
});
