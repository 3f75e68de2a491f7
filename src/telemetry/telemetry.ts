/**
 * The telemetry a benchmark run starts once and stops at the end: nvidia-smi (when present) plus this process's CPU
 * and RSS, all on the host clock (clock.ts: pass hostNowMs() phase boundaries to phase()).
 *
 * Status: `nvidia-smi` when it delivered samples; otherwise `process` (CPU/RSS only), with a typed warning carrying
 * the reason GPU telemetry is missing.
 */
import type { Warning } from '../config/kinds.js';
import type { CaseTelemetry, TelemetryStatus } from './schema.js';
import { attributePhase } from './attribute.js';
import { startNvidiaSmi, type GpuSample, type NvidiaSmiSampler, type NvidiaSmiStatus } from './nvidia-smi.js';
import { startProcessSampler, type ProcessSample } from './process-sampler.js';

export interface TelemetryOptions {
  /** Sample interval for both samplers, ms (100 is nvidia-smi's practical floor; NVML itself updates slower). */
  intervalMs: number;
  /** nvidia-smi executable; default $DLLM_BENCH_NVIDIA_SMI, else `nvidia-smi` on PATH. */
  nvidiaSmiPath?: string;
  /** false: do not start nvidia-smi at all (CPU runs). Default true. */
  gpu?: boolean;
  /** nvidia-smi indices the engine runs on; default from gpuIndicesFromEnv(). */
  gpuIndices?: readonly number[];
  /** Where CUDA_VISIBLE_DEVICES is read; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface Telemetry {
  /** Whole-run status now (process-sourced until nvidia-smi has delivered a sample). */
  status(): TelemetryStatus;
  /** Telemetry for one case: samples inside [startMs, endMs] (hostNowMs clock); tokens = generated tokens. */
  phase(startMs: number, endMs: number, tokens: number): CaseTelemetry;
  /** Raw samples (live view; do not mutate). */
  samples(): { gpu: readonly GpuSample[]; process: readonly ProcessSample[] };
  /** Typed, actionable warnings so far (complete after stop()). */
  warnings(): Warning[];
  /** Stops both samplers; phase() keeps working on what was collected. Safe to call twice. */
  stop(): Promise<TelemetryStatus>;
}

/**
 * Which nvidia-smi indices a CUDA session on device 0 uses. nvidia-smi ignores CUDA_VISIBLE_DEVICES and numbers
 * GPUs in PCI order; CUDA device 0 is the first visible one. Numeric lists map directly (same order assumed:
 * true unless CUDA_DEVICE_ORDER differs on a mixed-GPU box); UUID/MIG lists cannot be mapped: all GPUs (undefined).
 */
export function gpuIndicesFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): {
  gpuIndices: number[] | undefined;
  warning?: Warning;
} {
  const cvd = env.CUDA_VISIBLE_DEVICES?.trim();
  if (cvd === undefined || cvd === '') return { gpuIndices: [0] };
  const first = (cvd.split(',')[0] ?? '').trim();
  if (/^\d+$/.test(first)) return { gpuIndices: [Number(first)] };
  return {
    gpuIndices: undefined,
    warning: {
      code: 'telemetry-gpu-selection',
      message:
        `CUDA_VISIBLE_DEVICES=${cvd} is not a list of indices, so GPU telemetry covers every GPU nvidia-smi reports; ` +
        'use numeric indices to attribute it to the benchmarked GPU only',
    },
  };
}

export function startTelemetry(options: TelemetryOptions): Telemetry {
  const intervalMs = options.intervalMs;
  const fromEnv = gpuIndicesFromEnv(options.env);
  const gpuIndices = options.gpuIndices ?? fromEnv.gpuIndices;
  const setupWarnings: Warning[] = !options.gpuIndices && fromEnv.warning ? [fromEnv.warning] : [];
  const gpuSampler: NvidiaSmiSampler | null =
    options.gpu === false ? null : startNvidiaSmi({ intervalMs, path: options.nvidiaSmiPath });
  const proc = startProcessSampler({ intervalMs });
  let final: { status: TelemetryStatus; warnings: Warning[] } | null = null;
  let stopping: Promise<TelemetryStatus> | null = null;

  const processStatus = (): TelemetryStatus => ({
    state: 'available',
    source: 'process',
    sampleIntervalMs: intervalMs,
    samples: proc.samples().length,
  });

  const gpuWarning = (st: NvidiaSmiStatus | TelemetryStatus): Warning[] =>
    st.state === 'unavailable'
      ? [{ code: 'telemetry-gpu-unavailable', message: `GPU telemetry unavailable: ${st.reason}` }]
      : [];

  return {
    status() {
      if (final) return final.status;
      const st = gpuSampler?.status();
      if (st?.state === 'available') {
        return { state: 'available', source: 'nvidia-smi', sampleIntervalMs: intervalMs, samples: st.samples };
      }
      return processStatus();
    },
    phase(startMs, endMs, tokens) {
      return attributePhase(
        { gpu: gpuSampler?.samples() ?? [], process: proc.samples() },
        { startMs, endMs },
        tokens,
        { gpuIndices },
      );
    },
    samples: () => ({ gpu: gpuSampler?.samples() ?? [], process: proc.samples() }),
    warnings() {
      if (final) return [...final.warnings];
      const st = gpuSampler?.status();
      return [...setupWarnings, ...(gpuSampler?.warnings() ?? []), ...(st ? gpuWarning(st) : [])];
    },
    stop() {
      stopping ??= (async () => {
        proc.stop();
        if (!gpuSampler) {
          final = { status: processStatus(), warnings: setupWarnings };
          return final.status;
        }
        const r = await gpuSampler.stop();
        final = {
          status: r.status.state === 'available' ? r.status : processStatus(),
          warnings: [...setupWarnings, ...r.warnings, ...gpuWarning(r.status)],
        };
        return final.status;
      })();
      return stopping;
    },
  };
}
