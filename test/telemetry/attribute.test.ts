import { describe, expect, it } from 'vitest';
import { attributePhase, integrateEnergyJoules } from '../../src/telemetry/attribute.js';
import type { GpuSample } from '../../src/telemetry/nvidia-smi.js';
import type { ProcessSample } from '../../src/telemetry/process-sampler.js';

const MIB = 1024 * 1024;

function gpu(t: number, index: number, util: number | null, memMib: number | null, watts: number | null): GpuSample {
  return {
    hostTimeMs: t,
    gpuTimeMs: t,
    index,
    name: 'NVIDIA H100 80GB HBM3',
    utilizationGpuPct: util,
    utilizationMemoryPct: null,
    memoryUsedBytes: memMib === null ? null : memMib * MIB,
    memoryTotalBytes: 81559 * MIB,
    powerWatts: watts,
    smClockMhz: 1980,
    temperatureC: 60,
  };
}

function proc(t: number, intervalMs: number, pct: number, rss: number): ProcessSample {
  return { hostTimeMs: t, intervalMs, cpuPctOfCore: pct, cpuPctOfAllCores: pct / 4, rssBytes: rss };
}

describe('integrateEnergyJoules', () => {
  it('integrates by trapezoids and holds the edge values to the phase bounds', () => {
    // phase 0..1000 ms; samples at 100 (100 W), 500 (200 W), 900 (100 W)
    // edges: 100 W * 100 ms + 100 W * 100 ms = 20 J*ms... in W*ms: 10_000 + 10_000
    // trapezoids: (100+200)/2*400 + (200+100)/2*400 = 60_000 + 60_000
    // total 140_000 W*ms = 140 J
    const pts = [
      { tMs: 500, watts: 200 },
      { tMs: 100, watts: 100 },
      { tMs: 900, watts: 100 },
    ];
    expect(integrateEnergyJoules(pts, { startMs: 0, endMs: 1000 })).toBeCloseTo(140, 10);
  });

  it('treats one sample as constant power over the phase, none as unknown', () => {
    expect(integrateEnergyJoules([{ tMs: 300, watts: 250 }], { startMs: 0, endMs: 2000 })).toBeCloseTo(500, 10);
    expect(integrateEnergyJoules([], { startMs: 0, endMs: 2000 })).toBeUndefined();
  });
});

describe('attributePhase', () => {
  const gpuSamples = [
    gpu(900, 0, 99, 9000, 999), // before the phase
    gpu(1000, 0, 20, 1000, 100),
    gpu(1000, 1, 0, 10, 50),
    gpu(1500, 0, 60, 3000, 300),
    gpu(1500, 1, null, 10, null),
    gpu(2000, 0, 100, 2000, 200),
    gpu(2000, 1, 0, 20, 50),
    gpu(2100, 0, 99, 9999, 999), // after
  ];
  const procSamples = [
    proc(950, 100, 900, 9e9), // before
    proc(1100, 100, 100, 1e9),
    proc(1200, 100, 300, 3e9),
    proc(1300, 200, 150, 2e9),
    proc(2050, 100, 900, 9e9), // after
  ];
  const phase = { startMs: 1000, endMs: 2000 };

  it('reduces one GPU and the process samples inside the phase', () => {
    const t = attributePhase({ gpu: gpuSamples, process: procSamples }, phase, 100, { gpuIndices: [0] });
    expect(t.samples).toBe(3 + 3);
    expect(t.gpuUtilizationPctMean).toBeCloseTo(60, 10); // (20 + 60 + 100) / 3
    expect(t.gpuUtilizationPctP95).toBeCloseTo(96, 10); // 60 + 0.9 * 40
    expect(t.gpuMemoryPeakBytes).toBe(3000 * MIB);
    expect(t.gpuPowerWattsMean).toBeCloseTo(200, 10); // (100 + 300 + 200) / 3
    // samples at the phase edges: (100+300)/2*500 + (300+200)/2*500 = 225_000 W*ms = 225 J over 100 tokens
    expect(t.energyJoulesPerToken).toBeCloseTo(2.25, 10);
    // interval-weighted: (100*100 + 300*100 + 150*200) / 400
    expect(t.cpuUtilizationPctOfOneCore).toBeCloseTo(175, 10);
    expect(t.cpuUtilizationPctOfAllCores).toBeCloseTo(175 / 4, 10);
    expect(t.rssPeakBytes).toBe(3e9);
  });

  it('pools utilization and adds memory, power and energy across selected GPUs', () => {
    const t = attributePhase({ gpu: gpuSamples, process: [] }, phase, 100);
    expect(t.samples).toBe(6);
    expect(t.gpuUtilizationPctMean).toBeCloseTo((20 + 60 + 100 + 0 + 0) / 5, 10);
    expect(t.gpuMemoryPeakBytes).toBe(3000 * MIB + 20 * MIB);
    expect(t.gpuPowerWattsMean).toBeCloseTo(200 + 50, 10);
    // GPU 1: 50 W flat over 1000 ms = 50 J; total 275 J / 100 tokens
    expect(t.energyJoulesPerToken).toBeCloseTo(2.75, 10);
    expect(t.cpuUtilizationPctOfOneCore).toBeUndefined();
    expect('cpuUtilizationPctOfOneCore' in t).toBe(false);
  });

  it('gives samples: 0 and no figures for an empty phase', () => {
    const t = attributePhase({ gpu: gpuSamples, process: procSamples }, { startMs: 5000, endMs: 6000 }, 10);
    expect(t).toEqual({ samples: 0 });
  });

  it('leaves energy per token out without tokens', () => {
    const t = attributePhase({ gpu: gpuSamples, process: [] }, phase, 0, { gpuIndices: [0] });
    expect(t.energyJoulesPerToken).toBeUndefined();
    expect(t.gpuPowerWattsMean).toBeCloseTo(200, 10);
  });
});
