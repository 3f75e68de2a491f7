/**
 * GPU telemetry from `nvidia-smi --query-gpu=... -lms N` run as a child process for the whole benchmark.
 *
 * Why a child process and not NVML bindings: no native dependency, and nvidia-smi is present wherever the driver is.
 * Each line is stamped with the host clock when it arrives (see clock.ts); nvidia-smi's own timestamp is kept too.
 * The arrival stamp lags the measurement by the pipe latency, and is only meaningful while the thread that owns the
 * sampler is not blocked (engines run session.run() in a worker thread for this reason).
 *
 * Nothing here throws for a missing, broken or dying nvidia-smi: the sampler's status says what happened.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Warning } from '../config/kinds.js';
import type { GpuInfo, TelemetryStatus } from './schema.js';
import { hostNowMs } from './clock.js';

/** The fields asked for, in this order: the CSV parser reads columns by position, so this list is its schema. */
export const GPU_QUERY_FIELDS = [
  'timestamp',
  'index',
  'name',
  'utilization.gpu',
  'utilization.memory',
  'memory.used',
  'memory.total',
  'power.draw',
  'clocks.sm',
  'temperature.gpu',
] as const;

/** Environment variable that points at the nvidia-smi executable (tests use a stand-in). */
export const NVIDIA_SMI_ENV = 'DLLM_BENCH_NVIDIA_SMI';

const MIB = 1024 * 1024;

/**
 * One line of nvidia-smi output. `null` where nvidia-smi printed `[N/A]`, `[Not Supported]`, a blank or anything
 * not numeric. With `nounits`, memory is in MiB (converted to bytes here), power in W, clocks in MHz.
 */
export interface GpuSample {
  /** Host clock when the line arrived: performance.timeOrigin + performance.now(), ms since the epoch. */
  hostTimeMs: number;
  /** nvidia-smi's own timestamp (host local wall clock, ms resolution) as ms since the epoch. */
  gpuTimeMs: number;
  index: number;
  name: string;
  /** Share of the last sample period in which any kernel ran; not how busy the SMs were. */
  utilizationGpuPct: number | null;
  /** Share of the last sample period in which device memory was read or written. */
  utilizationMemoryPct: number | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  powerWatts: number | null;
  smClockMhz: number | null;
  temperatureC: number | null;
}

/** The sampler's own view; `starting` until the first sample or a decisive failure. */
export type NvidiaSmiStatus =
  | { state: 'starting' }
  | { state: 'available'; running: boolean; samples: number }
  | { state: 'unavailable'; reason: string };

export interface NvidiaSmiSamplerOptions {
  intervalMs: number;
  /** Executable to run; default: $DLLM_BENCH_NVIDIA_SMI, else `nvidia-smi` looked up on PATH. */
  path?: string;
  /** Host clock; default hostNowMs. */
  now?: () => number;
}

export interface NvidiaSmiResult {
  samples: GpuSample[];
  status: TelemetryStatus;
  warnings: Warning[];
}

export interface NvidiaSmiSampler {
  status(): NvidiaSmiStatus;
  /** Samples collected so far (live view; do not mutate). */
  samples(): readonly GpuSample[];
  warnings(): Warning[];
  /** Stops nvidia-smi (SIGTERM, SIGKILL after 2 s) and returns everything collected. Safe to call twice. */
  stop(): Promise<NvidiaSmiResult>;
}

export function resolveNvidiaSmiPath(
  explicit?: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  if (explicit) return explicit;
  const fromEnv = env[NVIDIA_SMI_ENV];
  return fromEnv && fromEnv.trim() !== '' ? fromEnv : 'nvidia-smi';
}

export function nvidiaSmiArgs(intervalMs: number): string[] {
  return [
    `--query-gpu=${GPU_QUERY_FIELDS.join(',')}`,
    '--format=csv,noheader,nounits',
    '-lms',
    String(Math.max(1, Math.round(intervalMs))),
  ];
}

/** A number, or null for `[N/A]`, `[Not Supported]`, blanks and anything else nvidia-smi prints instead. */
export function parseSmiNumber(field: string): number | null {
  const s = field.trim();
  if (!/^-?\d+(\.\d+)?$/.test(s)) return null;
  return Number(s);
}

/** `2026/11/28 06:19:00.123` (host local time) -> ms since the epoch; null when not in that shape. */
export function parseSmiTimestamp(field: string): number | null {
  const m = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/.exec(field.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac] = m;
  const ms = frac ? Number(frac.padEnd(3, '0')) : 0;
  const t = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms).getTime();
  return Number.isFinite(t) ? t : null;
}

/**
 * Parses one `--format=csv,noheader,nounits` line of the GPU_QUERY_FIELDS query. Returns null for anything that is
 * not such a line (banners, error messages, truncated lines): a line needs a valid timestamp and index.
 */
export function parseSmiLine(line: string, hostTimeMs: number): GpuSample | null {
  const fields = line.split(',');
  const n = GPU_QUERY_FIELDS.length;
  if (fields.length < n) return null;
  // GPU names carry no commas today; if one ever does, the extra fields belong to the name.
  const nameFields = fields.length - n + 1;
  const name = fields.slice(2, 2 + nameFields).join(',').trim();
  const rest = fields.slice(2 + nameFields).map(parseSmiNumber);
  const [timestampField = '', indexField = ''] = fields;
  const gpuTimeMs = parseSmiTimestamp(timestampField);
  const index = parseSmiNumber(indexField);
  if (gpuTimeMs === null || index === null || !Number.isInteger(index) || index < 0 || name === '') return null;
  const [utilGpu, utilMem, memUsed, memTotal, power, clock, temp] = rest as (number | null)[];
  return {
    hostTimeMs,
    gpuTimeMs,
    index,
    name,
    utilizationGpuPct: utilGpu ?? null,
    utilizationMemoryPct: utilMem ?? null,
    memoryUsedBytes: memUsed == null ? null : memUsed * MIB,
    memoryTotalBytes: memTotal == null ? null : memTotal * MIB,
    powerWatts: power ?? null,
    smClockMhz: clock ?? null,
    temperatureC: temp ?? null,
  };
}

function clip(s: string, max = 200): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}...` : one;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

function spawnFailureReason(path: string, err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOENT') {
    return path === 'nvidia-smi'
      ? `nvidia-smi not found on PATH (no NVIDIA driver?); set ${NVIDIA_SMI_ENV} to its path if it is installed elsewhere`
      : `nvidia-smi not found at ${path} (ENOENT)`;
  }
  return `nvidia-smi (${path}) could not be started: ${err.code ?? err.message}`;
}

/** Starts sampling at once. Never throws; failures show up in status(). */
export function startNvidiaSmi(options: NvidiaSmiSamplerOptions): NvidiaSmiSampler {
  const path = resolveNvidiaSmiPath(options.path);
  const now = options.now ?? hostNowMs;
  const startedAt = now();
  const samples: GpuSample[] = [];
  const warnings: Warning[] = [];
  let pending = '';
  let unparsedLines = 0;
  let firstUnparsed: string | null = null;
  let stderrHead = '';
  let spawnFailure: string | null = null;
  let exit: { code: number | null; signal: NodeJS.Signals | null; atMs: number } | null = null;
  let stopping = false;
  let finished = false;
  let child: ChildProcess | null = null;
  let resolveFinished!: () => void;
  const finishedPromise = new Promise<void>((r) => (resolveFinished = r));
  const finish = () => {
    if (finished) return;
    finished = true;
    process.removeListener('exit', killOnExit);
    resolveFinished();
  };
  /**
   * Signals nvidia-smi only while it is known to be running. A ChildProcess whose spawn failed (ENOENT is reported
   * a tick later) still has a handle with pid 0, and kill() on it signals our whole process group.
   */
  const signal = (sig: NodeJS.Signals) => {
    if (child?.pid !== undefined && child.pid > 0 && child.exitCode === null && child.signalCode === null) {
      child.kill(sig);
    }
  };
  // nvidia-smi -lms would otherwise outlive a crashed benchmark until its next write hits a closed pipe.
  const killOnExit = () => signal('SIGKILL');

  const onLine = (line: string, at: number) => {
    if (line.trim() === '') return;
    const sample = parseSmiLine(line, at);
    if (sample) samples.push(sample);
    else {
      unparsedLines++;
      firstUnparsed ??= clip(line);
    }
  };

  try {
    child = spawn(path, nvidiaSmiArgs(options.intervalMs), { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    spawnFailure = spawnFailureReason(path, err as NodeJS.ErrnoException);
    finish();
  }

  if (child) {
    process.once('exit', killOnExit);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      if (stopping) return;
      const at = now();
      pending += chunk;
      const lines = pending.split('\n');
      // Only newline-terminated lines count: a process killed midway leaves a truncated last line.
      pending = lines.pop()!;
      for (const line of lines) onLine(line.replace(/\r$/, ''), at);
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      if (stderrHead.length < 1000) stderrHead += chunk;
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      // 'error' also fires when a kill fails; only a failed spawn (no pid) ends the sampler here.
      if (child!.pid === undefined) {
        spawnFailure = spawnFailureReason(path, err);
        finish();
      }
    });
    child.on('close', (code, signal) => {
      if (!stopping) {
        exit = { code, signal, atMs: now() };
        if (samples.length > 0) {
          warnings.push({
            code: 'telemetry-nvidia-smi-exited',
            message:
              `nvidia-smi ${describeExit(code, signal)} after ${samples.length} samples; GPU telemetry is missing ` +
              `from ${new Date(exit.atMs).toISOString()} on (check the driver: \`nvidia-smi\` by hand)`,
          });
        }
      }
      finish();
    });
    // Telemetry must never hold the benchmark's process open.
    child.unref();
    (child.stdout as Socket).unref();
    (child.stderr as Socket).unref();
  }

  const noSampleReason = (): string => {
    const said = firstUnparsed ?? (stderrHead.trim() ? clip(stderrHead) : null);
    if (exit) {
      return `nvidia-smi ${describeExit(exit.code, exit.signal)} before printing a sample${said ? `: ${said}` : ''}`;
    }
    if (unparsedLines > 0) return `nvidia-smi printed ${unparsedLines} line(s), none parseable (first: ${said})`;
    return `nvidia-smi printed no sample in the ${Math.round(now() - startedAt)} ms before telemetry stopped`;
  };

  const status = (): NvidiaSmiStatus => {
    if (spawnFailure) return { state: 'unavailable', reason: spawnFailure };
    if (samples.length > 0) return { state: 'available', running: !finished, samples: samples.length };
    if (exit) return { state: 'unavailable', reason: noSampleReason() };
    return { state: 'starting' };
  };

  const result = (): NvidiaSmiResult => {
    const out = [...warnings];
    if (samples.length > 0 && unparsedLines > 0) {
      out.push({
        code: 'telemetry-nvidia-smi-unparsed',
        message: `${unparsedLines} nvidia-smi line(s) could not be parsed and were skipped (first: ${firstUnparsed})`,
      });
    }
    const st: TelemetryStatus = spawnFailure
      ? { state: 'unavailable', reason: spawnFailure }
      : samples.length === 0
        ? { state: 'unavailable', reason: noSampleReason() }
        : { state: 'available', source: 'nvidia-smi', sampleIntervalMs: options.intervalMs, samples: samples.length };
    return { samples: [...samples], status: st, warnings: out };
  };

  return {
    status,
    samples: () => samples,
    warnings: () => [...warnings],
    async stop() {
      if (!finished && !stopping && child) {
        stopping = true;
        // Hold the event loop until nvidia-smi is gone, so `await stop()` as a program's last step completes.
        child.ref();
        (child.stdout as Socket).ref();
        signal('SIGTERM');
        const force = setTimeout(() => signal('SIGKILL'), 2000);
        await finishedPromise;
        clearTimeout(force);
      }
      stopping = true;
      await finishedPromise;
      return result();
    },
  };
}

export interface QueryGpusOptions {
  path?: string;
  timeoutMs?: number;
}

/**
 * One-shot inventory for results.json's environment: index, name, driver, total memory. [] when nvidia-smi is
 * absent, fails, times out or prints nothing parseable.
 */
export function queryGpus(options: QueryGpusOptions = {}): Promise<GpuInfo[]> {
  const path = resolveNvidiaSmiPath(options.path);
  const args = ['--query-gpu=index,name,driver_version,memory.total', '--format=csv,noheader,nounits'];
  return new Promise((resolve) => {
    try {
      execFile(path, args, { timeout: options.timeoutMs ?? 10_000, encoding: 'utf8' }, (err, stdout) => {
        if (err) return resolve([]);
        resolve(parseGpuInventory(stdout));
      });
    } catch {
      resolve([]);
    }
  });
}

/** Parses `index, name, driver_version, memory.total` lines (nounits: MiB); skips anything else. */
export function parseGpuInventory(stdout: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of stdout.split('\n')) {
    const fields = line.split(',').map((f) => f.trim());
    const [indexField, ...others] = fields;
    const memField = others.pop();
    const driver = others.pop();
    if (indexField === undefined || memField === undefined || driver === undefined || others.length === 0) continue;
    const index = parseSmiNumber(indexField);
    const memMib = parseSmiNumber(memField);
    const name = others.join(',');
    if (index === null || !Number.isInteger(index) || name === '') continue;
    gpus.push({
      index,
      name,
      driver: /^\d[\d.]*$/.test(driver) ? driver : null,
      memoryTotalBytes: memMib === null ? null : memMib * MIB,
    });
  }
  return gpus;
}
