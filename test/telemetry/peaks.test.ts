import { describe, expect, it } from 'vitest';
import { DEVICE_PEAKS, GENERIC_CPU, enginePeak, matchDevicePeak, peakDtype, resolvePeak } from '../../src/telemetry/peaks.js';

describe('peak table matching', () => {
  const cases: [string, string | null][] = [
    ['NVIDIA H100 80GB HBM3', 'h100-sxm'],
    ['NVIDIA H100 PCIe', 'h100-pcie'],
    ['NVIDIA H100 NVL', 'h100-nvl'],
    ['NVIDIA H200', 'h200-sxm'],
    ['NVIDIA H200 NVL', 'h200-nvl'],
    ['NVIDIA A100-SXM4-40GB', 'a100-40gb-sxm'],
    ['NVIDIA A100-SXM4-80GB', 'a100-80gb-sxm'],
    ['NVIDIA A100-PCIE-40GB', 'a100-40gb-pcie'],
    ['NVIDIA A100 80GB PCIe', 'a100-80gb-pcie'],
    ['NVIDIA L40S', 'l40s'],
    ['NVIDIA L4', 'l4'],
    ['NVIDIA A10', 'a10'],
    ['NVIDIA GeForce RTX 4090', 'rtx-4090'],
    ['NVIDIA GeForce RTX 3090', 'rtx-3090'],
    ['Tesla T4', 't4'],
    ['  nvidia   h100 80gb hbm3 ', 'h100-sxm'],
    // Near misses that must not borrow another part's figures.
    ['NVIDIA A10G', null],
    ['NVIDIA L40', null],
    ['NVIDIA GeForce RTX 3090 Ti', null],
    ['NVIDIA GeForce RTX 4090 D', null],
    ['NVIDIA GH200 480GB', null],
    ['NVIDIA T400', null],
    ['Quadro RTX 8000', null],
  ];
  it.each(cases)('%s -> %s', (name, id) => {
    expect(matchDevicePeak(name)?.id ?? null).toBe(id);
  });

  it('holds dense (not sparse) figures', () => {
    const h100 = DEVICE_PEAKS.find((p) => p.id === 'h100-sxm')!;
    expect(h100.fp16TensorTflops).toBeCloseTo(1979 / 2, 5);
    expect(h100.memoryBandwidthGBps).toBe(3350);
    expect(DEVICE_PEAKS.find((p) => p.id === 'a100-80gb-sxm')!.fp16TensorTflops).toBe(312);
    expect(DEVICE_PEAKS.find((p) => p.id === 't4')!.bf16TensorTflops).toBeNull();
    for (const p of DEVICE_PEAKS) {
      expect(p.fp16TensorTflops).toBeGreaterThan(p.fp32Tflops!);
      expect(p.memoryBandwidthGBps).toBeGreaterThan(100);
    }
    expect(new Set(DEVICE_PEAKS.map((p) => p.id)).size).toBe(DEVICE_PEAKS.length);
  });
});

describe('resolvePeak', () => {
  it('picks the figure for the dtype and names its source', () => {
    const p = resolvePeak({ gpuName: 'NVIDIA H100 80GB HBM3', dtype: 'fp16' });
    expect(p.flopsPerSec).toBeCloseTo(989.5e12, 0);
    expect(p.bytesPerSec).toBe(3350e9);
    expect(p.source).toBe('NVIDIA H100 80GB HBM3 (H100 SXM) fp16 dense');
    expect(resolvePeak({ gpuName: 'Tesla T4', dtype: 'fp32' }).flopsPerSec).toBeCloseTo(8.1e12, 0);
    expect(resolvePeak({ gpuName: 'Tesla T4', dtype: 'bf16' }).flopsPerSec).toBeNull();
    expect(resolvePeak({ gpuName: 'NVIDIA L4', dtype: 'int8' }).flopsPerSec).toBeNull();
    expect(resolvePeak({ gpuName: 'NVIDIA L4', dtype: 'int8' }).bytesPerSec).toBe(300e9);
  });

  it('knows nothing about CPUs or unlisted GPUs unless told', () => {
    expect(GENERIC_CPU.fp32Tflops).toBeNull();
    expect(resolvePeak({ dtype: 'fp32' })).toEqual({ flopsPerSec: null, bytesPerSec: null, source: null });
    expect(resolvePeak({ gpuName: 'Quadro RTX 8000', dtype: 'fp16' }).source).toBeNull();
    const cpu = resolvePeak({ dtype: 'fp32', override: { tflops: 2, memoryBandwidthGBps: 100 } });
    expect(cpu).toEqual({ flopsPerSec: 2e12, bytesPerSec: 100e9, source: 'user override (2 TFLOPS, 100 GB/s)' });
  });

  it('lets an override replace one figure and keep the other', () => {
    const p = resolvePeak({ gpuName: 'NVIDIA A10', dtype: 'fp16', override: { tflops: 70 } });
    expect(p.flopsPerSec).toBe(70e12);
    expect(p.bytesPerSec).toBe(600e9);
    expect(p.source).toBe('NVIDIA A10 (A10) fp16 dense + user override (70 TFLOPS)');
  });

  it('normalizes dtype names', () => {
    expect(peakDtype('float16')).toBe('fp16');
    expect(peakDtype('BF16')).toBe('bf16');
    expect(peakDtype('float32')).toBe('fp32');
    expect(peakDtype('q4')).toBeNull();
  });
});

describe('enginePeak: each engine from its own device and dtype', () => {
  const h100 = 'NVIDIA H100 80GB HBM3';
  it('a GPU engine gets the GPU figure for its dtype; a CPU engine and an HTTP engine get none', () => {
    const fp16 = enginePeak({ device: 'cuda', dtype: 'fp16' }, h100);
    const fp32 = enginePeak({ device: 'cuda', dtype: 'fp32' }, h100);
    expect(fp16.flopsPerSec).toBe(989.5e12);
    expect(fp32.flopsPerSec).toBe(67e12);
    expect(fp16.bytesPerSec).toBe(fp32.bytesPerSec);
    expect(fp32.source).toBe('NVIDIA H100 80GB HBM3 (H100 SXM) fp32 dense');
    // The same run's CPU-side engine is not credited with the GPU's peaks.
    expect(enginePeak({ device: 'cpu', dtype: 'fp16' }, h100)).toEqual({ flopsPerSec: null, bytesPerSec: null, source: null });
    expect(enginePeak({ device: 'remote', dtype: 'unknown' }, h100)).toEqual({ flopsPerSec: null, bytesPerSec: null, source: null });
    expect(enginePeak({ device: 'cuda', dtype: 'fp16' }, null).flopsPerSec).toBeNull();
  });
});
