/**
 * The host clock every telemetry sample and every phase boundary is stamped with: ms since the Unix epoch from the
 * monotonic clock. `performance.timeOrigin` differs per thread, but timeOrigin + now() is absolute, so a phase timed
 * inside an engine worker thread lines up with samples taken on the main thread.
 */
import { performance } from 'node:perf_hooks';

export function hostNowMs(): number {
  return performance.timeOrigin + performance.now();
}
