/**
 * Per-case telemetry: the samples that fall inside a phase [startMs, endMs] (host clock, see clock.ts), reduced to
 * CaseTelemetry. Pure functions over recorded samples.
 *
 * Across several GPUs: utilization is pooled over every selected GPU's samples (mean and p95), while memory, power
 * and energy are additive (sums of the per-GPU peak, mean and integral), i.e. what the selected boards used together.
 */
import { at, first, last } from '../util/indexing.js';
import type { CaseTelemetry } from './schema.js';
import { mean, percentile } from '../stats/index.js';
import type { GpuSample } from './nvidia-smi.js';
import type { ProcessSample } from './process-sampler.js';

export interface Phase {
  startMs: number;
  endMs: number;
}

export interface AttributionInput {
  gpu: readonly GpuSample[];
  process: readonly ProcessSample[];
}

export interface AttributionOptions {
  /** nvidia-smi indices of the GPUs the engine ran on; undefined: all GPUs seen. */
  gpuIndices?: readonly number[];
}

export function inPhase(t: number, phase: Phase): boolean {
  return t >= phase.startMs && t <= phase.endMs;
}

/** Mean and percentile from src/stats, undefined (field left out) instead of NaN when there are no samples. */
const meanOf = (xs: readonly number[]) => (xs.length ? mean(xs) : undefined);
const percentileOf = (xs: readonly number[], q: number) => (xs.length ? percentile(xs, q) : undefined);

/**
 * Energy in joules over the phase from power samples (W) of one GPU, by the trapezoid rule between samples. Before
 * the first and after the last sample the power is held at that sample's value, so the integral spans the whole
 * phase (nvidia-smi samples at ~100 ms would otherwise miss up to an interval at each edge of a short phase).
 * Points must lie inside the phase; undefined when there are none.
 */
export function integrateEnergyJoules(
  points: readonly { tMs: number; watts: number }[],
  phase: Phase,
): number | undefined {
  if (points.length === 0) return undefined;
  const p = [...points].sort((a, b) => a.tMs - b.tMs);
  const head = first(p);
  const tail = last(p);
  let wattMs = head.watts * (head.tMs - phase.startMs) + tail.watts * (phase.endMs - tail.tMs);
  p.slice(1).forEach((cur, i) => {
    const prev = at(p, i);
    wattMs += ((prev.watts + cur.watts) / 2) * (cur.tMs - prev.tMs);
  });
  return wattMs / 1000;
}

// A loop, not Math.max(...xs): hours of 100 ms samples would overflow the argument list.
function max(xs: readonly number[]): number {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  return m;
}

function nonNull(xs: readonly (number | null)[]): number[] {
  return xs.filter((x): x is number => x !== null);
}

/**
 * CaseTelemetry for one phase. `tokens` is the generated-token count of the phase (energy per token is left out
 * when it is not positive). `samples` counts the GPU sample lines (one per selected GPU per tick) plus the process
 * samples inside the phase; with none, every figure is undefined.
 * CPU utilization is given both as % of one core (top-style) and as % of all cores, weighted by each sample's
 * interval.
 */
export function attributePhase(
  input: AttributionInput,
  phase: Phase,
  tokens: number,
  options: AttributionOptions = {},
): CaseTelemetry {
  const wanted = options.gpuIndices ? new Set(options.gpuIndices) : null;
  const gpu = input.gpu.filter((s) => inPhase(s.hostTimeMs, phase) && (!wanted || wanted.has(s.index)));
  const proc = input.process.filter((s) => inPhase(s.hostTimeMs, phase));
  const out: CaseTelemetry = { samples: gpu.length + proc.length };

  const util = nonNull(gpu.map((s) => s.utilizationGpuPct));
  out.gpuUtilizationPctMean = meanOf(util);
  out.gpuUtilizationPctP95 = percentileOf(util, 0.95);

  const byGpu = new Map<number, GpuSample[]>();
  for (const s of gpu) {
    const list = byGpu.get(s.index) ?? [];
    list.push(s);
    byGpu.set(s.index, list);
  }
  let memPeak: number | undefined;
  let powerMean: number | undefined;
  let energy: number | undefined;
  for (const list of byGpu.values()) {
    const mem = nonNull(list.map((s) => s.memoryUsedBytes));
    if (mem.length > 0) memPeak = (memPeak ?? 0) + max(mem);
    const power = list
      .filter((s) => s.powerWatts !== null)
      .map((s) => ({ tMs: s.hostTimeMs, watts: s.powerWatts as number }));
    const pm = meanOf(power.map((x) => x.watts));
    if (pm !== undefined) powerMean = (powerMean ?? 0) + pm;
    const e = integrateEnergyJoules(power, phase);
    if (e !== undefined) energy = (energy ?? 0) + e;
  }
  out.gpuMemoryPeakBytes = memPeak;
  out.gpuPowerWattsMean = powerMean;
  out.energyJoulesPerToken = energy !== undefined && tokens > 0 ? energy / tokens : undefined;

  const totalInterval = proc.reduce((a, s) => a + s.intervalMs, 0);
  const weighted = (pick: (s: ProcessSample) => number) =>
    totalInterval > 0 ? proc.reduce((a, s) => a + pick(s) * s.intervalMs, 0) / totalInterval : undefined;
  out.cpuUtilizationPctOfOneCore = weighted((s) => s.cpuPctOfCore);
  out.cpuUtilizationPctOfAllCores = weighted((s) => s.cpuPctOfAllCores);
  out.rssPeakBytes = proc.length > 0 ? max(proc.map((s) => s.rssBytes)) : undefined;

  // Keep the JSON free of `"x": undefined` noise: drop absent figures.
  for (const k of Object.keys(out) as (keyof CaseTelemetry)[]) if (out[k] === undefined) delete out[k];
  return out;
}
