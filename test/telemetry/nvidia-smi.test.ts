import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  NVIDIA_SMI_ENV,
  nvidiaSmiArgs,
  parseGpuInventory,
  parseSmiLine,
  parseSmiNumber,
  parseSmiTimestamp,
  queryGpus,
  resolveNvidiaSmiPath,
  startNvidiaSmi,
} from '../../src/telemetry/nvidia-smi.js';
import { waitFor } from '../helpers/wait.js';

const here = dirname(fileURLToPath(import.meta.url));
const FAKE = resolve(here, '../fixtures/nvidia-smi/fake-nvidia-smi');
const MIB = 1024 * 1024;


afterEach(() => {
  vi.unstubAllEnvs();
});

describe('parsing', () => {
  it('reads a full line, converting MiB to bytes', () => {
    const s = parseSmiLine(
      '2026/11/28 06:19:00.123, 0, NVIDIA H100 80GB HBM3, 87, 41, 17023, 81559, 512.37, 1980, 61',
      1000,
    );
    expect(s).toEqual({
      hostTimeMs: 1000,
      gpuTimeMs: new Date(2026, 10, 28, 6, 19, 0, 123).getTime(),
      index: 0,
      name: 'NVIDIA H100 80GB HBM3',
      utilizationGpuPct: 87,
      utilizationMemoryPct: 41,
      memoryUsedBytes: 17023 * MIB,
      memoryTotalBytes: 81559 * MIB,
      powerWatts: 512.37,
      smClockMhz: 1980,
      temperatureC: 61,
    });
  });

  it('maps [N/A], [Not Supported] and blanks to null', () => {
    const s = parseSmiLine('2026/11/28 06:19:00.123, 1, Tesla T4, [Not Supported], , 4, 15360, [N/A], N/A, 33', 5);
    expect(s).not.toBeNull();
    expect(s!.utilizationGpuPct).toBeNull();
    expect(s!.utilizationMemoryPct).toBeNull();
    expect(s!.memoryUsedBytes).toBe(4 * MIB);
    expect(s!.powerWatts).toBeNull();
    expect(s!.smClockMhz).toBeNull();
    expect(s!.temperatureC).toBe(33);
  });

  it('rejects garbage, truncated lines and lines without a timestamp or index', () => {
    expect(parseSmiLine('NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.', 0)).toBeNull();
    expect(parseSmiLine('2026/11/28 06:19:00.123, 0, NVIDIA H100 80GB HB', 0)).toBeNull();
    expect(parseSmiLine('yesterday, 0, GPU, 1, 2, 3, 4, 5, 6, 7', 0)).toBeNull();
    expect(parseSmiLine('2026/11/28 06:19:00.123, [N/A], GPU, 1, 2, 3, 4, 5, 6, 7', 0)).toBeNull();
    expect(parseSmiLine('', 0)).toBeNull();
  });

  it('parses numbers and timestamps strictly', () => {
    expect(parseSmiNumber(' 12.5 ')).toBe(12.5);
    expect(parseSmiNumber('[Unknown Error]')).toBeNull();
    expect(parseSmiNumber('12 %')).toBeNull();
    expect(parseSmiTimestamp('2026/11/28 06:19:00')).toBe(new Date(2026, 10, 28, 6, 19, 0).getTime());
    expect(parseSmiTimestamp('2026/11/28 06:19:00.5')).toBe(new Date(2026, 10, 28, 6, 19, 0, 500).getTime());
    expect(parseSmiTimestamp('2026-11-28T06:19:00Z')).toBeNull();
  });

  it('builds the documented query', () => {
    expect(nvidiaSmiArgs(100)).toEqual([
      '--query-gpu=timestamp,index,name,utilization.gpu,utilization.memory,memory.used,memory.total,power.draw,clocks.sm,temperature.gpu',
      '--format=csv,noheader,nounits',
      '-lms',
      '100',
    ]);
  });

  it('parses the GPU inventory', () => {
    expect(parseGpuInventory('0, NVIDIA H100 80GB HBM3, 550.54.15, 81559\nNo devices were found\n1, Tesla T4, [N/A], [N/A]\n')).toEqual([
      { index: 0, name: 'NVIDIA H100 80GB HBM3', driver: '550.54.15', memoryTotalBytes: 81559 * MIB },
      { index: 1, name: 'Tesla T4', driver: null, memoryTotalBytes: null },
    ]);
  });
});

describe('path resolution', () => {
  it('prefers the explicit path, then the environment, then PATH', () => {
    expect(resolveNvidiaSmiPath('/x/smi', { [NVIDIA_SMI_ENV]: '/y/smi' })).toBe('/x/smi');
    expect(resolveNvidiaSmiPath(undefined, { [NVIDIA_SMI_ENV]: '/y/smi' })).toBe('/y/smi');
    expect(resolveNvidiaSmiPath(undefined, { [NVIDIA_SMI_ENV]: ' ' })).toBe('nvidia-smi');
    expect(resolveNvidiaSmiPath(undefined, {})).toBe('nvidia-smi');
  });
});

describe('sampler on the stand-in nvidia-smi', () => {
  it('collects both GPUs until nvidia-smi dies midway, then stays available with a warning', async () => {
    vi.stubEnv('FAKE_NVIDIA_SMI_MODE', 'abrupt');
    vi.stubEnv('FAKE_NVIDIA_SMI_TICKS', '4');
    let clock = 0;
    const sampler = startNvidiaSmi({ intervalMs: 30, path: FAKE, now: () => ++clock });
    await waitFor(() => sampler.status().state === 'available' && !(sampler.status() as { running: boolean }).running);
    const r = await sampler.stop();

    // 4 ticks x 2 GPUs; the truncated line printed before the kill is dropped.
    expect(r.samples).toHaveLength(8);
    expect(r.status).toEqual({ state: 'available', source: 'nvidia-smi', sampleIntervalMs: 30, samples: 8 });
    const gpu0 = r.samples.filter((s) => s.index === 0);
    const gpu1 = r.samples.filter((s) => s.index === 1);
    expect(gpu0.map((s) => s.utilizationGpuPct)).toEqual([50, 60, 70, 80]);
    expect(gpu0.map((s) => s.powerWatts)).toEqual([300.5, 310.5, 320.5, 330.5]);
    expect(gpu0[3]!.memoryUsedBytes).toBe(17323 * MIB);
    expect(gpu1.every((s) => s.utilizationGpuPct === null && s.powerWatts === null)).toBe(true);
    expect(gpu1.every((s) => s.memoryUsedBytes === 4 * MIB && s.smClockMhz === 345)).toBe(true);
    // Host stamps come from the injected clock and never go backwards.
    const stamps = r.samples.map((s) => s.hostTimeMs);
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);
    expect(r.warnings.map((w) => w.code)).toEqual(['telemetry-nvidia-smi-exited']);
    expect(r.warnings[0]!.message).toMatch(/SIGKILL after 8 samples/);
  });

  it('stop() ends a running nvidia-smi and returns what it printed', async () => {
    vi.stubEnv('FAKE_NVIDIA_SMI_MODE', 'forever');
    const sampler = startNvidiaSmi({ intervalMs: 20, path: FAKE });
    await waitFor(() => sampler.samples().length >= 4);
    expect(sampler.status()).toMatchObject({ state: 'available', running: true });
    const r = await sampler.stop();
    expect(r.samples.length).toBeGreaterThanOrEqual(4);
    expect(r.samples.length % 2).toBe(0);
    expect(r.status.state).toBe('available');
    expect(r.warnings).toEqual([]);
    // Host stamps are on the performance clock (ms since the epoch), close to Date.now().
    expect(Math.abs(r.samples[0]!.hostTimeMs - Date.now())).toBeLessThan(60_000);
    // A second stop is harmless.
    expect((await sampler.stop()).samples).toHaveLength(r.samples.length);
  });

  it('is unavailable, with nvidia-smi\'s own message, when it exits at once', async () => {
    vi.stubEnv('FAKE_NVIDIA_SMI_MODE', 'fail');
    const sampler = startNvidiaSmi({ intervalMs: 50, path: FAKE });
    await waitFor(() => sampler.status().state === 'unavailable');
    const r = await sampler.stop();
    expect(r.samples).toEqual([]);
    expect(r.status.state).toBe('unavailable');
    const reason = (r.status as { reason: string }).reason;
    expect(reason).toMatch(/nvidia-smi exited with code 9 before printing a sample/);
    expect(reason).toMatch(/couldn't communicate with the NVIDIA driver/);
  });

  it('is unavailable when the output is garbage', async () => {
    vi.stubEnv('FAKE_NVIDIA_SMI_MODE', 'garbage');
    const sampler = startNvidiaSmi({ intervalMs: 20, path: FAKE });
    await waitFor(() => sampler.status().state === 'unavailable');
    const r = await sampler.stop();
    expect(r.status).toMatchObject({ state: 'unavailable' });
    expect((r.status as { reason: string }).reason).toMatch(/exited with code 1 .*this is not, a sample/);
  });

  it('is unavailable, naming nvidia-smi, when the binary is missing', async () => {
    const sampler = startNvidiaSmi({ intervalMs: 50, path: '/nonexistent/dir/nvidia-smi' });
    const r = await sampler.stop();
    expect(r.status.state).toBe('unavailable');
    expect((r.status as { reason: string }).reason).toMatch(/nvidia-smi not found at \/nonexistent\/dir\/nvidia-smi/);
    expect(sampler.status().state).toBe('unavailable');
  });

  it('looks nvidia-smi up on PATH, and reports it missing from PATH', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dllm-smi-'));
    try {
      vi.stubEnv(NVIDIA_SMI_ENV, '');
      vi.stubEnv('PATH', dir);
      const missing = await startNvidiaSmi({ intervalMs: 50 }).stop();
      expect((missing.status as { reason: string }).reason).toMatch(/nvidia-smi not found on PATH/);

      symlinkSync(FAKE, join(dir, 'nvidia-smi'));
      vi.stubEnv('PATH', `${dir}:/usr/bin:/bin`);
      vi.stubEnv('FAKE_NVIDIA_SMI_MODE', 'forever');
      const sampler = startNvidiaSmi({ intervalMs: 20 });
      await waitFor(() => sampler.samples().length >= 2);
      expect((await sampler.stop()).status.state).toBe('available');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('honours DLLM_BENCH_NVIDIA_SMI', async () => {
    vi.stubEnv(NVIDIA_SMI_ENV, FAKE);
    vi.stubEnv('FAKE_NVIDIA_SMI_MODE', 'forever');
    const sampler = startNvidiaSmi({ intervalMs: 20 });
    await waitFor(() => sampler.samples().length >= 2);
    expect((await sampler.stop()).samples[0]!.name).toBe('NVIDIA H100 80GB HBM3');
  });
});

describe('queryGpus', () => {
  it('lists GPUs from the one-shot query', async () => {
    expect(await queryGpus({ path: FAKE })).toEqual([
      { index: 0, name: 'NVIDIA H100 80GB HBM3', driver: '550.54.15', memoryTotalBytes: 81559 * MIB },
      { index: 1, name: 'NVIDIA H100 80GB HBM3', driver: '550.54.15', memoryTotalBytes: 81559 * MIB },
    ]);
  });

  it('returns [] when nvidia-smi is missing or fails', async () => {
    expect(await queryGpus({ path: '/nonexistent/nvidia-smi' })).toEqual([]);
    vi.stubEnv('FAKE_NVIDIA_SMI_MODE', 'fail');
    expect(await queryGpus({ path: FAKE })).toEqual([]);
  });
});
