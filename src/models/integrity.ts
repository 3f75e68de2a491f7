/**
 * What a model folder's graph files were when they were built: size and SHA-256 of each, recorded in config.json.
 * A load checks the sizes (cheap: a cut file is caught before onnxruntime sees it); the cache, `generate`,
 * `models inspect` and `doctor --model` also check the hashes (a damaged file of the right size).
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export interface FileRecord {
  bytes: number;
  sha256: string;
}

/** Relative path -> record. */
export type FileRecords = Record<string, FileRecord>;

const CHUNK = 8 << 20;

/** SHA-256 of a file of any size, read in chunks (a weights file can be far over 2 GB). */
export function sha256File(file: string): string {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  const fd = openSync(file, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

export function recordFiles(dir: string, files: string[]): FileRecords {
  const out: FileRecords = {};
  for (const f of files) out[f] = { bytes: statSync(join(dir, f)).size, sha256: sha256File(join(dir, f)) };
  return out;
}

/** The first problem with the recorded files (missing, wrong size, and with `hash` a changed content), or null. */
export function checkFiles(dir: string, records: FileRecords, opts: { hash: boolean }): string | null {
  for (const [f, r] of Object.entries(records)) {
    const path = join(dir, f);
    if (!existsSync(path)) return `${path} is missing`;
    const bytes = statSync(path).size;
    if (bytes !== r.bytes) return `${path} is damaged: ${bytes} bytes where ${r.bytes} were written (${bytes < r.bytes ? 'truncated' : 'grown'})`;
  }
  if (opts.hash) {
    for (const [f, r] of Object.entries(records)) {
      if (sha256File(join(dir, f)) !== r.sha256) return `${join(dir, f)} is damaged: its SHA-256 differs from the one recorded when it was built`;
    }
  }
  return null;
}
