/**
 * Model work of a request from the architecture (FLOPs, and the bytes MBU counts: weights + KV cache read), with the
 * times it took: in run (session.run) and end to end (wall clock); AR split into the prefill and the decode steps
 * at the first token. A case's efficiency divides the work summed over its repetitions by its engine's own peak.
 */
import type { EngineInfo, EngineKind, GenerateOutput, GenerateRequest } from '../engines/types.js';
import type { TransformerSpec } from '../models/spec.js';
import type { CaseParams, Efficiency } from '../results/types.js';
import { type ForwardCost, type PhaseWork, NO_WORK, addWork, forwardCost, phaseEfficiency } from '../telemetry/flops.js';
import type { PeakFigures } from '../telemetry/peaks.js';
import { at } from '../util/indexing.js';

/** What FLOPs and bytes per request are computed from. */
export interface CostSubject {
  kind: EngineKind;
  info: Pick<EngineInfo, 'dtype'>;
  /** Architecture (null over HTTP): FLOPs and bytes for MFU/MBU. */
  spec: TransformerSpec | null;
}

/** Model work of one request by phase: `all` its forwards; AR also splits them into the prefill and decode steps. */
export interface RequestWork {
  all: PhaseWork;
  prefill?: PhaseWork;
  decode?: PhaseWork;
}

const costWork = (c: ForwardCost, forwards: number): PhaseWork => ({ forwards, flops: c.flops * forwards, memoryBytes: c.memoryBytes * forwards, inRunMs: 0, endToEndMs: 0 });

/**
 * FLOPs and bytes (weights + KV read) for one request's `nfe` forwards, from the architecture (null without one);
 * times are left 0 for the caller. LLaDA: nfe full forwards over prompt + answer (2B rows with CFG), logits over
 * the answer only. AR: a prefill over the prompt, then nfe - 1 one-token decode steps over a growing cache.
 */
export function requestCost(h: CostSubject, req: GenerateRequest, nfe: number, params: CaseParams): RequestWork | null {
  const spec = h.spec;
  if (!spec) return null;
  const dtypeBytes = h.info.dtype === 'fp16' ? 2 : 4;
  const B = req.prompts.length;
  const P = Math.max(...req.prompts.map((p) => p.length));
  if (h.kind === 'llada') {
    const rows = params.cfgScale ? 2 * B : B;
    const L = P + req.genLength;
    const cost = (seqLen: number, pastLen: number, logitsPositions: number) =>
      forwardCost(spec, { batch: rows, seqLen, pastLen, logitsPositions, dtypeBytes, attention: 'bidirectional' });
    if (!params.cache || params.cache === 'none') return { all: costWork(cost(L, 0, req.genLength), nfe) };
    // Cached: one full forward per block, the other calls block-only (prefix: s..L-1 over the cached 0..s-1;
    // dual: the block over all L rows). The trace does not say which block a call served: spread them evenly.
    const blk = params.blockLength ?? req.genLength;
    const blocks = req.genLength / blk;
    const perBlock = Math.max(0, nfe - blocks) / blocks;
    let all = NO_WORK;
    for (let k = 0; k < blocks; k++) {
      const s = P + k * blk;
      const only = params.cache === 'prefix' ? cost(L - s, s, blk) : cost(blk, L - blk, blk);
      all = addWork(all, addWork(costWork(cost(L, 0, blk), 1), costWork(only, perBlock)));
    }
    return { all };
  }
  const prefill = costWork(forwardCost(spec, { batch: B, seqLen: P, pastLen: 0, logitsPositions: 1, dtypeBytes, attention: 'causal' }), 1);
  let decode = NO_WORK;
  for (let i = 1; i < nfe; i++) {
    decode = addWork(decode, costWork(forwardCost(spec, { batch: B, seqLen: 1, pastLen: P + i - 1, logitsPositions: 1, dtypeBytes, attention: 'causal' }), 1));
  }
  return { all: addWork(prefill, decode), prefill, decode };
}

/** A request's work with its measured times: in-run from the trace, end to end from the wall clock. */
export function timedWork(cost: RequestWork, o: GenerateOutput): RequestWork {
  const all = { ...cost.all, inRunMs: o.forwardMs, endToEndMs: o.totalMs };
  if (!cost.prefill || !cost.decode || o.trace.length === 0) return { all };
  const first = at(o.trace, 0, 'o.trace');
  const prefillRun = first.durationMs;
  // End to end, the prefill lasts until the first token is out (every row gets it from the same forward).
  const firstTokens = (o.tokenTimesMs ?? []).map((t) => t[0]).filter((t): t is number => t !== undefined);
  const prefillWall = Math.min(o.totalMs, firstTokens.length ? Math.min(...firstTokens) : first.startMs + first.durationMs);
  return {
    all,
    prefill: { ...cost.prefill, inRunMs: prefillRun, endToEndMs: prefillWall },
    decode: { ...cost.decode, inRunMs: o.forwardMs - prefillRun, endToEndMs: o.totalMs - prefillWall },
  };
}

/** Sums of request work; a phase is kept only when every request has it. */
export function addRequestWork(a: RequestWork, b: RequestWork): RequestWork {
  const out: RequestWork = { all: addWork(a.all, b.all) };
  if (a.prefill && b.prefill) out.prefill = addWork(a.prefill, b.prefill);
  if (a.decode && b.decode) out.decode = addWork(a.decode, b.decode);
  return out;
}

/** A case's efficiency from its repetitions' summed work, against the engine's own peak. */
export function caseEfficiency(work: RequestWork, requests: number, peak: PeakFigures): Efficiency {
  const e: Efficiency = {
    ...phaseEfficiency(work.all, requests, peak),
    peakTflops: peak.flopsPerSec === null ? null : peak.flopsPerSec / 1e12,
    peakMemoryBandwidthGBps: peak.bytesPerSec === null ? null : peak.bytesPerSec / 1e9,
    peakSource: peak.source,
  };
  if (work.prefill && work.prefill.forwards > 0) e.prefill = phaseEfficiency(work.prefill, requests, peak);
  if (work.decode && work.decode.forwards > 0) e.decode = phaseEfficiency(work.decode, requests, peak);
  return e;
}

/** Nothing yet, every phase present: the start of a sum over requests (addRequestWork keeps the phases all have). */
export const NO_REQUEST_WORK: RequestWork = { all: NO_WORK, prefill: NO_WORK, decode: NO_WORK };
