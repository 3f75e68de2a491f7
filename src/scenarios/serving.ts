/**
 * Serving figures of one HTTP load run (closed or open loop), as vLLM's benchmark_serving defines them: request
 * throughput (completed requests / wall time) and goodput (completed requests that met every latency target /
 * wall time). TPOT of one request: (e2e - TTFT) / (output tokens - 1); a request with one token has no TPOT and
 * meets a TPOT target trivially, as in vLLM.
 */
import type { Slo } from '../config/schema.js';

export interface ServedRequest {
  ttftMs: number | null;
  e2eMs: number;
  outputTokens: number;
  /** Set when the request failed. */
  error?: unknown;
}

/** The request's TPOT, null with fewer than two tokens or no first-token time. */
export function requestTpotMs(r: ServedRequest): number | null {
  return r.ttftMs !== null && r.outputTokens > 1 ? (r.e2eMs - r.ttftMs) / (r.outputTokens - 1) : null;
}

/** Whether a completed request met every target of the SLO (a missing TTFT fails a TTFT target). */
export function meetsSlo(r: ServedRequest, slo: Slo): boolean {
  if (r.error !== undefined) return false;
  if (slo.ttftMs !== undefined && (r.ttftMs === null || r.ttftMs > slo.ttftMs)) return false;
  const tpot = requestTpotMs(r);
  if (slo.tpotMs !== undefined && tpot !== null && tpot > slo.tpotMs) return false;
  if (slo.e2eMs !== undefined && r.e2eMs > slo.e2eMs) return false;
  return true;
}

/** Completed requests / s and, with an SLO, goodput / s over a run of `wallMs`. */
export function servingRates(records: readonly ServedRequest[], wallMs: number, slo: Slo | undefined): { requestsPerSec: number; goodputRequestsPerSec?: number } {
  const sec = wallMs / 1000;
  const ok = records.filter((r) => r.error === undefined);
  const out: { requestsPerSec: number; goodputRequestsPerSec?: number } = { requestsPerSec: sec > 0 ? ok.length / sec : 0 };
  if (slo) out.goodputRequestsPerSec = sec > 0 ? ok.filter((r) => meetsSlo(r, slo)).length / sec : 0;
  return out;
}

