import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { hostNowMs } from '../../src/telemetry/clock.js';
import { gpuIndicesFromEnv, startTelemetry } from '../../src/telemetry/telemetry.js';
import { waitFor } from '../helpers/wait.js';

const FAKE = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/nvidia-smi/fake-nvidia-smi');


afterEach(() => {
  vi.unstubAllEnvs();
});

describe('startTelemetry', () => {
  it('attributes GPU and process samples to a phase', async () => {
    vi.stubEnv('FAKE_NVIDIA_SMI_MODE', 'forever');
    const t = startTelemetry({ intervalMs: 25, nvidiaSmiPath: FAKE, env: {} });
    const start = hostNowMs();
    await waitFor(() => t.samples().gpu.length >= 8 && t.samples().process.length >= 3);
    const end = hostNowMs();
    expect(t.status()).toMatchObject({ state: 'available', source: 'nvidia-smi', sampleIntervalMs: 25 });

    const c = t.phase(start, end, 50);
    // Default selection is GPU 0 (no CUDA_VISIBLE_DEVICES): the fake's GPU 0 reports 50, 60, 70, ...
    expect(c.gpuUtilizationPctMean).toBeGreaterThanOrEqual(50);
    expect(c.gpuMemoryPeakBytes).toBeGreaterThanOrEqual(17023 * 1024 * 1024);
    expect(c.gpuPowerWattsMean).toBeGreaterThanOrEqual(300.5);
    expect(c.energyJoulesPerToken).toBeGreaterThan(0);
    expect(c.rssPeakBytes).toBeGreaterThan(0);
    expect(c.samples).toBeGreaterThanOrEqual(4 + 3);
    expect(t.phase(end + 60_000, end + 61_000, 50)).toEqual({ samples: 0 });

    const status = await t.stop();
    expect(status).toMatchObject({ state: 'available', source: 'nvidia-smi' });
    expect(t.warnings()).toEqual([]);
    // phase() keeps working after stop(), and stop() twice is harmless.
    expect(t.phase(start, end, 50).gpuUtilizationPctMean).toBe(c.gpuUtilizationPctMean);
    expect(await t.stop()).toEqual(status);
  });

  it('falls back to process telemetry with a warning when nvidia-smi is missing', async () => {
    const t = startTelemetry({ intervalMs: 20, nvidiaSmiPath: '/nonexistent/nvidia-smi' });
    // Keep this process busy between samples, so the process fallback has real CPU time to report.
    const busyUntil = hostNowMs() + 200;
    while (hostNowMs() < busyUntil) {
      const sliceEnd = hostNowMs() + 15;
      while (hostNowMs() < sliceEnd);
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 40));
    const status = await t.stop();
    expect(status).toMatchObject({ state: 'available', source: 'process', sampleIntervalMs: 20 });
    expect(t.warnings()).toEqual([
      { code: 'telemetry-gpu-unavailable', message: expect.stringMatching(/nvidia-smi not found/) },
    ]);
    const c = t.phase(0, hostNowMs(), 10);
    expect(c.gpuUtilizationPctMean).toBeUndefined();
    // Busy most of the window: a figure of 0 (or NaN, or a missing one) means the fallback measures nothing.
    const oneCore = c.cpuUtilizationPctOfOneCore;
    const allCores = c.cpuUtilizationPctOfAllCores;
    expect(oneCore).toBeGreaterThan(5);
    expect(allCores).toBeLessThanOrEqual(100.5);
    // The all-cores figure is the one-core figure spread over the cores the process may use.
    expect(allCores! * availableParallelism()).toBeCloseTo(oneCore!, 6);
  });

  it('reads the nvidia-smi path from DLLM_BENCH_NVIDIA_SMI and reports a mid-run death', async () => {
    vi.stubEnv('DLLM_BENCH_NVIDIA_SMI', FAKE);
    vi.stubEnv('FAKE_NVIDIA_SMI_MODE', 'abrupt');
    vi.stubEnv('FAKE_NVIDIA_SMI_TICKS', '3');
    const t = startTelemetry({ intervalMs: 20, gpuIndices: [0, 1] });
    await waitFor(() => t.warnings().some((w) => w.code === 'telemetry-nvidia-smi-exited'));
    const status = await t.stop();
    expect(status).toEqual({ state: 'available', source: 'nvidia-smi', sampleIntervalMs: 20, samples: 6 });
    expect(t.warnings().map((w) => w.code)).toEqual(['telemetry-nvidia-smi-exited']);
  });

  it('does not start nvidia-smi when gpu is false', async () => {
    const t = startTelemetry({ intervalMs: 20, gpu: false, nvidiaSmiPath: FAKE });
    expect(await t.stop()).toMatchObject({ state: 'available', source: 'process' });
    expect(t.samples().gpu).toEqual([]);
    expect(t.warnings()).toEqual([]);
  });
});

describe('gpuIndicesFromEnv', () => {
  it('maps CUDA_VISIBLE_DEVICES to the nvidia-smi index of CUDA device 0', () => {
    expect(gpuIndicesFromEnv({})).toEqual({ gpuIndices: [0] });
    expect(gpuIndicesFromEnv({ CUDA_VISIBLE_DEVICES: '3,1' })).toEqual({ gpuIndices: [3] });
    const uuid = gpuIndicesFromEnv({ CUDA_VISIBLE_DEVICES: 'GPU-8f3c0a1e-1111-2222-3333-444455556666' });
    expect(uuid.gpuIndices).toBeUndefined();
    expect(uuid.warning?.code).toBe('telemetry-gpu-selection');
  });
});
