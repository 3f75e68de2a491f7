/**
 * Memory of one engine's stay in the process: peak RSS (the kernel's VmHWM when it rose during the engine's stay,
 * which is then exact; otherwise the largest RSS sampled every `intervalMs`) and this process's GPU memory from
 * `nvidia-smi --query-compute-apps=pid,used_memory` (polled while the engine is open, CUDA runs only).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolveNvidiaSmiPath } from './nvidia-smi.js';

/** VmRSS and VmHWM of this process in bytes, or null off Linux. */
export function procStatusMemory(): { rssBytes: number; hwmBytes: number } | null {
  try {
    const s = readFileSync('/proc/self/status', 'utf8');
    const kb = (key: string) => {
      const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(s);
      return m ? Number(m[1]) * 1024 : null;
    };
    const rss = kb('VmRSS');
    const hwm = kb('VmHWM');
    return rss === null || hwm === null ? null : { rssBytes: rss, hwmBytes: hwm };
  } catch {
    return null;
  }
}

/**
 * `pid, used_memory` lines (`--format=csv,noheader,nounits`: MiB) -> bytes used by `pid` (summed over its
 * contexts: one per GPU), or null when the pid is not listed. Anything that is not such a line is skipped.
 */
export function parseComputeApps(stdout: string, pid: number): number | null {
  let total: number | null = null;
  for (const line of stdout.split('\n')) {
    const m = /^\s*(\d+)\s*,\s*(\d+(?:\.\d+)?)\s*$/.exec(line);
    if (!m || Number(m[1]) !== pid) continue;
    total = (total ?? 0) + Number(m[2]) * 1024 * 1024;
  }
  return total;
}

/** One query of this process's GPU memory; null without nvidia-smi or when the process holds no CUDA context. */
export function queryProcessGpuMemory(pid = process.pid, path?: string): Promise<number | null> {
  const bin = resolveNvidiaSmiPath(path);
  return new Promise((resolve) => {
    try {
      execFile(bin, ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'], { timeout: 10_000, encoding: 'utf8' }, (err, stdout) => {
        resolve(err ? null : parseComputeApps(stdout, pid));
      });
    } catch {
      resolve(null);
    }
  });
}

export interface EngineMemory {
  rssBeforeBytes: number | null;
  rssPeakBytes: number | null;
  gpuMemoryPeakBytes: number | null;
}

export interface EngineMemoryWatch {
  /** Stops polling and returns the peaks over the watch. */
  stop(): Promise<EngineMemory>;
}

/** Starts watching before an engine opens; `gpu`: poll nvidia-smi for this process's GPU memory once a second. */
export function watchEngineMemory(opts: { gpu: boolean; intervalMs?: number; nvidiaSmiPath?: string }): EngineMemoryWatch {
  // VmHWM is never reset (writing clear_refs would also reset what GNU time and getrusage report for the process).
  const before = procStatusMemory();
  let sampledPeak = before?.rssBytes ?? null;
  let gpuPeak: number | null = null;
  let pending: Promise<void> = Promise.resolve();
  const interval = opts.intervalMs ?? 100;
  let gpuTick = 0;
  const pollGpu = () => {
    pending = queryProcessGpuMemory(process.pid, opts.nvidiaSmiPath).then((b) => {
      if (b !== null) gpuPeak = Math.max(gpuPeak ?? 0, b);
    });
  };
  const tick = () => {
    const m = procStatusMemory();
    if (m) sampledPeak = Math.max(sampledPeak ?? 0, m.rssBytes);
    // nvidia-smi is a process start: once a second.
    if (opts.gpu && ++gpuTick % Math.max(1, Math.round(1000 / interval)) === 0) pollGpu();
  };
  const timer = setInterval(tick, interval);
  timer.unref();
  if (opts.gpu) pollGpu();
  return {
    async stop() {
      clearInterval(timer);
      tick();
      await pending;
      const now = procStatusMemory();
      const peak = before && now && now.hwmBytes > before.hwmBytes ? now.hwmBytes : sampledPeak;
      return { rssBeforeBytes: before?.rssBytes ?? null, rssPeakBytes: peak, gpuMemoryPeakBytes: gpuPeak };
    },
  };
}
