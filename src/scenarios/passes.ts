/**
 * Passes over the engines (sampling.passes): the run opens every engine once per pass, in alternating order (ABBA:
 * the engines in order, then in reverse), and each pass measures every case with its share of the repetitions and
 * time. A case measured in a later pass is merged into what the earlier passes measured, so results hold one case
 * per id whose repetitions record their pass; claims resample by pass (stats/bootstrap.ts, blockBootstrap).
 */
import type { CaseResult, Warning } from '../results/types.js';
import { summarizeCase } from '../results/summary.js';
import { caseVariation, variationMessage, type SamplingPolicy } from './measure.js';

/** The engines' order in pass `index`: as given in even passes, reversed in odd ones (A B, B A, A B, ...). */
export function passOrder<T>(items: readonly T[], index: number): T[] {
  return index % 2 === 0 ? [...items] : [...items].reverse();
}

/** One pass's share of a case's budget: the minimum count and time divided over the passes (at least one repetition). */
export function passShare(repetitions: number, policy: SamplingPolicy, passes: number): { repetitions: number; sampling: SamplingPolicy } {
  return { repetitions: Math.max(1, Math.ceil(repetitions / passes)), sampling: { ...policy, minTimeMs: policy.minTimeMs / passes } };
}

/**
 * A case measured again in a later pass, merged into the earlier passes' case of the same id: the repetitions
 * appended (each records its pass), the summaries computed again over all of them, the sampling record summed; the
 * first pass's quality, efficiency, telemetry and links kept. A later pass that errored or was interrupted gives the
 * merged case its state and error (the repetitions measured before are kept).
 */
export function mergePass(prev: CaseResult, next: CaseResult): CaseResult {
  const samples = [...prev.samples, ...next.samples];
  const a = prev.sampling;
  const b = next.sampling;
  const sampling =
    a && b
      ? {
          ...a,
          minRepetitions: a.minRepetitions + b.minRepetitions,
          minTimeSec: a.minTimeSec + b.minTimeSec,
          measuredSec: a.measuredSec + b.measuredSec,
          stoppedBy: b.stoppedBy,
          positions: [...a.positions, ...b.positions],
          passes: (a.passes ?? 1) + 1,
        }
      : (a ?? b);
  const state = prev.state === 'completed' && next.state !== 'completed' ? next.state : prev.state;
  const errorOf = (c: CaseResult) => ('error' in c ? c.error : undefined);
  const error = state === prev.state ? errorOf(prev) : errorOf(next);
  const rest: Record<string, unknown> = { ...prev };
  delete rest.variation;
  delete rest.error;
  return {
    ...rest,
    state,
    ...(error !== undefined ? { error } : {}),
    samples,
    ...summarizeCase(samples),
    ...(sampling ? { sampling } : {}),
    ...(next.requestFailures && !prev.requestFailures ? { requestFailures: next.requestFailures } : {}),
  } as CaseResult;
}

/** The variation verdict of a merged case (over every pass), with its warning when flagged. */
export function judgeVariation(c: CaseResult, maxRelativeSpread: number): { case: CaseResult; warning: Warning | null } {
  if (c.state !== 'completed') return { case: c, warning: null };
  const v = caseVariation(c.summary, maxRelativeSpread);
  if (!v) return { case: c, warning: null };
  return { case: { ...c, variation: v }, warning: v.flagged ? { code: 'high-variation', message: variationMessage(c.id, v, c.samples.length) } : null };
}
