/** The engines' stay in memory (one resident at a time) and the cases the memory plan skipped, for every format. */
import type { ResultsFile } from '../results/types.js';

const mib = (b: number | null | undefined) => (b === null || b === undefined ? '-' : `${(b / 2 ** 20).toFixed(0)} MiB`);

export const ENGINE_COLUMNS = ['order', 'engine', 'model', 'state', 'load (s)', 'peak RSS', 'GPU memory', 'plan estimate'];

/** One row per engine in the order they were opened; [] for files written before engines were recorded. */
export function engineRows(results: ResultsFile): string[][] {
  return (results.engines ?? []).map((e) => [
    String(e.order),
    e.engine,
    e.model,
    e.state === 'completed' ? 'completed' : `${e.state}${e.reason ? `: ${e.reason}` : ''}`,
    e.loadMs === null ? '-' : (e.loadMs / 1000).toFixed(2),
    mib(e.rssPeakBytes),
    mib(e.gpuMemoryPeakBytes),
    mib(e.plannedBytes),
  ]);
}

export const ENGINES_NOTE =
  'Engines are opened one at a time, in this order, and closed before the next opens. Load = session creation; peak RSS is the whole process while the engine was open (CPU); GPU memory is this process on nvidia-smi; the plan estimate is weights + KV cache + activations of its largest case.';

/** "id: reason" for each case the memory plan refused (not measured: missing, never a failure). */
export function skippedLines(results: ResultsFile): string[] {
  return (results.skippedCases ?? []).map((s) => `${s.id}: ${s.reason}`);
}

export const SKIPPED_TITLE = 'Cases skipped by the memory plan (not measured)';
