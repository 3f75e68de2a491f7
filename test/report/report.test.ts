import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import chalk from 'chalk';
import { describe, expect, it } from 'vitest';
import { renderHtml, renderMarkdown, renderTable, writeReports } from '../../src/report/index.js';
import { batchSpec, contextSpec, stepsSpec, throughputSpec } from '../../src/report/charts.js';
import { summarizeMetric } from '../../src/results/summary.js';
import { SCHEMA_VERSION, type CaseResult, type ResultsFile } from '../../src/results/types.js';
import { tempDir } from '../helpers/models.js';
import { buildCase, buildResults, cuda, h100Environment } from '../fixtures/results/builder.js';

function kase(engine: CaseResult['engine'], scenario: CaseResult['scenario'], tps: number[], extra: Partial<CaseResult['params']> = {}): CaseResult {
  const samples = tps.map((t) => ({ requests: 1, values: { latencyMs: [1000 / t] }, latencyMs: 1000 / t, generatedTokens: 32, usefulTokens: 20, tokensPerSec: t, usefulTokensPerSec: t * 0.6, nfe: 32, tokensPerForward: 1, timePerForwardMs: 1000 / t / 32, forwardMs: 900 / t }));
  return {
    id: `${scenario}/${engine}/b${extra.batchSize ?? 1}`,
    scenario,
    engine,
    model: 'tiny',
    params: { batchSize: 1, promptTokens: 64, genLength: 32, ...(engine === 'llada' ? { steps: 32, blockLength: 32, threshold: null } : {}), ...extra },
    conditions: { device: 'cpu', executionProvider: 'cpu', dtype: 'fp32', synthetic: true, handicaps: engine === 'ar' ? ['KV cache round trip'] : [] },
    state: 'completed',
    warmupRuns: 1,
    samples,
    summary: { tokensPerSec: summarizeMetric(tps), usefulTokensPerSec: summarizeMetric(tps.map((t) => t * 0.6)), latencyMs: summarizeMetric(tps.map((t) => 1000 / t)), nfe: summarizeMetric(tps.map(() => 32)) },
    pooled: {},
  };
}

function results(): ResultsFile {
  return {
    schemaVersion: SCHEMA_VERSION,
    runId: 'test-run',
    createdAt: '2026-11-28T00:00:00Z',
    tool: { name: 'dllm-bench', version: '0.1.0', gitSha: null },
    environment: { os: 'linux', cpuModel: 'cpu', cpuCount: 2, totalMemoryBytes: 1, node: 'v20', onnxruntime: '1.30.0', executionProvider: 'cpu', gpus: [] },
    config: {},
    scenarios: [
      { kind: 'throughput', state: 'completed', startedAt: '', finishedAt: '', cases: [kase('llada', 'throughput', [100, 110, 105]), kase('ar', 'throughput', [300, 310, 290])], analysis: {} },
      {
        kind: 'batch',
        state: 'completed',
        startedAt: '',
        finishedAt: '',
        cases: [kase('llada', 'batch', [100, 100]), kase('llada', 'batch', [180, 182], { batchSize: 2 })],
        analysis: { batchEfficiency: [{ engine: 'llada', batchSize: 1, efficiency: 1, ci95: null, tokensPerSec: 1, tokensPerSecB1: 1 }, { engine: 'llada', batchSize: 2, efficiency: 0.905, ci95: null, tokensPerSec: 1, tokensPerSecB1: 1 }] },
      },
      {
        kind: 'context',
        state: 'completed',
        startedAt: '',
        finishedAt: '',
        cases: [],
        analysis: {
          costModels: [
            {
              engine: 'llada',
              phase: 'diffusion-step',
              metric: 'timePerForwardMs',
              c0Ms: { value: 0.5, ci95: [0.4, 0.6] },
              c1MsPerToken: { value: 0.01, ci95: [0.009, 0.011] },
              c2MsPerToken2: { value: 2e-5, ci95: [1.5e-5, 2.5e-5] },
              n: 4,
              distinctLengths: 4,
              r2: 0.999,
              points: [96, 288, 544, 1056].map((L) => ({ sequenceTokens: L, valueMs: 0.5 + 0.01 * L + 2e-5 * L * L })),
            },
          ],
          // A file written before cost models: the legacy exponent is still shown, labelled as such.
          scaling: [{ engine: 'llada', metric: 'timePerForwardMs', exponent: 1.02, ci95: [0.9, 1.1], r2: 0.99, points: [{ promptTokens: 64, value: 1 }, { promptTokens: 128, value: 2 }] }],
        },
      },
      { kind: 'steps', state: 'errored', error: 'steps/llada: runtime: boom', startedAt: '', finishedAt: '', cases: [{ ...kase('llada', 'steps', [1]), samples: [], state: 'errored', error: 'runtime: boom', summary: {} }], analysis: {} },
    ],
    telemetry: { state: 'unavailable', reason: 'cpu run' },
    complete: false,
    errors: [{ scenario: 'steps', message: 'runtime: boom' }],
    warnings: [{ code: 'device-fallback', message: 'something to know' }],
  };
}

describe('reports', () => {
  it('the console table shows means with spread, analysis, errors; colourless at chalk level 0', () => {
    const level = chalk.level;
    chalk.level = 0;
    try {
      const t = renderTable(results());
      expect(t).toMatch(/105\.0 ± 5\.0/);
      expect(t).toMatch(/batch efficiency at B=2 \(same 2 prompts one at a time vs as one batch\): llada 91%/);
      expect(t).toMatch(/llada diffusion-step: timePerForwardMs = 0\.5 \+ 0\.01·L \+ 2\.00e-5·L² \[1\.50e-5, 2\.50e-5\] ms/);
      expect(t).toMatch(/prompt\^1\.02 .*legacy log-log fit/);
      expect(t).toMatch(/error: runtime: boom/);
      expect(t).not.toMatch(/\x1b\[/);
    } finally {
      chalk.level = level;
    }
  });

  it('markdown states the conditions, handicaps and incompleteness', () => {
    const md = renderMarkdown(results());
    expect(md).toMatch(/\*\*Incomplete run\*\*/);
    expect(md).toMatch(/synthetic weights/);
    expect(md).toMatch(/handicap: KV cache round trip/);
    expect(md).toMatch(/\| llada \| b1 p64 g32 32 steps blk 32 \| 105\.0 ± 5\.0 \|/);
  });

  it('markdown: pooled TTFT/TPOT/ITL percentiles, and MFU/MBU per engine peak with the AR prefill/decode split', () => {
    const base = buildCase({ engine: 'ar', conditions: cuda });
    const phase = (mfu: number, mbu: number) => ({ forwards: 1, flopsPerForward: 1, bytesPerForward: 1, inRunMsPerForward: 1, endToEndMsPerForward: 1, mfuInRun: mfu, mfuEndToEnd: mfu / 2, mbuInRun: mbu, mbuEndToEnd: mbu / 2 });
    const withEff = { ...base, efficiency: { ...phase(0.2, 0.3), peakTflops: 989.5, peakMemoryBandwidthGBps: 3350, peakSource: 'NVIDIA H100 80GB HBM3 (H100 SXM) fp16 dense', prefill: phase(0.5, 0.01), decode: phase(0.01, 0.6) } } as CaseResult;
    const md = renderMarkdown(buildResults({ environment: h100Environment(), cases: [withEff, buildCase({ engine: 'llada', efficiency: {} })] }));
    expect(md).toContain('- ar b1 p64 g32: MFU 20.0% / 10.0%, MBU 30.0% / 15.0%; prefill MFU 50.0% / 25.0%; decode MBU 60.0% / 30.0% (peak: NVIDIA H100 80GB HBM3 (H100 SXM) fp16 dense)');
    expect(md).toContain('1 case(s) ran where no device peak is known (CPU)');
    // The row carries TTFT p50, TPOT p50 and ITL p50 / p99 over the pooled values.
    const p = base.pooled;
    expect(md).toContain(`| ${p.ttftMs!.p50.toFixed(1)} | ${p.tpotMs!.p50.toFixed(2)} | ${p.itlMs!.p50.toFixed(2)} / ${p.itlMs!.p99.toFixed(2)} |`);
  });

  it('HTML embeds an SVG chart per scenario with data, and renders when a scenario has none', async () => {
    const html = await renderHtml(results());
    expect(html.match(/<svg/g)!.length).toBe(3); // throughput, batch, context; steps has no completed case
    expect(html).toMatch(/id="chart-throughput"/);
    expect(html).not.toMatch(/<script/);
    // The verdicts, with their evidence: a CPU run of synthetic models decides no hardware claim.
    expect(html).toMatch(/<section id="claims">/);
    expect(html).toMatch(/<article class="card v-not-measurable" id="claim-h100-1000-tokens-per-sec"><header><span class="verdict">not measurable here<\/span> <b>1000\+ tok\/s on H100<\/b>/);
    expect(html).toContain('needs: LLaDA on an H100/H200-class GPU');
    // A paper's first page: the headline, then the lead chart, then the claim cards; the evidence folded.
    const at = (s: string) => html.indexOf(s);
    expect(at('<section id="headline">')).toBeGreaterThan(0);
    expect(at('<section id="headline">')).toBeLessThan(at('<div class="lead">'));
    expect(at('<div class="lead">')).toBeLessThan(at('<section id="claims">'));
    expect(html).toMatch(/<details><summary>evidence<\/summary>/);
    // Case ids in the evidence link to their rows, and every link has its row.
    const links = [...html.matchAll(/<a href="#(case-[^"]+)">/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(0);
    for (const id of new Set(links)) expect(html, id).toContain(`<tr id="${id}"`);
    // Settings as columns (those that vary), the constant ones in the caption.
    expect(html).toMatch(/<caption>every case: [^<]*gen 32/);
    expect(html).toMatch(/<th>batch<\/th>/);
    expect(stepsSpec(results())).toBeNull();
    expect(throughputSpec(results())).not.toBeNull();
    expect(batchSpec(results())).not.toBeNull();
    expect(contextSpec(results())).not.toBeNull();
  });

  it('writeReports writes both files beside results.json', async () => {
    const dir = join(tempDir(), 'r');
    mkdirSync(dir);
    await writeReports(results(), dir);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toMatch(/# dllm-bench results: test-run/);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toMatch(/<svg/);
  });
});

describe('charts a reader can read', () => {
  it('throughput: a noisy case (interval below 0) still starts its axis at 0; no negative tick', async () => {
    const { renderSvg } = await import('../../src/report/charts.js');
    const r = buildResults({ cases: [buildCase({ engine: 'llada', tokensPerSec: [100, 900] }), buildCase({ engine: 'ar-loop', tokensPerSec: [3000, 3100] })] });
    const spec = throughputSpec(r)!;
    const rows = (spec.data as { values: { lo: number; mean: number }[] }).values;
    expect(r.scenarios[0]!.cases[0]!.summary.tokensPerSec!.ci95![0]).toBeLessThan(0);
    expect(Math.min(...rows.map((x) => x.lo))).toBe(0);
    const svg = await renderSvg(spec);
    expect(svg).not.toMatch(/>[−-]\d/); // vega writes negative ticks with U+2212
  });

  it('throughput: one row per case (no two cases draw over each other), the x axis pinned at 0 with only its end rounded', async () => {
    const { renderSvg } = await import('../../src/report/charts.js');
    const r = buildResults({
      cases: [
        buildCase({ engine: 'llada', tokensPerSec: [100, 900] }),
        buildCase({ engine: 'llada', params: { steps: 16 }, tokensPerSec: [300, 310] }),
        buildCase({ engine: 'ar-loop', tokensPerSec: [3000, 3100] }),
        buildCase({ engine: 'openai', role: 'ar', tokensPerSec: [300, 310] }),
        buildCase({ engine: 'openai', role: 'diffusion', id: 'throughput/openai-diffusion/b1/p64/g32', tokensPerSec: [30, 31] }),
      ],
    });
    const spec = throughputSpec(r)!;
    const rows = (spec.data as { values: { engine: string; metric: string }[] }).values;
    const labels = [...new Set(rows.map((x) => x.engine))];
    expect(labels).toEqual(['llada b1/p64/g32/s32/bl32', 'llada b1/p64/g32/s16/bl32', 'ar-loop', 'openai (ar)', 'openai (diffusion)']);
    // Each (row, metric) pair is one bar: nothing shares a slot.
    expect(new Set(rows.map((x) => `${x.engine}|${x.metric}`)).size).toBe(rows.length);
    expect(spec.height).toBeGreaterThanOrEqual(28 * labels.length);
    const bar = (spec.layer as { mark: unknown; encoding: { x: { scale: unknown } } }[]).find((l) => l.mark === 'bar')!;
    expect(bar.encoding.x.scale).toEqual({ domainMin: 0, zero: true, nice: true });
    const svg = await renderSvg(spec);
    for (const l of labels) expect(svg).toContain(`>${l}</text>`);
    expect(svg).not.toMatch(/>[−-]\d/);
  });

  it('context: the rendered legend lies inside the SVG, every engine named', async () => {
    const vega = await import('vega');
    const { compile } = await import('vega-lite');
    const engines = ['llada', 'ar', 'ar-ort', 'ar-loop'] as const;
    const spec = contextSpec(buildResults({ cases: [32, 64, 128].flatMap((p) => engines.map((engine) => buildCase({ scenario: 'context', engine, params: { promptTokens: p } }))) }))!;
    const view = new vega.View(vega.parse(compile(spec as never).spec), { renderer: 'none' });
    try {
      const svg = await view.toSVG();
      const [width, height] = svg.match(/width="(\d+)" height="(\d+)"/)!.slice(1).map(Number) as [number, number];
      const [ox, oy] = view.origin();
      const b = (view.scenegraph() as unknown as { root: { bounds: { x1: number; y1: number; x2: number; y2: number } } }).root.bounds;
      // Everything drawn (legend included) within the SVG's box, to the pixel.
      expect(b.x1 + ox).toBeGreaterThanOrEqual(-1);
      expect(b.y1 + oy).toBeGreaterThanOrEqual(-1);
      expect(b.x2 + ox).toBeLessThanOrEqual(width + 1);
      expect(b.y2 + oy).toBeLessThanOrEqual(height + 1);
      for (const e of engines) expect(svg).toMatch(new RegExp(`>${e} \\(c2 `));
    } finally {
      view.finalize();
    }
  });

  it('context: the legend sits under the panels with its labels unclipped', () => {
    const spec = contextSpec(buildResults({ cases: [32, 64, 128].flatMap((p) => [buildCase({ scenario: 'context', engine: 'llada', params: { promptTokens: p } })]) }));
    const color = JSON.stringify(spec);
    expect(color).toMatch(/"legend":\{"orient":"bottom","columns":2,"labelLimit":0,"titleLimit":0\}/);
  });

  it('steps: labels only on settings no other beats on both NFE and tokens/s', () => {
    const steps = (s: number, tps: number) => buildCase({ scenario: 'steps', engine: 'llada', params: { steps: s }, tokensPerSec: { mean: tps, sd: 1 } });
    const spec = stepsSpec(buildResults({ cases: [steps(32, 100), steps(16, 200), steps(8, 150), steps(4, 400)] }))!;
    const layers = spec.layer as { data: { values: { label: string }[] }; mark: { type: string } }[];
    const text = layers.find((l) => l.mark.type === 'text')!;
    expect(text.data.values.map((v) => v.label)).toEqual(['4 steps']);
  });
});
