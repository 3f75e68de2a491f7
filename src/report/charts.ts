/**
 * Charts as inline SVG, rendered in Node without a browser: vega-lite spec -> vega view (renderer 'none') -> SVG.
 * Each chart is built from results.json alone, so any past run can be re-reported.
 */
import { costAt, fitCostModels } from '../results/cost-model.js';
import type { CaseResult, CostModelFit, ResultsFile, ScenarioResult } from '../results/types.js';
import { roleOf } from '../results/sides.js';
import { familyOf } from '../models/families.js';
import { loadCases, loadLevel } from './serving.js';

type Spec = Record<string, unknown>;

const ENGINE_COLORS: Record<string, string> = { llada: '#d62728', ar: '#1f77b4', 'ar-ort': '#2ca02c', 'ar-loop': '#17becf', openai: '#9467bd' };

/** The engine color scale over the engines a chart shows (a legend lists only those; unknown ones get gray). */
export function engineScale(engines: Iterable<string>): { domain: string[]; range: string[] } {
  const domain = [...new Set(engines)];
  return { domain, range: domain.map((e) => ENGINE_COLORS[e] ?? '#7f7f7f') };
}

function scenario(results: ResultsFile, kind: ScenarioResult['kind']): ScenarioResult | undefined {
  return results.scenarios.find((s) => s.kind === kind);
}

/**
 * One row label per throughput case: its engine, with the side when one engine serves both (openai) and the case's
 * settings when an engine has several cases, so that no two cases' bars share a row and draw over each other.
 */
function throughputLabels(cases: readonly CaseResult[]): Map<CaseResult, string> {
  const withSide = (c: CaseResult) => (c.engine === 'openai' ? `${c.engine} (${roleOf(c)})` : c.engine);
  const count = new Map<string, number>();
  for (const c of cases) count.set(withSide(c), (count.get(withSide(c)) ?? 0) + 1);
  return new Map(cases.map((c) => [c, (count.get(withSide(c)) ?? 0) > 1 ? `${withSide(c)} ${c.id.split('/').slice(2).join('/')}` : withSide(c)]));
}

export function throughputSpec(results: ResultsFile): Spec | null {
  const s = scenario(results, 'throughput');
  const completed = (s?.cases ?? []).filter((c) => c.state === 'completed');
  const label = throughputLabels(completed);
  const rows = completed.flatMap((c) =>
    c.state !== 'completed'
      ? []
      : (['tokensPerSec', 'usefulTokensPerSec'] as const).flatMap((m) => {
          const v = c.summary[m];
          if (!v) return [];
          // A rate is never negative: a wide t interval over few repetitions is cut at 0 (the axis starts there).
          return [{ engine: label.get(c) ?? c.engine, metric: m === 'tokensPerSec' ? 'all positions' : 'useful (to EOS)', mean: v.mean, lo: Math.max(0, v.ci95?.[0] ?? v.mean), hi: v.ci95?.[1] ?? v.mean, case: c.id }];
        }),
  );
  if (rows.length === 0) return null;
  return {
    title: 'Throughput by engine (tokens/s, mean and 95% CI)',
    data: { values: rows },
    width: 420,
    // A band of 2 x 14 px per case, so the row labels (one per case) never crowd each other.
    height: Math.max(220, 28 * label.size),
    encoding: {
      y: { field: 'engine', type: 'nominal', title: null, axis: { labelLimit: 0 } },
      yOffset: { field: 'metric' },
      color: { field: 'metric', type: 'nominal', title: 'tokens counted', legend: { orient: 'bottom' } },
    },
    layer: [
      // The axis starts at 0 and "nice" only rounds its end up: zero forces 0 into the domain, domainMin pins it there.
      { mark: 'bar', encoding: { x: { field: 'mean', type: 'quantitative', title: 'tokens/s', scale: { domainMin: 0, zero: true, nice: true }, axis: { labelOverlap: true } } } },
      { mark: { type: 'rule', color: 'black' }, encoding: { x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
    ],
  };
}

export function batchSpec(results: ResultsFile): Spec | null {
  const s = scenario(results, 'batch');
  const eff = s?.analysis.batchEfficiency ?? [];
  // B=1 is the reference (100% by definition): its throughput from the B=1 case of each engine with a B > 1 figure.
  const ones = [...new Set(eff.map((b) => b.engine))].map((engine) => {
    const c = s!.cases.find((x) => x.engine === engine && x.params.batchSize === 1);
    return { engine, batch: 1, efficiency: 100, tps: c?.summary.tokensPerSec?.mean ?? null };
  });
  const rows = [...ones, ...eff.map((b) => ({ engine: b.engine, batch: b.batchSize, efficiency: b.efficiency * 100, tps: b.tokensPerSec }))];
  if (rows.length === 0) return null;
  const sizes = [...new Set(rows.map((r) => r.batch))].sort((a, b) => a - b);
  const x = { field: 'batch', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values: sizes, format: 'd' }, title: 'batch size' };
  const color = { field: 'engine', type: 'nominal', scale: engineScale(rows.map((r) => r.engine)) };
  return {
    title: 'Batching: throughput and efficiency = tput(B) / (B x tput(1))',
    data: { values: rows },
    hconcat: [
      { width: 260, height: 200, mark: { type: 'line', point: true }, encoding: { x, y: { field: 'tps', type: 'quantitative', title: 'tokens/s' }, color } },
      {
        width: 260,
        height: 200,
        layer: [
          { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'efficiency', type: 'quantitative', title: 'batch efficiency %', scale: { domain: [0, 110] } }, color } },
          { data: { values: [{ y: 92 }] }, mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
        ],
      },
    ],
  };
}

const PHASE_TITLE: Record<CostModelFit['phase'], string> = {
  'diffusion-step': 'diffusion step (ms per forward, L = prompt + gen)',
  'diffusion-request': 'served diffusion request (latency ms, L = prompt + gen)',
  'ar-prefill': 'AR prefill (TTFT ms, L = prompt)',
  'ar-decode': 'AR decode (ms per token, L = prompt + gen/2)',
};

/** Context: the measured repetitions and the fitted c0 + c1·L + c2·L² per engine, one panel per phase. */
export function contextSpec(results: ResultsFile): Spec | null {
  const s = scenario(results, 'context');
  // Files written before stored cost models get the same fits from their cases.
  const fits = s ? (s.analysis.costModels ?? fitCostModels(s.cases)) : [];
  if (fits.length === 0) return null;
  const rows = fits.flatMap((f) => {
    const phase = PHASE_TITLE[f.phase];
    const engine = `${f.engine} (c2 ${f.c2MsPerToken2.value.toExponential(1)})`;
    const xs = f.points.map((p) => p.sequenceTokens);
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    const curve = Array.from({ length: 25 }, (_, i) => lo + ((hi - lo) * i) / 24).map((L) => ({ phase, engine, L, ms: costAt(f, L), kind: 'fit' }));
    return [...f.points.map((p) => ({ phase, engine, L: p.sequenceTokens, ms: p.valueMs, kind: 'measured' })), ...curve];
  });
  // Under the panels, labels unclipped: the three panels take the width a legend on the right would be cut from.
  const color = { field: 'engine', type: 'nominal', title: 'engine (fitted c2, ms/token²)', legend: { orient: 'bottom', columns: 2, labelLimit: 0, titleLimit: 0 } };
  return {
    title: 'Context cost: time = c0 + c1·L + c2·L² (points: repetitions; lines: least-squares fit)',
    data: { values: rows },
    facet: { column: { field: 'phase', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 230,
      height: 200,
      layer: [
        { transform: [{ filter: "datum.kind === 'measured'" }], mark: { type: 'point', filled: true, size: 30 }, encoding: { x: { field: 'L', type: 'quantitative', title: 'sequence tokens L' }, y: { field: 'ms', type: 'quantitative', title: 'ms' }, color } },
        { transform: [{ filter: "datum.kind === 'fit'" }], mark: { type: 'line' }, encoding: { x: { field: 'L', type: 'quantitative' }, y: { field: 'ms', type: 'quantitative' }, color } },
      ],
    },
  };
}

export function stepsSpec(results: ResultsFile): Spec | null {
  const s = scenario(results, 'steps');
  const cases = (s?.cases ?? []).filter((c) => c.state === 'completed' && c.summary.tokensPerSec);
  const llada = cases
    .filter((c) => c.engine === 'llada')
    .map((c) => ({ label: `${c.params.threshold != null ? `threshold ${c.params.threshold}` : `${c.params.steps} steps`}${c.params.cache && c.params.cache !== 'none' ? `, ${c.params.cache} cache` : ''}`, nfe: c.summary.nfe?.mean ?? 0, tps: c.summary.tokensPerSec!.mean }));
  const ar = cases.filter((c) => c.engine !== 'llada').map((c) => ({ engine: c.engine, tps: c.summary.tokensPerSec!.mean }));
  if (llada.length === 0) return null;
  // Labels on the settings no other beats on both counts (fewer forwards, more tokens/s): a dozen labels overlap.
  const labelled = llada.filter((p) => !llada.some((q) => q !== p && q.nfe <= p.nfe && q.tps >= p.tps && (q.nfe < p.nfe || q.tps > p.tps)));
  return {
    title: 'Diffusion steps / threshold: tokens/s vs forward passes (AR engines as reference lines)',
    width: 480,
    height: 260,
    layer: [
      {
        data: { values: llada },
        mark: { type: 'point', filled: true, size: 80, color: '#d62728' },
        encoding: { x: { field: 'nfe', type: 'quantitative', title: 'forward passes per answer (NFE)' }, y: { field: 'tps', type: 'quantitative', title: 'tokens/s' }, tooltip: [{ field: 'label' }] },
      },
      { data: { values: labelled }, mark: { type: 'text', dx: 8, align: 'left', fontSize: 10 }, encoding: { x: { field: 'nfe', type: 'quantitative' }, y: { field: 'tps', type: 'quantitative' }, text: { field: 'label' } } },
      ...(ar.length
        ? [
            { data: { values: ar }, mark: { type: 'rule', strokeDash: [6, 3] }, encoding: { y: { field: 'tps', type: 'quantitative' }, color: { field: 'engine', type: 'nominal', scale: engineScale(ar.map((r) => r.engine)) } } },
          ]
        : []),
    ],
  };
}

const AR_SIDE = 'AR reference';

/**
 * A local diffusion case as the legend names it: its family's label (the pair a run measured, whatever it is); a case
 * written before cases recorded their family ran LLaDA, the only diffusion family then.
 */
function diffusionSide(c: CaseResult): string {
  return c.family === 'remote' ? 'diffusion' : `diffusion (${familyOf(c.family ?? 'llada').label})`;
}

/**
 * The speed-quality frontier of the steps scenario: accuracy (with its Wilson 95% interval) against tokens/s, one
 * point per diffusion setting (steps, threshold, cache mode), the AR engines marked as the reference; the
 * Pareto-optimal settings are labelled. Null when no case has a quality measurement (random-weight presets).
 */
export function frontierSpec(results: ResultsFile): Spec | null {
  const s = scenario(results, 'steps');
  const points = (s?.cases ?? []).flatMap((c) => {
    if (c.state !== 'completed' || !c.quality || !c.summary.tokensPerSec) return [];
    const p = c.params;
    const setting =
      c.engine === 'llada'
        ? `${p.threshold != null ? `thr ${p.threshold}` : `${p.steps} steps`}${p.cache && p.cache !== 'none' ? ` ${p.cache}` : ''}`
        : `${c.engine} (AR)`;
    return [{ side: c.engine === 'llada' ? diffusionSide(c) : AR_SIDE, engine: c.engine, setting, tps: c.summary.tokensPerSec.mean, acc: c.quality.overall.accuracy * 100, lo: c.quality.overall.ci95[0] * 100, hi: c.quality.overall.ci95[1] * 100, nfe: c.summary.nfe?.mean ?? null }];
  });
  if (points.length === 0) return null;
  const x = { field: 'tps', type: 'quantitative', scale: { type: 'log' }, title: 'tokens/s (log)' };
  const color = { field: 'engine', type: 'nominal', scale: engineScale(points.map((p) => p.engine)), title: 'engine' };
  // Labels on the Pareto frontier and the AR points only: with a dozen settings, labelling each one overlaps.
  const labelled = points.filter((p) => p.side === AR_SIDE || onFrontier(p, points));
  const sides = [...new Set(points.map((p) => p.side).filter((d) => d !== AR_SIDE)), AR_SIDE];
  return {
    title: 'Speed-quality frontier: held-out accuracy vs tokens/s (one point per setting; AR marked)',
    width: 480,
    height: 280,
    data: { values: points },
    layer: [
      { mark: { type: 'rule', opacity: 0.5 }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color } },
      {
        mark: { type: 'point', filled: true, size: 90 },
        encoding: {
          x,
          y: { field: 'acc', type: 'quantitative', title: 'accuracy % (95% CI)', scale: { domain: [0, 100] } },
          color,
          shape: { field: 'side', type: 'nominal', scale: { domain: sides, range: sides.map((d) => (d === AR_SIDE ? 'diamond' : 'circle')) }, title: null },
          tooltip: [{ field: 'setting' }, { field: 'acc', title: 'accuracy %', format: '.1f' }, { field: 'tps', title: 'tokens/s', format: '.0f' }, { field: 'nfe', title: 'NFE', format: '.1f' }],
        },
      },
      { data: { values: labelled.filter((p) => p.side !== AR_SIDE) }, mark: { type: 'text', dx: 7, align: 'left', fontSize: 9 }, encoding: { x, y: { field: 'acc', type: 'quantitative' }, text: { field: 'setting' } } },
      // The AR engines sit close together: their labels slant up and away from the points, so neighbours do not overlap.
      { data: { values: labelled.filter((p) => p.side === AR_SIDE) }, mark: { type: 'text', dx: 5, dy: -6, angle: -40, align: 'left', fontSize: 9 }, encoding: { x, y: { field: 'acc', type: 'quantitative' }, text: { field: 'setting' } } },
    ],
  };
}

/** True when no other point is at least as fast and at least as accurate, and strictly better in one of the two. */
export function onFrontier<P extends { tps: number; acc: number }>(p: P, all: readonly P[]): boolean {
  return !all.some((q) => q !== p && q.tps >= p.tps && q.acc >= p.acc && (q.tps > p.tps || q.acc > p.acc));
}

/** Renders a vega-lite spec to an SVG string. */
export async function renderSvg(spec: Spec): Promise<string> {
  const vl = await import('vega-lite');
  const vega = await import('vega');
  const compiled = vl.compile({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', ...spec } as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Latency against load (the serving levels of HTTP sides): achieved request throughput on x, TTFT and TPOT at p50
 * and p99 on y, one line per side and statistic, closed and open loop levels alike.
 */
export function servingSpec(results: ResultsFile): Spec | null {
  const s = scenario(results, 'throughput');
  const rows = (s ? loadCases(s) : []).flatMap((c) => {
    const x = c.summary.requestsPerSec?.mean;
    if (x === undefined) return [];
    const side = `${c.engine} (${roleOf(c) ?? '?'}) ${c.params.requestRate !== undefined ? 'open loop' : 'closed loop'}`;
    return (['ttftMs', 'tpotMs'] as const).flatMap((m) => {
      const d = c.pooled[m];
      if (!d) return [];
      const name = m === 'ttftMs' ? 'TTFT' : 'TPOT';
      return [
        { series: `${side} ${name} p50`, rps: x, ms: d.p50, level: loadLevel(c) },
        { series: `${side} ${name} p99`, rps: x, ms: d.p99, level: loadLevel(c) },
      ];
    });
  });
  if (rows.length === 0) return null;
  return {
    title: 'Latency against load (served sides: p50 and p99)',
    data: { values: rows },
    width: 420,
    height: 240,
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'rps', type: 'quantitative', title: 'achieved requests/s' },
      y: { field: 'ms', type: 'quantitative', title: 'ms', scale: { type: 'log' } },
      color: { field: 'series', type: 'nominal', title: null },
      order: { field: 'rps', type: 'quantitative' },
      tooltip: [{ field: 'level' }, { field: 'ms', type: 'quantitative', format: '.1f' }],
    },
  };
}

export interface Chart {
  id: string;
  title: string;
  svg: string;
}

export async function renderCharts(results: ResultsFile): Promise<Chart[]> {
  const specs: [string, Spec | null][] = [
    ['throughput', throughputSpec(results)],
    ['batch', batchSpec(results)],
    ['context', contextSpec(results)],
    ['steps', stepsSpec(results)],
    ['frontier', frontierSpec(results)],
    ['serving', servingSpec(results)],
  ];
  const charts: Chart[] = [];
  for (const [id, spec] of specs) {
    if (spec) charts.push({ id, title: String(spec.title), svg: await renderSvg(spec) });
  }
  return charts;
}
