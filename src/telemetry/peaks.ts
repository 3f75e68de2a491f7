/**
 * Device peak figures for MFU/MBU. Dense figures only: NVIDIA datasheets print tensor throughput "with sparsity"
 * (2:4 structured sparsity, 2x) next to or instead of the dense figure; an inference graph without sparse kernels
 * can never reach the sparse one. Where a datasheet prints only the sparse figure, the row halves it (comment says).
 *
 * fp32 is the non-tensor FP32 figure. onnxruntime's CUDA provider may run fp32 MatMul on TF32 tensor cores
 * (use_tf32), in which case an fp32 MFU above 1 is possible and says exactly that.
 * GeForce cards: the fp16 tensor figure with FP32 accumulate (what cuBLAS uses for fp16 GEMM in onnxruntime);
 * the FP16-accumulate figure is twice that.
 */

export type PeakDtype = 'fp16' | 'bf16' | 'fp32';

export interface DevicePeak {
  /** Stable id, e.g. 'h100-sxm'. */
  id: string;
  /** Human label, e.g. 'H100 SXM'. */
  label: string;
  /** Dense FP16 tensor-core TFLOPS. */
  fp16TensorTflops: number | null;
  /** Dense BF16 tensor-core TFLOPS (null where the architecture has no BF16 tensor path). */
  bf16TensorTflops: number | null;
  /** Non-tensor FP32 TFLOPS. */
  fp32Tflops: number | null;
  /** Peak DRAM/HBM bandwidth, GB/s (10^9 bytes/s). */
  memoryBandwidthGBps: number | null;
}

interface PeakRow extends DevicePeak {
  /** Tested against the normalized nvidia-smi name (lower case, single spaces, vendor prefixes kept). */
  matches(name: string): boolean;
}

const has = (name: string, word: string) => new RegExp(`(^|[^a-z0-9])${word}($|[^a-z0-9])`).test(name);

// Order matters: the more specific variant of a family comes first.
const ROWS: readonly PeakRow[] = [
  // H100 datasheet (NVL, per GPU, 94 GB): BF16/FP16 1,671 TFLOPS with sparsity -> 835.5 dense; FP32 60; 3.9 TB/s.
  {
    id: 'h100-nvl', label: 'H100 NVL',
    fp16TensorTflops: 835.5, bf16TensorTflops: 835.5, fp32Tflops: 60, memoryBandwidthGBps: 3900,
    matches: (n) => has(n, 'h100') && has(n, 'nvl'),
  },
  // H100 datasheet (PCIe, 80 GB): BF16/FP16 1,513 TFLOPS with sparsity -> 756.5 dense; FP32 51; 2 TB/s.
  {
    id: 'h100-pcie', label: 'H100 PCIe',
    fp16TensorTflops: 756.5, bf16TensorTflops: 756.5, fp32Tflops: 51, memoryBandwidthGBps: 2000,
    matches: (n) => has(n, 'h100') && has(n, 'pcie'),
  },
  // H100 datasheet (SXM, 80 GB, "NVIDIA H100 80GB HBM3"): BF16/FP16 1,979 TFLOPS with sparsity -> 989.5 dense;
  // FP32 67; 3.35 TB/s. Any other H100 name lands here (assumed SXM).
  {
    id: 'h100-sxm', label: 'H100 SXM',
    fp16TensorTflops: 989.5, bf16TensorTflops: 989.5, fp32Tflops: 67, memoryBandwidthGBps: 3350,
    matches: (n) => has(n, 'h100'),
  },
  // H200 datasheet (NVL): BF16/FP16 1,671 TFLOPS with sparsity -> 835.5 dense; FP32 60; 4.8 TB/s.
  {
    id: 'h200-nvl', label: 'H200 NVL',
    fp16TensorTflops: 835.5, bf16TensorTflops: 835.5, fp32Tflops: 60, memoryBandwidthGBps: 4800,
    matches: (n) => has(n, 'h200') && has(n, 'nvl'),
  },
  // H200 datasheet (SXM, "NVIDIA H200"): BF16/FP16 1,979 TFLOPS with sparsity -> 989.5 dense; FP32 67; 4.8 TB/s.
  {
    id: 'h200-sxm', label: 'H200 SXM',
    fp16TensorTflops: 989.5, bf16TensorTflops: 989.5, fp32Tflops: 67, memoryBandwidthGBps: 4800,
    matches: (n) => has(n, 'h200'),
  },
  // A100 datasheet (80GB PCIe, "NVIDIA A100 80GB PCIe"): BF16/FP16 tensor 312 dense (624 sparse); FP32 19.5;
  // 1,935 GB/s.
  {
    id: 'a100-80gb-pcie', label: 'A100 80GB PCIe',
    fp16TensorTflops: 312, bf16TensorTflops: 312, fp32Tflops: 19.5, memoryBandwidthGBps: 1935,
    matches: (n) => has(n, 'a100') && has(n, 'pcie') && n.includes('80gb'),
  },
  // A100 datasheet (40GB PCIe, "NVIDIA A100-PCIE-40GB"): 312 dense; FP32 19.5; 1,555 GB/s.
  {
    id: 'a100-40gb-pcie', label: 'A100 40GB PCIe',
    fp16TensorTflops: 312, bf16TensorTflops: 312, fp32Tflops: 19.5, memoryBandwidthGBps: 1555,
    matches: (n) => has(n, 'a100') && has(n, 'pcie'),
  },
  // A100 datasheet (80GB SXM, "NVIDIA A100-SXM4-80GB"): 312 dense; FP32 19.5; 2,039 GB/s.
  {
    id: 'a100-80gb-sxm', label: 'A100 80GB SXM',
    fp16TensorTflops: 312, bf16TensorTflops: 312, fp32Tflops: 19.5, memoryBandwidthGBps: 2039,
    matches: (n) => has(n, 'a100') && n.includes('80gb'),
  },
  // A100 datasheet (40GB SXM, "NVIDIA A100-SXM4-40GB"): 312 dense; FP32 19.5; 1,555 GB/s.
  {
    id: 'a100-40gb-sxm', label: 'A100 40GB SXM',
    fp16TensorTflops: 312, bf16TensorTflops: 312, fp32Tflops: 19.5, memoryBandwidthGBps: 1555,
    matches: (n) => has(n, 'a100'),
  },
  // L40S datasheet: BF16/FP16 tensor 362.05 dense (733 sparse); FP32 91.6; 864 GB/s.
  {
    id: 'l40s', label: 'L40S',
    fp16TensorTflops: 362.05, bf16TensorTflops: 362.05, fp32Tflops: 91.6, memoryBandwidthGBps: 864,
    matches: (n) => has(n, 'l40s'),
  },
  // L4 datasheet: BF16/FP16 tensor 242 TFLOPS with sparsity -> 121 dense; FP32 30.3; 300 GB/s.
  {
    id: 'l4', label: 'L4',
    fp16TensorTflops: 121, bf16TensorTflops: 121, fp32Tflops: 30.3, memoryBandwidthGBps: 300,
    matches: (n) => has(n, 'l4'),
  },
  // A10 datasheet: BF16/FP16 tensor 125 dense (250 sparse); FP32 31.2; 600 GB/s. (A10G is a different part.)
  {
    id: 'a10', label: 'A10',
    fp16TensorTflops: 125, bf16TensorTflops: 125, fp32Tflops: 31.2, memoryBandwidthGBps: 600,
    matches: (n) => has(n, 'a10'),
  },
  // Ada (AD102) whitepaper, RTX 4090: FP16 tensor with FP32 accumulate 165.2 dense (330.4 sparse); FP32 82.6;
  // 1,008 GB/s. Not the 4090 D or laptop parts.
  {
    id: 'rtx-4090', label: 'GeForce RTX 4090',
    fp16TensorTflops: 165.2, bf16TensorTflops: 165.2, fp32Tflops: 82.6, memoryBandwidthGBps: 1008,
    matches: (n) => /(^|[^a-z0-9])rtx 4090$/.test(n),
  },
  // Ampere (GA102) whitepaper, RTX 3090: FP16 tensor with FP32 accumulate 71 dense (142 sparse); FP32 35.6;
  // 936 GB/s. Not the 3090 Ti.
  {
    id: 'rtx-3090', label: 'GeForce RTX 3090',
    fp16TensorTflops: 71, bf16TensorTflops: 71, fp32Tflops: 35.6, memoryBandwidthGBps: 936,
    matches: (n) => /(^|[^a-z0-9])rtx 3090$/.test(n),
  },
  // T4 datasheet ("Tesla T4"): mixed precision FP16/FP32 65 TFLOPS (Turing: no sparsity, no BF16); FP32 8.1;
  // 320 GB/s.
  {
    id: 't4', label: 'T4',
    fp16TensorTflops: 65, bf16TensorTflops: null, fp32Tflops: 8.1, memoryBandwidthGBps: 320,
    matches: (n) => has(n, 't4'),
  },
];

/** Public view of the table (no matchers). */
export const DEVICE_PEAKS: readonly DevicePeak[] = ROWS.map(({ matches: _m, ...peak }) => peak);

/**
 * CPUs: peaks depend on core count, clocks and SIMD width, which nothing here measures. Unknown, so MFU/MBU are
 * null unless the user gives the numbers (PeakOverride).
 */
export const GENERIC_CPU: DevicePeak = {
  id: 'cpu',
  label: 'CPU (peaks unknown)',
  fp16TensorTflops: null,
  bf16TensorTflops: null,
  fp32Tflops: null,
  memoryBandwidthGBps: null,
};

export function normalizeGpuName(name: string): string {
  return name.toLowerCase().replace(/\s+/g, ' ').trim();
}

/** The table row for an nvidia-smi name (e.g. "NVIDIA H100 80GB HBM3"), or null when the device is not listed. */
export function matchDevicePeak(gpuName: string): DevicePeak | null {
  const n = normalizeGpuName(gpuName);
  const row = ROWS.find((r) => r.matches(n));
  return row ? (DEVICE_PEAKS[ROWS.indexOf(row)] ?? null) : null;
}

/** User-supplied peaks; each given figure replaces the table's. */
export interface PeakOverride {
  /** Peak TFLOPS for the dtype being measured. */
  tflops?: number;
  memoryBandwidthGBps?: number;
}

/** What efficiency() divides by. */
export interface PeakFigures {
  flopsPerSec: number | null;
  bytesPerSec: number | null;
  /** e.g. "NVIDIA H100 80GB HBM3 (H100 SXM) fp16 dense"; null when nothing is known. */
  source: string | null;
}

/** 'fp16' | 'float16' | 'bf16' | 'bfloat16' | 'fp32' | 'float32' -> PeakDtype; anything else (int8, q4) -> null. */
export function peakDtype(dtype: string): PeakDtype | null {
  const d = dtype.toLowerCase();
  if (d === 'fp16' || d === 'float16' || d === 'f16') return 'fp16';
  if (d === 'bf16' || d === 'bfloat16') return 'bf16';
  if (d === 'fp32' || d === 'float32' || d === 'f32') return 'fp32';
  return null;
}

function tflopsFor(peak: DevicePeak, dtype: PeakDtype | null): number | null {
  if (dtype === 'fp16') return peak.fp16TensorTflops;
  if (dtype === 'bf16') return peak.bf16TensorTflops;
  if (dtype === 'fp32') return peak.fp32Tflops;
  return null;
}

export interface ResolvePeakOptions {
  /** nvidia-smi name of the device the engine ran on; null/undefined: CPU (or unknown device). */
  gpuName?: string | null;
  /** Compute dtype of the model ('fp16', 'fp32', ...). */
  dtype: string;
  override?: PeakOverride;
}

export function resolvePeak(options: ResolvePeakOptions): PeakFigures {
  const dtype = peakDtype(options.dtype);
  const entry = options.gpuName ? matchDevicePeak(options.gpuName) : GENERIC_CPU;
  const tableTflops = entry ? tflopsFor(entry, dtype) : null;
  const tableBw = entry?.memoryBandwidthGBps ?? null;
  const o = options.override ?? {};
  const tflops = o.tflops ?? tableTflops;
  const bw = o.memoryBandwidthGBps ?? tableBw;

  const parts: string[] = [];
  if ((o.tflops === undefined && tableTflops !== null) || (o.memoryBandwidthGBps === undefined && tableBw !== null)) {
    const device = options.gpuName ? `${options.gpuName} (${entry!.label})` : entry!.label;
    parts.push(`${device} ${options.dtype} dense`);
  }
  if (o.tflops !== undefined || o.memoryBandwidthGBps !== undefined) {
    const given = [
      o.tflops !== undefined ? `${o.tflops} TFLOPS` : null,
      o.memoryBandwidthGBps !== undefined ? `${o.memoryBandwidthGBps} GB/s` : null,
    ].filter(Boolean);
    parts.push(`user override (${given.join(', ')})`);
  }
  return {
    flopsPerSec: tflops === null ? null : tflops * 1e12,
    bytesPerSec: bw === null ? null : bw * 1e9,
    source: parts.length > 0 ? parts.join(' + ') : null,
  };
}

/** What an engine's peak is resolved from: its own device and dtype. */
export interface PeakSubject {
  device: 'cpu' | 'cuda' | 'webgpu' | 'remote';
  dtype: string;
}

/**
 * The peaks one engine's MFU/MBU divide by: the GPU's datasheet figure for the engine's own dtype when it ran on a
 * GPU (`gpuName`: the nvidia-smi name of the GPU the run used), unknown on a CPU or behind HTTP.
 */
export function enginePeak(subject: PeakSubject, gpuName: string | null, override?: PeakOverride): PeakFigures {
  if (subject.device === 'remote') return { flopsPerSec: null, bytesPerSec: null, source: null };
  const onGpu = subject.device === 'cuda' || subject.device === 'webgpu';
  return resolvePeak({ gpuName: onGpu ? gpuName : null, dtype: subject.dtype, ...(override ? { override } : {}) });
}
