import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import chalk from 'chalk';
import { beforeAll, describe, expect, it } from 'vitest';
import { percent } from '../../src/cli/commands/compare.js';
import { ExitCode, UserError } from '../../src/util/errors.js';
import {
  compareCommand,
  compareResults,
  githubAnnotations,
  renderCompareMarkdown,
  renderCompareTable,
  renderJUnit,
  toBenchmarkAction,
  toBmf,
  type CompareCommandOptions,
  type Comparison,
} from '../../src/compare/index.js';
import { readResultsFile } from '../../src/results/read.js';
import type { ResultsFile } from '../../src/results/types.js';
import { cli } from '../helpers/cli.js';
import { summarizeCase } from '../../src/results/summary.js';
import { buildCase, buildResults, cuda, h100Environment, writeJson, type CaseSpec } from '../fixtures/results/builder.js';

chalk.level = 0;
const tmp = () => mkdtempSync(join(tmpdir(), 'dllm-compare-'));

/** A small ci-regression-like run: LLaDA and two AR engines, 7 repetitions each, low spread. */
function run(over: Partial<Record<'llada' | 'ar' | 'ar-ort', Partial<CaseSpec>>> = {}, seed = 1): ResultsFile {
  return buildResults({
    cases: [
      buildCase({ engine: 'llada', tokensPerSec: { mean: 100, sd: 1 }, seed, ...over.llada }),
      buildCase({ engine: 'ar', tokensPerSec: { mean: 400, sd: 4 }, seed: seed + 1, ...over.ar }),
      buildCase({ engine: 'ar-ort', tokensPerSec: { mean: 700, sd: 7 }, seed: seed + 2, ...over['ar-ort'] }),
      buildCase({ scenario: 'batch', engine: 'llada', params: { batchSize: 4 }, tokensPerSec: { mean: 300, sd: 3 }, seed: seed + 3 }),
    ],
  });
}

function userError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error('expected a UserError');
}

const capture = () => {
  const io = { out: '', err: '', stdout: (s: string) => void (io.out += s), stderr: (s: string) => void (io.err += s), env: {} as NodeJS.ProcessEnv };
  return io;
};

const metric = (c: Comparison, id: string, name: string) => {
  const k = c.cases.find((x) => x.id === id);
  if (!k || k.state !== 'compared') throw new Error(`case ${id} not compared`);
  return k.metrics.find((m) => m.metric === name)!;
};

/** Tag balance and attribute quoting: enough to catch broken escaping or an unclosed element. */
function checkXml(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    const text = body.slice(last, m.index);
    expect(text, 'raw < or & in text').not.toMatch(/<|&(?!(amp|lt|gt|quot|apos);)/);
    last = tag.lastIndex;
    const [, close, name, , selfClose] = m;
    if (close) expect(stack.pop(), `closing </${name}>`).toBe(name);
    else if (!selfClose) stack.push(name!);
  }
  expect(body.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
  // Every '<' in the body must have been consumed by a well-formed tag.
  expect(body.replace(tag, '')).not.toContain('<');
}

describe('compareResults', () => {
  it('identical runs: nothing flagged, every metric unchanged', () => {
    const a = run();
    const c = compareResults(a, structuredClone(a), { thresholdPct: 5, alpha: 0.05 });
    expect(c.failures).toEqual([]);
    expect(c.improvements).toEqual([]);
    expect(c.newCases).toEqual([]);
    const all = c.cases.flatMap((k) => (k.state === 'compared' ? k.metrics : []));
    expect(all.length).toBeGreaterThan(10);
    expect(all.every((m) => m.verdict === 'unchanged' && m.changePct === 0)).toBe(true);
    // AR cases compare TTFT and ITL; diffusion cases have none.
    expect(metric(c, 'throughput/ar/b1/p64/g32', 'ttftMs')).toBeDefined();
    expect(metric(c, 'throughput/llada/b1/p64/g32/s32/bl32', 'ttftMs')).toBeUndefined();
  });

  it('a consistent 20% throughput drop is a significant regression, named in the markdown summary', () => {
    const base = run();
    const cur = run({ llada: { tokensPerSec: { mean: 80, sd: 0.8 } } }, 11);
    const c = compareResults(base, cur, { thresholdPct: 5, alpha: 0.05 });
    const id = 'throughput/llada/b1/p64/g32/s32/bl32';
    const tps = metric(c, id, 'tokensPerSec');
    expect(tps.verdict).toBe('regression');
    expect(tps.method).toBe('mann-whitney-u');
    expect(tps.pValue!).toBeLessThan(0.05);
    expect(tps.changePct).toBeGreaterThan(-22);
    expect(tps.changePct).toBeLessThan(-18);
    expect(tps.direction).toBe('worse');
    // Latency follows: lower is better, so a rise is a regression too.
    expect(metric(c, id, 'latencyMs').verdict).toBe('regression');
    expect(c.failures.every((f) => f.kind === 'regression' && f.caseId === id)).toBe(true);
    const md = renderCompareMarkdown(c);
    expect(md).toMatch(/^## dllm-bench compare: \d+ regressions/);
    const regressions = md.slice(md.indexOf('### Regressions'), md.indexOf('<details>'));
    expect(regressions).toContain(`\`${id}\``);
    expect(regressions).toMatch(/tokensPerSec (9\d|10\d)\.\d+ -> (7\d|8\d)\.\d+ tokens\/s \(medians; -(19|20|21)\.\d%, higher is better; p=0\.0\d+ \(Mann-Whitney U, n=7\/7\)\)/);
    // Regressions come before everything else.
    expect(md.indexOf('### Regressions')).toBeLessThan(md.indexOf('All compared metrics'));
    expect(renderCompareTable(c)).toContain('regression');
  });

  it('a 20% difference inside the noise is not flagged', () => {
    const base = run({ llada: { tokensPerSec: [60, 140, 95, 125, 80, 110, 90] } });
    const cur = run({ llada: { tokensPerSec: [50, 130, 70, 105, 45, 95, 65] } }, 11);
    const c = compareResults(base, cur, { thresholdPct: 5, alpha: 0.05 });
    const tps = metric(c, 'throughput/llada/b1/p64/g32/s32/bl32', 'tokensPerSec');
    // The ratio of medians (95 -> 70), the one statistic compare reports; the means drop by 20%.
    expect(tps.changePct).toBeCloseTo((70 / 95 - 1) * 100, 6);
    expect(tps.pValue!).toBeGreaterThanOrEqual(0.05);
    expect(tps.verdict).toBe('noise');
    expect(c.failures).toEqual([]);
  });

  it('a significant change within the threshold is unchanged; a symmetric gain is an improvement', () => {
    const small = compareResults(run(), run({ llada: { tokensPerSec: { mean: 97, sd: 0.5 } } }, 11), { thresholdPct: 5, alpha: 0.05 });
    expect(metric(small, 'throughput/llada/b1/p64/g32/s32/bl32', 'tokensPerSec').verdict).toBe('unchanged');
    const up = compareResults(run(), run({ llada: { tokensPerSec: { mean: 120, sd: 1 } } }, 11), { thresholdPct: 5, alpha: 0.05 });
    expect(metric(up, 'throughput/llada/b1/p64/g32/s32/bl32', 'tokensPerSec').verdict).toBe('improvement');
    expect(metric(up, 'throughput/llada/b1/p64/g32/s32/bl32', 'latencyMs').verdict).toBe('improvement');
    expect(up.failures).toEqual([]);
    expect(renderCompareMarkdown(up)).toContain('### Improvements');
  });

  it('fewer than 3 samples: non-overlapping 95% CIs decide, and the method says so', () => {
    const apart = compareResults(run({ llada: { tokensPerSec: [100, 101] } }), run({ llada: { tokensPerSec: [70, 71] } }), { thresholdPct: 5, alpha: 0.05 });
    const m = metric(apart, 'throughput/llada/b1/p64/g32/s32/bl32', 'tokensPerSec');
    expect(m.method).toBe('ci-overlap');
    expect(m.pValue).toBeNull();
    expect(m.verdict).toBe('regression');
    // One sample has no CI (null): never significant.
    const single = compareResults(run({ llada: { tokensPerSec: [100] } }), run({ llada: { tokensPerSec: [50] } }), { thresholdPct: 5, alpha: 0.05 });
    const s = metric(single, 'throughput/llada/b1/p64/g32/s32/bl32', 'tokensPerSec');
    expect(s.baseline.ci95).toBeNull();
    expect(s.verdict).toBe('noise');
    expect(single.warnings.join(' ')).toMatch(/fewer than 3 samples/);
  });

  it('warns when the sample sizes make p < alpha impossible', () => {
    const c = compareResults(run({ llada: { tokensPerSec: { mean: 100, sd: 1, n: 3 } } }), run({ llada: { tokensPerSec: { mean: 50, sd: 1, n: 3 } } }), { thresholdPct: 5, alpha: 0.05 });
    expect(metric(c, 'throughput/llada/b1/p64/g32/s32/bl32', 'tokensPerSec').verdict).toBe('noise');
    expect(c.warnings.join(' ')).toMatch(/3 vs 3 samples.*--repetitions 4/);
  });

  it('current cases not in the baseline are listed as new, not an error', () => {
    const cur = run();
    cur.scenarios[0]!.cases.push(buildCase({ engine: 'llada', params: { genLength: 64 } }));
    const c = compareResults(run(), cur);
    expect(c.newCases).toEqual(['throughput/llada/b1/p64/g64/s32/bl32']);
    expect(renderCompareMarkdown(c)).toContain('New cases');
  });

  it('a case interrupted in the current run fails the gate, saying so', () => {
    const c = compareResults(run(), run({ ar: { state: 'aborted', tokensPerSec: [300] } }), { thresholdPct: 5, alpha: 0.05 });
    expect(c.failures).toEqual([{ kind: 'errored', caseId: 'throughput/ar/b1/p64/g32', scenario: 'throughput', error: 'aborted: interrupted' }]);
  });

  it('a case that errored in the current run fails the gate', () => {
    const c = compareResults(run(), run({ ar: { state: 'errored', error: 'CUDA out of memory' } }));
    expect(c.failures).toHaveLength(1);
    expect(c.failures[0]).toMatchObject({ kind: 'errored', caseId: 'throughput/ar/b1/p64/g32', error: 'CUDA out of memory' });
  });

  describe('unusable input: UserError with exit code 2 and the reason', () => {
    it('another GPU, another model or other weights under the same id', () => {
      const gpu = (name: string) => ({ ...h100Environment(), gpus: [{ index: 0, name, driver: null, memoryTotalBytes: null }] });
      const onGpu = (name: string) => buildResults({ environment: gpu(name), cases: [buildCase({ engine: 'ar', conditions: cuda })] });
      expect(userError(() => compareResults(onGpu('NVIDIA H100 80GB HBM3'), onGpu('NVIDIA A100-SXM4-80GB'))).message).toBe(
        'case "throughput/ar/b1/p64/g32" ran under different conditions: GPU is "NVIDIA H100 80GB HBM3" in the baseline and "NVIDIA A100-SXM4-80GB" in the current run',
      );
      expect(compareResults(onGpu('NVIDIA H100 80GB HBM3'), onGpu('NVIDIA H100 80GB HBM3')).failures).toEqual([]);
      // A CPU case does not care which GPU sat in the machine.
      const cpuCase = (name: string) => buildResults({ environment: gpu(name), cases: [buildCase({ engine: 'ar' })] });
      expect(compareResults(cpuCase('NVIDIA H100 80GB HBM3'), cpuCase('NVIDIA A100-SXM4-80GB')).failures).toEqual([]);
      expect(userError(() => compareResults(run(), run({ ar: { model: 'models/llama3-8b' } }))).message).toContain('model is "tiny" in the baseline and "models/llama3-8b"');
      expect(userError(() => compareResults(run(), run({ ar: { conditions: { synthetic: false } } }))).message).toContain('weights is "synthetic" in the baseline and "real"');
    });

    it('a case matches only its own family: a Qwen2 case is no baseline for a Llama case of the same id and name', () => {
      const withFamily = (family: 'llama' | 'qwen2', over: Partial<CaseSpec> = {}) => {
        const c = buildCase({ engine: 'ar-ort', model: 'models/ar', tokensPerSec: { mean: 700, sd: 7 }, ...over });
        return buildResults({ cases: [{ ...c, family }] });
      };
      const e = userError(() => compareResults(withFamily('qwen2'), withFamily('llama')));
      expect(e.exitCode).toBe(ExitCode.usage);
      expect(e.message).toBe('case "throughput/ar-ort/b1/p64/g32" ran under different conditions: family is "qwen2" in the baseline and "llama" in the current run');
      expect(compareResults(withFamily('qwen2'), withFamily('qwen2')).cases).toMatchObject([{ id: 'throughput/ar-ort/b1/p64/g32', state: 'compared' }]);
      // The diffusion sampler too; a file from before cases recorded it ran LLaDA's.
      const diffusion = (sampler?: 'llada' | 'dream') => buildResults({ cases: [buildCase({ engine: 'llada', ...(sampler ? { conditions: { sampler } } : {}) })] });
      expect(compareResults(diffusion(), diffusion('llada')).failures).toEqual([]);
      expect(userError(() => compareResults(diffusion(), diffusion('dream'))).message).toContain('sampler is "llada" in the baseline and "dream" in the current run');
    });

    it('a baseline case missing from current, named', () => {
      const cur = run();
      cur.scenarios[1]!.cases = [];
      const e = userError(() => compareResults(run(), cur));
      expect(e.exitCode).toBe(ExitCode.usage);
      expect(e.message).toBe('baseline case "batch/llada/b4/p64/g32/s32/bl32" is missing from the current run');
    });

    it('a case the memory plan skipped in the current run is missing from the comparison, not a failure', () => {
      const cur = run();
      cur.scenarios[1]!.cases = [];
      const id = 'batch/llada/b4/p64/g32/s32/bl32';
      cur.skippedCases = [{ id, scenario: 'batch', engine: 'llada', model: 'tiny', reason: 'needs 20.0 GiB (...) but 16.0 GiB is free (--gpu-memory 16): 4.0 GiB short' }];
      const c = compareResults(run(), cur);
      expect(c.failures).toEqual([]);
      expect(c.cases.map((k) => k.id)).not.toContain(id);
    });

    it('a different device for the same id: the case, the field and both values', () => {
      const cur = run({ ar: { conditions: { device: 'cuda' } } });
      const e = userError(() => compareResults(run(), cur));
      expect(e.exitCode).toBe(2);
      expect(e.message).toBe('case "throughput/ar/b1/p64/g32" ran under different conditions: device is "cpu" in the baseline and "cuda" in the current run');
    });

    it('different execution provider, dtype or params', () => {
      expect(userError(() => compareResults(run(), run({ ar: { conditions: { executionProvider: 'webgpu' } } }))).message).toContain('executionProvider is "cpu" in the baseline and "webgpu"');
      expect(userError(() => compareResults(run(), run({ ar: { conditions: { dtype: 'fp16' } } }))).message).toContain('dtype is "fp32" in the baseline and "fp16"');
      const cur = run({ llada: { id: 'throughput/llada/b1/p64/g32/s32/bl32', params: { steps: 16 } } });
      expect(userError(() => compareResults(run(), cur)).message).toContain('params.steps is 32 in the baseline and 16 in the current run');
    });

    it('duplicate case ids', () => {
      const r = run();
      r.scenarios[0]!.cases.push(structuredClone(r.scenarios[0]!.cases[0]!));
      expect(userError(() => compareResults(r, run())).message).toMatch(/appears twice/);
    });
  });
});

describe('readResultsFile', () => {
  const dir = tmp();

  it('reads a results.json or the run folder that holds one', () => {
    const runDir = join(dir, 'run1');
    mkdirSync(runDir);
    writeJson(runDir, 'results.json', run());
    expect(readResultsFile(runDir).runId).toBe('test-run');
    expect(readResultsFile(join(runDir, 'results.json')).scenarios).toHaveLength(2);
  });

  it('reads a one-sample case: its CI is null in the file and after reading', () => {
    const r = run({ llada: { tokensPerSec: [100] } });
    const file = writeJson(dir, 'one.json', r);
    expect(JSON.parse(readFileSync(file, 'utf8')).scenarios[0].cases[0].summary.tokensPerSec.ci95).toBeNull();
    expect(readResultsFile(file).scenarios[0]!.cases[0]!.summary.tokensPerSec!.ci95).toBeNull();
  });

  it.each([
    ['missing file', () => join(dir, 'nope.json'), /nope\.json: cannot read results file \(no such file\)$/],
    ['folder without results.json', () => tmp(), /folder has no results\.json/],
    ['not JSON', () => writeJson(dir, 'bad.json', '{"schemaVersion": 1,'), /bad\.json: not JSON \(/],
    ['not an object', () => writeJson(dir, 'arr.json', '[1, 2]'), /arr\.json: not a dllm-bench results file \(the JSON is not an object\)/],
    ['another tool', () => writeJson(dir, 'hyperfine.json', { results: [] }), /hyperfine\.json: not a dllm-bench results file \(tool\.name is missing\)/],
    ['another tool name', () => writeJson(dir, 'other.json', { ...run(), tool: { name: 'llama-bench' } }), /tool\.name is "llama-bench"/],
    ['a newer schema version', () => writeJson(dir, 'v5.json', { ...run(), schemaVersion: 5 }), /v5\.json: results schemaVersion 5 \(written by dllm-bench 0\.1\.0\); this dllm-bench reads schemaVersion 1, 2, 3 and 4; use the dllm-bench version that wrote it, or a newer one$/],
    ['a field this version does not know', () => writeJson(dir, 'extra.json', { ...run(), extra: 1 }), /extra\.json: invalid results file: \(top level\): Unrecognized key: "extra"$/],
    ['a truncated structure', () => writeJson(dir, 'trunc.json', { ...run(), scenarios: [{ kind: 'throughput', state: 'completed', cases: [{ id: 'x' }], analysis: {} }] }), /trunc\.json: invalid results file: scenarios\[0\]\.\w+: .*more problems/],
  ])('%s: one-line UserError, exit code 2', (_name, file, reason) => {
    const e = userError(() => readResultsFile(file()));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(reason);
    expect(e.message).not.toContain('\n');
  });
});

describe('exporters', () => {
  const base = run();
  const cur = run({ llada: { tokensPerSec: { mean: 80, sd: 0.8 } }, ar: { tokensPerSec: { mean: 300, sd: 3 } } }, 11);
  const c = compareResults(base, cur);

  it('JUnit XML is well-formed, one testsuite per scenario (+ pooled), one testcase per case+metric, one failure per regression', () => {
    const xml = renderJUnit(c);
    checkXml(xml);
    expect(xml.match(/<testsuite /g)).toHaveLength(3);
    expect(xml).toContain('<testsuite name="pooled"');
    const metrics = c.cases.flatMap((k) => (k.state === 'compared' ? k.metrics : []));
    const tests = metrics.length + c.pooled.length;
    expect(xml.match(/<testcase /g)).toHaveLength(tests);
    expect(c.failures.length).toBeGreaterThanOrEqual(4);
    expect(xml.match(/<failure /g)).toHaveLength(c.failures.length);
    expect(xml).toContain(`<testsuites name="dllm-bench compare" tests="${tests}" failures="${c.failures.length}">`);
    expect(xml).toContain('<testcase classname="throughput/llada/b1/p64/g32/s32/bl32" name="tokensPerSec">');
  });

  it('JUnit XML escapes what XML cannot hold raw', () => {
    const nasty = 'throughput/llada/"<b>" & \'x\'\u0001';
    const b = buildResults({ cases: [buildCase({ id: nasty, tokensPerSec: { mean: 100, sd: 1 } })] });
    const k = buildResults({ cases: [buildCase({ id: nasty, tokensPerSec: { mean: 50, sd: 1 }, seed: 9 })] });
    const xml = renderJUnit(compareResults(b, k));
    checkXml(xml);
    expect(xml).toContain('classname="throughput/llada/&quot;&lt;b&gt;&quot; &amp; &apos;x&apos;\uFFFD"');
    expect(xml).not.toContain('\u0001');
  });

  it('github-action-benchmark: throughput metrics bigger-is-better, latency smaller-is-better', () => {
    const out = toBenchmarkAction(cur);
    expect(out.biggerIsBetter.map((e) => e.name)).toContain('throughput/llada/b1/p64/g32/s32/bl32 tokensPerSec');
    expect(out.biggerIsBetter.every((e) => e.unit === 'tokens/s' && /tokensPerSec$|usefulTokensPerSec$/.test(e.name))).toBe(true);
    expect(out.smallerIsBetter.every((e) => e.unit === 'ms')).toBe(true);
    expect(out.smallerIsBetter.map((e) => e.name)).toContain('throughput/ar/b1/p64/g32 ttftMs');
    const e = out.biggerIsBetter[0]!;
    expect(e.value).toBeGreaterThan(0);
    expect(e.range).toMatch(/^± \d/);
  });

  it('Bencher BMF: case id -> metric -> value with the 95% CI', () => {
    const bmf = toBmf(cur);
    const v = bmf['throughput/llada/b1/p64/g32/s32/bl32']!.tokensPerSec!;
    expect(v.lower_value!).toBeLessThan(v.value);
    expect(v.upper_value!).toBeGreaterThan(v.value);
    expect(Object.keys(bmf)).toHaveLength(4);
    // One sample: no bounds rather than an unrepresentable infinity.
    expect(toBmf(run({ llada: { tokensPerSec: [100] } }))['throughput/llada/b1/p64/g32/s32/bl32']!.tokensPerSec).toEqual({ value: 100 });
  });

  it('GitHub annotations: at most 10 ::error lines, escaped', () => {
    const many: Comparison = { ...c, failures: Array.from({ length: 12 }, () => c.failures[0]!) };
    const lines = githubAnnotations(many);
    expect(lines.filter((l) => l.startsWith('::error '))).toHaveLength(10);
    expect(lines[10]).toMatch(/2 more regressions/);
    expect(lines[0]).toMatch(/^::error title=Performance regression%3A throughput\/llada\/b1\/p64\/g32\/s32\/bl32 tokensPerSec::throughput\/llada/);
  });
});

describe('compareCommand', () => {
  const dir = tmp();
  const baseFile = writeJson(dir, 'base.json', run());
  const regFile = writeJson(dir, 'reg.json', run({ llada: { tokensPerSec: { mean: 80, sd: 0.8 } } }, 11));
  const opts = (over: Partial<CompareCommandOptions> = {}): CompareCommandOptions => ({ baseline: baseFile, current: baseFile, thresholdPct: 5, alpha: 0.05, format: 'table', ...over });

  it('exit 0 without regression, 1 with one; the table on stdout by default', async () => {
    const io = capture();
    expect(await compareCommand(opts(), io)).toBe(0);
    expect(io.out).toContain('no regressions');
    expect(io.err).toBe('');
    const io2 = capture();
    expect(await compareCommand(opts({ current: regFile }), io2)).toBe(1);
    expect(io2.out).toContain('regression(s)');
  });

  it('machine formats on stdout with the table on stderr; --out and --junit write files', async () => {
    const io = capture();
    await compareCommand(opts({ current: regFile, format: 'json' }), io);
    const parsed = JSON.parse(io.out) as Comparison;
    expect(parsed.failures.length).toBeGreaterThan(0);
    expect(io.err).toContain('regression(s)');
    const out = join(dir, 'sub', 'bmf.json');
    const junit = join(dir, 'sub', 'junit.xml');
    const io2 = capture();
    expect(await compareCommand(opts({ current: regFile, format: 'bmf', out, junit }), io2)).toBe(1);
    expect(io2.out).toBe('');
    expect(Object.keys(JSON.parse(readFileSync(out, 'utf8')))).toHaveLength(4);
    checkXml(readFileSync(junit, 'utf8'));
  });

  it('on GitHub Actions: appends the markdown to the step summary and prints ::error annotations', async () => {
    const summary = join(dir, 'step-summary.md');
    writeFileSync(summary, '# earlier step\n');
    const io = capture();
    io.env = { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary };
    expect(await compareCommand(opts({ current: regFile }), io)).toBe(1);
    const md = readFileSync(summary, 'utf8');
    expect(md.startsWith('# earlier step\n## dllm-bench compare:')).toBe(true);
    expect(io.out).toMatch(/^::error title=Performance regression/m);
    // With JSON on stdout the annotations move to stderr (the runner reads both), keeping stdout parseable.
    const io2 = capture();
    io2.env = { GITHUB_ACTIONS: 'true' };
    await compareCommand(opts({ current: regFile, format: 'github-action-benchmark' }), io2);
    expect(() => JSON.parse(io2.out)).not.toThrow();
    expect(io2.err).toMatch(/^::error /m);
    // Not on Actions: no annotations, no summary file touched.
    const io3 = capture();
    await compareCommand(opts({ current: regFile }), io3);
    expect(io3.out).not.toContain('::error');
  });

  it('unusable input throws UserError (exit code 2)', async () => {
    await expect(compareCommand(opts({ current: writeJson(dir, 'nope.json', '{') }), capture())).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/nope\.json: not JSON/) });
  });

  it('--threshold accepts 5% or 5', () => {
    expect(percent('5%')).toBe(5);
    expect(percent('5')).toBe(5);
    expect(percent(' 2.5% ')).toBe(2.5);
    expect(() => percent('five')).toThrow(/percentage/);
    expect(() => percent('-1')).toThrow();
  });
});

// Runs the built CLI (npm test builds dist/ first; the global setup fails the run when dist/ is stale).
describe('dllm-bench compare (built CLI)', () => {
  const dir = tmp();
  let base = '';
  let reg = '';
  beforeAll(() => {
    base = writeJson(dir, 'a.json', run());
    reg = writeJson(dir, 'b.json', run({ llada: { tokensPerSec: { mean: 80, sd: 0.8 } } }, 11));
  });

  it('exit 0 for no regression, 1 for a regression, 2 for unusable input', async () => {
    const same = await cli(['compare', base, base]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain('no regressions');

    const junit = join(dir, 'junit.xml');
    const worse = await cli(['compare', base, reg, '--threshold', '5%', '--junit', junit, '--format', 'md'], { GITHUB_ACTIONS: '' });
    expect(worse.code, worse.stderr).toBe(1);
    expect(worse.stdout).toContain('### Regressions');
    expect(worse.stderr).toContain('regression(s)');
    checkXml(readFileSync(junit, 'utf8'));

    const bad = await cli(['compare', base, join(dir, 'missing.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^dllm-bench: .*missing\.json: cannot read results file \(no such file\)$/);

    const badFlag = await cli(['compare', base, base, '--threshold', 'lots']);
    expect(badFlag.code).toBe(2);
  });
});

/**
 * A results file shaped like the default run (configs/default.json): 3 repetitions, every scenario, LLaDA and the
 * three AR engines, ~5% noise per repetition.
 */
function defaultRunLike(seed: number): ResultsFile {
  const ar = ['ar', 'ar-ort', 'ar-loop'] as const;
  const cases: CaseSpec[] = [];
  const add = (spec: CaseSpec, mean: number) => cases.push({ ...spec, tokensPerSec: { mean, sd: mean * 0.05, n: 3 } });
  add({ engine: 'llada' }, 900);
  for (const e of ar) add({ engine: e }, 1500);
  for (const b of [1, 2, 4]) {
    add({ scenario: 'batch', engine: 'llada', params: { batchSize: b } }, 900 * b * 0.9);
    for (const e of ar) add({ scenario: 'batch', engine: e, params: { batchSize: b } }, 1500 * b * 0.7);
  }
  for (const p of [64, 128, 256, 512]) {
    add({ scenario: 'context', engine: 'llada', params: { promptTokens: p } }, 900 * (64 / p));
    for (const e of ar) add({ scenario: 'context', engine: e, params: { promptTokens: p } }, 1500 * Math.sqrt(64 / p));
  }
  for (const st of [8, 16, 32]) add({ scenario: 'steps', engine: 'llada', params: { steps: st } }, 900 * (32 / st));
  for (const t of [0.9, 0.7]) add({ scenario: 'steps', engine: 'llada', params: { threshold: t } }, 2000);
  for (const e of ar) add({ scenario: 'steps', engine: e }, 1500);
  return buildResults({ cases: cases.map((c, i) => buildCase({ ...c, seed: seed * 1000 + i })) });
}

/** The same run with every time `factor` times longer and every rate `factor` times lower. */
function slower(r: ResultsFile, factor: number): ResultsFile {
  const out = structuredClone(r);
  const times = ['latencyMs', 'timePerForwardMs', 'forwardMs', 'ttftMs', 'tpotMs', 'itlMs'] as const;
  for (const c of out.scenarios.flatMap((s) => s.cases)) {
    for (const smp of c.samples) {
      for (const k of times) if (smp[k] !== undefined) smp[k] = smp[k]! * factor;
      smp.tokensPerSec /= factor;
      smp.usefulTokensPerSec /= factor;
      for (const k of ['latencyMs', 'ttftMs', 'tpotMs', 'itlMs'] as const) if (smp.values[k]) smp.values[k] = smp.values[k]!.map((v) => v * factor);
    }
    Object.assign(c, summarizeCase(c.samples));
  }
  return out;
}

describe('a consistent slowdown at the default 3 repetitions', () => {
  const base = defaultRunLike(1);

  it('no single case can show it, the pooled test across cases does', () => {
    const c = compareResults(base, slower(base, 1.4));
    expect(c.cases.length).toBe(40);
    // 3 vs 3 samples: the smallest Mann-Whitney p is 0.1, so every per-case verdict is noise...
    expect(c.failures.every((f) => f.kind === 'pooled-regression')).toBe(true);
    // ...while every time metric and rate is 40% worse across 40 cases.
    const tps = c.pooled.find((p) => p.metric === 'tokensPerSec')!;
    expect(tps.n).toBe(40);
    expect(tps.relativeChange).toBeCloseTo(0.4, 9);
    // One statistic: the pooled change is the table's (ratio of medians), -28.6% for rates, +40% for times.
    expect(tps.change).toBeCloseTo(1 / 1.4 - 1, 9);
    expect(c.pooled.find((p) => p.metric === 'latencyMs')!.change).toBeCloseTo(0.4, 9);
    for (const k of c.cases) if (k.state === 'compared') for (const m of k.metrics) expect(m.changePct / 100).toBeCloseTo(m.better === 'higher' ? 1 / 1.4 - 1 : 0.4, 9);
    expect(tps.verdict).toBe('regression');
    expect(c.failures.map((f) => f.kind === 'pooled-regression' && f.pooled.metric)).toEqual(['tokensPerSec', 'usefulTokensPerSec', 'latencyMs', 'timePerForwardMs', 'ttftMs', 'tpotMs', 'itlMs']);
    const table = renderCompareTable(c);
    expect(table).toMatch(/consistent slowdown: tokensPerSec across 40 cases: -28\.6% \(worse/);
    expect(table).toMatch(/consistent slowdown: latencyMs across 40 cases: \+40\.0% \(worse/);
    // The table's change column says the same, and no other figure for the change appears.
    expect(table).toMatch(/tokensPerSec[ │|]+[\d.]+[ │|]+[\d.]+[ │|]+-28\.6%/);
    expect(table).not.toMatch(/40\.0% worse/);
    expect(c.warnings.join(' ')).toMatch(/3 vs 3 samples.*the pooled test across cases still can/);
  });

  it('an identical copy, and a re-run with fresh noise, pass', () => {
    const same = compareResults(base, structuredClone(base));
    expect(same.failures).toEqual([]);
    expect(same.pooled.every((p) => p.verdict === 'unchanged' && p.relativeChange === 0)).toBe(true);
    const rerun = compareResults(base, defaultRunLike(2));
    expect(rerun.failures).toEqual([]);
    for (const p of rerun.pooled) expect(Math.abs(p.relativeChange)).toBeLessThan(0.05);
  });

  it('a faster copy is a pooled improvement, never a failure', () => {
    const c = compareResults(base, slower(base, 1 / 1.4));
    expect(c.failures).toEqual([]);
    expect(c.pooled.find((p) => p.metric === 'latencyMs')!.verdict).toBe('improvement');
  });

  it('the CLI exits 1 on a 40%-slower copy and 0 on an identical one', async () => {
    const dir = tmp();
    const a = writeJson(dir, 'base.json', base);
    const copy = writeJson(dir, 'copy.json', structuredClone(base));
    const slow = writeJson(dir, 'slow.json', slower(base, 1.4));
    const [ok, bad] = await Promise.all([cli(['compare', a, copy]), cli(['compare', a, slow, '--format', 'md'])]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(bad.code, bad.stderr).toBe(1);
    expect(bad.stdout).toMatch(/\*\*all cases\*\* consistent slowdown: tokensPerSec across 40 cases: -28\.6% \(worse/);
    expect(bad.stdout).toMatch(/\| tokensPerSec \| [\d.]+ \| [\d.]+ \| -28\.6% \|/);
  });
});
