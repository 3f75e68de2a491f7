/**
 * What `dllm-bench doctor` reports: one typed result per check. Probing (probes.ts) and formatting (format.ts) only
 * meet here, so the formatter and the aggregation are pure and tested without touching the machine.
 */
import { errorMessage } from '../util/errors.js';

/**
 * ok: works. warn: usable, but something optional is missing (a GPU provider) or degraded; the fix says what to do.
 * fail: a default CPU run would not work (or a --model folder is unusable). skip: not applicable on this machine.
 */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable identifier: node, onnxruntime, cpu, cuda, webgpu, nvidia-smi, cache, model:<dir as given>. */
  id: string;
  status: CheckStatus;
  /** One line. */
  summary: string;
  /** More lines (raw error text, per-item listings); shown indented under the summary. */
  detail?: string;
  /** What to run or change; present on warn/fail where there is something to do. */
  fix?: string;
}

/** The `--json` document. */
export interface DoctorReport {
  schemaVersion: 1;
  checks: CheckResult[];
  /** False when any check failed; warnings and skips do not count. */
  ok: boolean;
}

export interface Probe {
  id: string;
  run: () => Promise<CheckResult> | CheckResult;
}

export function overallOk(checks: readonly CheckResult[]): boolean {
  return checks.every((c) => c.status !== 'fail');
}

export function doctorReport(checks: CheckResult[]): DoctorReport {
  return { schemaVersion: 1, checks, ok: overallOk(checks) };
}

export function countByStatus(checks: readonly CheckResult[]): Record<CheckStatus, number> {
  const n: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) n[c.status]++;
  return n;
}

/** A probe that throws becomes a failed check: one broken probe never takes the command (or the others) down. */
export async function runProbe(probe: Probe): Promise<CheckResult> {
  try {
    return await probe.run();
  } catch (err) {
    const stack = err instanceof Error && err.stack ? err.stack : undefined;
    return { id: probe.id, status: 'fail', summary: `the check itself failed: ${errorMessage(err)}`, ...(stack ? { detail: stack } : {}) };
  }
}

/** Runs every probe concurrently (each session probe is its own process) and keeps the given order. */
export function runProbes(probes: readonly Probe[]): Promise<CheckResult[]> {
  return Promise.all(probes.map(runProbe));
}
