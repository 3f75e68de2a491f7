/**
 * Builds one cache entry in a worker thread (src/models/cache.ts, resolveModelRefAsync): the build is synchronous
 * and can take seconds to minutes, and the main thread must stay free to see Ctrl-C and terminate it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UserError, errorMessage } from '../util/errors.js';
import { buildPreset, convertCheckpoint } from './build.js';
import type { OnnxDtype } from './dtype.js';
import type { Family } from './spec.js';

export interface BuildJob {
  tmp: string;
  source: string | null;
  preset: string;
  family: Family;
  seed: number;
  dtype: OnnxDtype;
}

export type BuildReply = { ok: true; seconds: number } | { ok: false; message: string; userError: boolean; code?: string };

if (parentPort && workerData && typeof workerData === 'object' && 'tmp' in workerData) {
  const job = workerData as BuildJob;
  let reply: BuildReply;
  try {
    const r = job.source
      ? convertCheckpoint(job.source, job.tmp, { dtype: job.dtype })
      : buildPreset(job.tmp, { preset: job.preset, family: job.family, seed: job.seed, dtype: job.dtype });
    reply = { ok: true, seconds: r.seconds };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    reply = { ok: false, message: errorMessage(err), userError: err instanceof UserError, ...(code ? { code } : {}) };
  }
  parentPort.postMessage(reply);
}
