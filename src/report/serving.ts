/**
 * The serving table, for every exporter: the HTTP load levels of a scenario (closed-loop concurrency, open-loop
 * request rate), one row each, as vLLM's benchmark_serving reports them: request throughput, goodput against the
 * SLO targets, output tokens/s, and TTFT, TPOT and ITL at p50 / p90 / p99 (every request, answer or gap of every
 * repetition pooled).
 */
import type { CaseResult, CompletedCase, ScenarioResult } from '../results/types.js';
import { roleOf } from '../results/sides.js';
import { fmt, pm } from '../util/format.js';

export interface ServingTable {
  head: string[];
  rows: string[][];
  note: string;
}

/** The load level of an HTTP case in words: "concurrency 4", "4 req/s (poisson)", "inf req/s". */
export function loadLevel(c: CaseResult): string | null {
  const p = c.params;
  if (p.concurrency !== undefined) return `concurrency ${p.concurrency}`;
  if (p.requestRate !== undefined) return `${p.requestRate} req/s${p.requestRate === 'inf' ? '' : ` (${p.arrival ?? 'poisson'})`}`;
  return null;
}

export const loadCases = (s: ScenarioResult): CompletedCase[] =>
  s.cases.filter((c): c is CompletedCase => c.state === 'completed' && (c.params.concurrency !== undefined || c.params.requestRate !== undefined));

const p3 = (d: { p50: number; p90: number; p99: number } | undefined, digits: number) => (d ? `${fmt(d.p50, digits)} / ${fmt(d.p90, digits)} / ${fmt(d.p99, digits)}` : '-');

/** Null when the scenario has no HTTP load case. */
export function servingTable(s: ScenarioResult): ServingTable | null {
  const cases = loadCases(s);
  if (!cases.length) return null;
  const slo = cases.find((c) => c.slo)?.slo;
  const head = ['side', 'load', 'req/s', 'goodput req/s', 'out tok/s', 'TTFT p50/p90/p99 ms', 'TPOT p50/p90/p99 ms', 'ITL p50/p90/p99 ms', 'errors', 'n'];
  const rows = cases.map((c) => [
    `${c.engine} (${roleOf(c) ?? '?'})`,
    loadLevel(c)!,
    pm(c.summary.requestsPerSec),
    c.summary.goodputRequestsPerSec ? pm(c.summary.goodputRequestsPerSec) : '-',
    pm(c.summary.tokensPerSec),
    p3(c.pooled.ttftMs, 1),
    p3(c.pooled.tpotMs, 2),
    p3(c.pooled.itlMs, 2),
    String(c.samples.reduce((a, x) => a + (x.errors ?? 0), 0)),
    String(c.samples.length),
  ]);
  const targets = slo ? [slo.ttftMs !== undefined ? `TTFT <= ${slo.ttftMs} ms` : '', slo.tpotMs !== undefined ? `TPOT <= ${slo.tpotMs} ms` : '', slo.e2eMs !== undefined ? `e2e <= ${slo.e2eMs} ms` : ''].filter(Boolean).join(', ') : '';
  const note =
    'closed loop (a fixed number of requests in flight) and open loop (requests arrive at the rate, whether or not earlier ones finished); ' +
    'rates mean ± sd over repetitions, latencies pooled over every request, answer or gap; ' +
    (slo ? `goodput: completed requests per second that met every target (${targets})` : 'goodput: set targets with --slo ttft=500ms,tpot=50ms');
  return { head, rows, note };
}
