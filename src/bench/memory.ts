/**
 * The memory figures of issue 18, measured on the built CLI as a user runs it (child processes):
 *  - peak RSS of a whole `run` (LLaDA in three cache modes + three AR engines; target <= 1.0 GiB on the small preset);
 *  - `generate` start-up (process wall time minus the generate call's totalMs), --cache dual against --cache none
 *    (target <= 1.2x: every decoding mode is in one session).
 * Peak RSS is the child's VmHWM, read from /proc every 50 ms while it runs (VmHWM only grows, so the last reading
 * is the peak unless it came in the final 50 ms).
 */
import { at } from '../util/indexing.js';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/version.js';

const bin = join(packageRoot, 'bin', 'dllm-bench.js');

interface ChildRun {
  code: number | null;
  stdout: string;
  wallMs: number;
  peakRssBytes: number | null;
}

function runChild(args: string[]): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    let peak: number | null = null;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const poll = setInterval(() => {
      try {
        const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak ?? 0, Number(m[1]) * 1024);
      } catch {
        // exited, or not Linux
      }
    }, 50);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      resolve({ code, stdout, wallMs: performance.now() - t0, peakRssBytes: peak });
    });
  });
}

export interface RunMemoryBench {
  args: string[];
  peakRssBytes: number | null;
  wallMs: number;
  /** results.json's per-engine figures. */
  engines: { engine: string; loadMs: number | null; rssPeakBytes: number | null }[];
}

/** The run (steps scenario, three cache modes, every AR engine), peak RSS of the whole process. */
export async function runMemoryBench(preset: string, out: string): Promise<RunMemoryBench> {
  const args = ['run', '--diffusion', preset, '--ar', preset, '--scenarios', 'steps', '--steps-grid', '8', '--thresholds', '0.9', '--caches', 'none,prefix,dual', '--gen-length', '8', '--block-length', '8', '--repetitions', '1', '--warmup', '0', '--quality-per-task', '0', '--device', 'cpu', '--no-report', '--out', out];
  const r = await runChild(args);
  if (r.code !== 0) throw new Error(`run exited ${r.code}`);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { engines?: RunMemoryBench['engines'] };
  return { args, peakRssBytes: r.peakRssBytes, wallMs: r.wallMs, engines: (results.engines ?? []).map((e) => ({ engine: e.engine, loadMs: e.loadMs, rssPeakBytes: e.rssPeakBytes })) };
}

export interface StartupBench {
  /** Median start-up (wall - totalMs) per cache mode over `repeats` processes. */
  noneMs: number;
  dualMs: number;
  ratio: number;
}

const median = (xs: number[]) => at([...xs].sort((a, b) => a - b), Math.floor(xs.length / 2), '[...xs].sort((a, b) => a - b)');

/** `generate --cache none|dual` start-up, alternating the modes so machine load hits both alike. */
export async function startupBench(modelDir: string, repeats = 3): Promise<StartupBench> {
  const times: Record<'none' | 'dual', number[]> = { none: [], dual: [] };
  for (let i = 0; i < repeats; i++) {
    for (const cache of ['none', 'dual'] as const) {
      const r = await runChild(['generate', '--model', modelDir, '--prompt-ids', '5,17,33,9,12,40', '--gen-length', '32', '--steps', '32', '--block-length', '32', '--cache', cache, '--device', 'cpu', '--json']);
      if (r.code !== 0) throw new Error(`generate --cache ${cache} exited ${r.code}`);
      const totalMs = (JSON.parse(r.stdout) as { totalMs: number }).totalMs;
      times[cache].push(r.wallMs - totalMs);
    }
  }
  const noneMs = median(times.none);
  const dualMs = median(times.dual);
  return { noneMs, dualMs, ratio: dualMs / noneMs };
}

export function formatMemoryBench(preset: string, m: RunMemoryBench, s: StartupBench): string {
  const gib = (b: number | null) => (b === null ? 'n/a' : `${(b / 2 ** 30).toFixed(2)} GiB`);
  const engines = m.engines.map((e) => `${e.engine} ${gib(e.rssPeakBytes)} (load ${e.loadMs === null ? '-' : (e.loadMs / 1000).toFixed(1)} s)`).join(', ');
  const peakOk = m.peakRssBytes !== null && m.peakRssBytes <= 2 ** 30;
  return (
    `memory (${preset}, CPU): run peak RSS ${gib(m.peakRssBytes)} ${peakOk ? 'OK (<= 1.0 GiB)' : 'ABOVE the 1.0 GiB target'}; per engine (process peak while open): ${engines}\n` +
    `start-up (${preset}, generate wall - totalMs, median of alternating runs): --cache none ${(s.noneMs / 1000).toFixed(2)} s, --cache dual ${(s.dualMs / 1000).toFixed(2)} s: ${s.ratio.toFixed(2)}x ${s.ratio <= 1.2 ? 'OK (<= 1.2x)' : 'ABOVE the 1.2x target'}\n`
  );
}
