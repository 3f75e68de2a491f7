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
  cpuUtilizationPctOfOneCore: z.number().optional().describe('process CPU time over wall time, 100 = one core busy (top-style: 167 on 2 cores)'),
  cpuUtilizationPctOfAllCores: z.number().optional().describe('the same over every core the process may use, 0..100'),
  rssPeakBytes: z.number().optional(),
  samples: z.number().int().nonnegative().describe('telemetry samples that fell inside the case'),
});
export type CaseTelemetry = z.infer<typeof CaseTelemetry>;

/**
 * MFU and MBU of a set of forward passes. In-run: over the time inside the runtime (session.run); end to end: over
 * the request's wall time (PaLM's MFU), host overhead included. MBU's bytes are what a forward must read from
 * device memory at the least: the weights and the KV cache (activations left out).
 */
export const PhaseEfficiency = z.strictObject({
  forwards: z.number().nonnegative().describe('forward passes per request (mean)'),
  flopsPerForward: z.number().nonnegative(),
  bytesPerForward: z.number().nonnegative().describe('weights + KV cache read per forward'),
  inRunMsPerForward: z.number().nonnegative().describe('time inside session.run per forward'),
  endToEndMsPerForward: z.number().nonnegative().describe('wall time per forward, host overhead included'),
  mfuInRun: z.number().nullable().describe('model FLOPs utilization over session.run time, 0..1; null when the peak is unknown'),
  mfuEndToEnd: z.number().nullable().describe('model FLOPs utilization over wall time, 0..1'),
  mbuInRun: z.number().nullable().describe('memory-bandwidth utilization over session.run time, 0..1'),
  mbuEndToEnd: z.number().nullable(),
});
export type PhaseEfficiency = z.infer<typeof PhaseEfficiency>;

/** Hardware efficiency from the architecture and the measured time, against this engine's own device and dtype. */
export const Efficiency = z.strictObject({
  ...PhaseEfficiency.shape,
  peakTflops: z.number().nullable().describe("the engine's device peak for its dtype, dense"),
  peakMemoryBandwidthGBps: z.number().nullable(),
  peakSource: z.string().nullable().describe('which peak table entry was used, e.g. "NVIDIA H100 80GB HBM3 (H100 SXM) fp16 dense"'),
  prefill: PhaseEfficiency.optional().describe('AR: the prompt forward (end to end: the time to first token)'),
  decode: PhaseEfficiency.optional().describe('AR: the cached one-token steps (end to end: wall time after the first token); MBU is the figure that matters'),
});
export type Efficiency = z.infer<typeof Efficiency>;
