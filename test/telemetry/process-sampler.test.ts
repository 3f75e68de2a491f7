import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { startProcessSampler } from '../../src/telemetry/process-sampler.js';

function busy(ms: number): number {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x += Math.sqrt(x + 1);
  return x;
}

describe('process sampler', () => {
  it('sees a busy loop as CPU load and reports RSS', async () => {
    const before = process.cpuUsage();
    const sampler = startProcessSampler({ intervalMs: 50 });
    // The busy loop blocks the timer; yielding between slices lets it fire, as an engine worker thread would.
    for (let i = 0; i < 8; i++) {
      busy(100);
      await new Promise((r) => setImmediate(r));
    }
    const samples = sampler.stop();
    const used = process.cpuUsage(before);
    expect(samples.length).toBeGreaterThanOrEqual(2);
    const wall = samples.reduce((a, s) => a + s.intervalMs, 0);
    const cpu = samples.reduce((a, s) => a + s.cpuPctOfCore * s.intervalMs, 0) / wall;
    // The samples add up to the CPU time the process really used over the same window.
    const sampledCpuMs = (cpu / 100) * wall;
    const directCpuMs = (used.user + used.system) / 1000;
    expect(Math.abs(sampledCpuMs - directCpuMs)).toBeLessThan(0.1 * directCpuMs + 20);
    // One thread spinning: ~100% of a core when it has one; on a loaded 2-core machine far less, never near idle.
    expect(cpu).toBeGreaterThan(15);
    expect(cpu).toBeLessThan(100 * availableParallelism() + 50);
    for (const s of samples) {
      expect(s.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
      expect(s.rssBytes).toBeLessThan(64 * 1024 ** 3);
      expect(s.cpuPctOfAllCores).toBeCloseTo(s.cpuPctOfCore / availableParallelism(), 10);
      expect(s.intervalMs).toBeGreaterThan(0);
    }
    const stamps = samples.map((s) => s.hostTimeMs);
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);
  });

  it('sees an idle process as nearly idle', async () => {
    const sampler = startProcessSampler({ intervalMs: 50 });
    await new Promise((r) => setTimeout(r, 400));
    const samples = sampler.stop();
    expect(samples.length).toBeGreaterThanOrEqual(2);
    const wall = samples.reduce((a, s) => a + s.intervalMs, 0);
    const cpu = samples.reduce((a, s) => a + s.cpuPctOfCore * s.intervalMs, 0) / wall;
    expect(cpu).toBeLessThan(60);
    // stop() is idempotent and the timer is gone.
    expect(sampler.stop()).toHaveLength(samples.length);
  });

  it('divides by the given core count', async () => {
    const sampler = startProcessSampler({ intervalMs: 20, cores: 8 });
    busy(60);
    const [s] = sampler.stop();
    expect(s!.cpuPctOfAllCores).toBeCloseTo(s!.cpuPctOfCore / 8, 10);
  });
});
