/** The shapes telemetry hands to results.json, defined once as zod schemas (results/schema.ts embeds them). */
import { z } from 'zod';

export const GpuInfo = z.strictObject({
  index: z.number().int().nonnegative(),
  name: z.string(),
  driver: z.string().nullable(),
  memoryTotalBytes: z.number().nonnegative().nullable(),
});
export type GpuInfo = z.infer<typeof GpuInfo>;

/** Whole-run telemetry: where the figures came from, or why there are none. */
export const TelemetryStatus = z.discriminatedUnion('state', [
  z.strictObject({
    state: z.literal('available'),
    source: z.enum(['nvidia-smi', 'process']),
    sampleIntervalMs: z.number().positive(),
    samples: z.number().int().nonnegative(),
  }),
  z.strictObject({ state: z.literal('unavailable'), reason: z.string() }),
]);
export type TelemetryStatus = z.infer<typeof TelemetryStatus>;

/** Telemetry attributed to one case's measured repetitions (warmup excluded). */
export const CaseTelemetry = z.strictObject({
  gpuUtilizationPctMean: z.number().optional().describe("nvidia-smi utilization.gpu: share of time any kernel ran, not how busy the SMs were"),
  gpuUtilizationPctP95: z.number().optional(),
  gpuMemoryPeakBytes: z.number().optional(),
  gpuPowerWattsMean: z.number().optional(),
  energyJoulesPerToken: z.number().optional(),
  cpuUtilizationPctMean: z.number().optional().describe('process CPU time over wall time, 100 = one core'),
  rssPeakBytes: z.number().optional(),
  samples: z.number().int().nonnegative().describe('telemetry samples that fell inside the case'),
});
export type CaseTelemetry = z.infer<typeof CaseTelemetry>;

/** Hardware efficiency from the architecture and the measured time. */
export const Efficiency = z.strictObject({
  flopsPerForward: z.number().nonnegative(),
  bytesPerForward: z.number().nonnegative(),
  mfu: z.number().nullable().describe('model FLOPs utilization, 0..1, against the device peak for the dtype; null when the peak is unknown'),
  mbu: z.number().nullable().describe('memory-bandwidth utilization, 0..1; null when the peak is unknown'),
  peakSource: z.string().nullable().describe('which peak table entry was used, e.g. "NVIDIA H100 80GB HBM3 (SXM) fp16 dense"'),
});
export type Efficiency = z.infer<typeof Efficiency>;
