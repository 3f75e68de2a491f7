/**
 * CPU and memory of this process, sampled on a timer. process.cpuUsage() and process.memoryUsage.rss() are
 * process-wide (getrusage / RSS), so onnxruntime's native threads and engine worker threads are included.
 */
import { availableParallelism } from 'node:os';
import { hostNowMs } from './clock.js';

export interface ProcessSample {
  /** Host clock at the end of the interval this sample covers (see clock.ts). */
  hostTimeMs: number;
  /** Wall time the CPU figures cover, ms (the interval ending at hostTimeMs). */
  intervalMs: number;
  /** User + system CPU time over the interval as % of one core (top-style: 250 = two and a half cores busy). */
  cpuPctOfCore: number;
  /** The same as % of all cores (0..100). */
  cpuPctOfAllCores: number;
  rssBytes: number;
}

export interface ProcessSamplerOptions {
  intervalMs: number;
  /** Host clock; default hostNowMs. */
  now?: () => number;
  /** Cores the all-cores figure divides by; default os.availableParallelism(). */
  cores?: number;
}

export interface ProcessSampler {
  /** Samples so far (live view; do not mutate). */
  samples(): readonly ProcessSample[];
  /** Stops the timer, takes a last sample covering the time since the previous one, and returns all samples. */
  stop(): ProcessSample[];
}

export function startProcessSampler(options: ProcessSamplerOptions): ProcessSampler {
  const now = options.now ?? hostNowMs;
  const cores = Math.max(1, options.cores ?? availableParallelism());
  const samples: ProcessSample[] = [];
  let lastWall = now();
  let lastCpu = process.cpuUsage();
  let stopped = false;

  const take = () => {
    const wall = now();
    const cpu = process.cpuUsage(lastCpu);
    const intervalMs = wall - lastWall;
    if (intervalMs <= 0) return;
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const pctOfCore = (cpuMs / intervalMs) * 100;
    samples.push({
      hostTimeMs: wall,
      intervalMs,
      cpuPctOfCore: pctOfCore,
      cpuPctOfAllCores: pctOfCore / cores,
      rssBytes: process.memoryUsage.rss(),
    });
    lastWall = wall;
    lastCpu = process.cpuUsage();
  };

  // A sampler must never keep the process alive on its own.
  const timer = setInterval(take, Math.max(1, options.intervalMs)).unref();

  return {
    samples: () => samples,
    stop() {
      if (!stopped) {
        stopped = true;
        clearInterval(timer);
        take();
      }
      return [...samples];
    },
  };
}
