import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from './errors.js';

/**
 * `mkdir -p` that always ends: Node's own `mkdirSync(dir, { recursive: true })` loops forever where mkdir answers
 * ENOENT under an existing parent (`/proc/nope`). Creates each missing folder from the nearest existing ancestor
 * down, one plain mkdir each, and throws the first error (ENOENT, ENOTDIR, EACCES, ...) as it comes.
 */
export function mkdirp(dir: string): string[] {
  const abs = resolve(dir);
  const missing: string[] = [];
  let p = abs;
  for (;;) {
    let st: ReturnType<typeof statSync> | undefined;
    try {
      st = statSync(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw err;
    }
    if (st) {
      if (!st.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${abs}'`), { code: 'ENOTDIR', path: p });
      break;
    }
    missing.push(p);
    const parent = dirname(p);
    if (parent === p) break;
    p = parent;
  }
  const created: string[] = [];
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
      created.push(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(d).isDirectory()) throw err;
    }
  }
  /** The folders this call created, outermost first. */
  return created;
}

/** The nearest ancestor of a path (itself included) that exists and is not a folder, or null. */
export function fileInTheWay(path: string): string | null {
  let p = resolve(path);
  for (;;) {
    if (existsSync(p)) return statSync(p).isDirectory() ? null : p;
    const parent = dirname(p);
    if (parent === p) return null;
    p = parent;
  }
}

/** One line on why a folder could not be created or written, from the error's code. */
export function folderErrorReason(dir: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const blocker = fileInTheWay(dir);
  if (code === 'ENOTDIR' || blocker) return `${blocker ?? dir} is a file, not a folder`;
  if (code === 'EACCES' || code === 'EPERM') return `permission denied (${code})`;
  if (code === 'ENOENT') return `cannot be created there (ENOENT; parent ${dirname(resolve(dir))})`;
  if (code === 'EROFS') return 'read-only file system (EROFS)';
  if (code === 'ENOSPC') return 'disk full (ENOSPC)';
  return `${code ?? (err instanceof Error ? err.message : String(err))}`;
}

/** Creates the folder if needed and checks that we can write into it; one clear line otherwise. */
export function assertWritableDir(dir: string): void {
  const abs = resolve(dir);
  try {
    if (existsSync(abs) && !statSync(abs).isDirectory()) throw new UserError(`${dir}: exists and is not a folder`);
    mkdirp(abs);
    accessSync(abs, constants.W_OK);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${dir}: cannot write output folder: ${folderErrorReason(abs, err)}`);
  }
}

/** Bytes as UTF-8 text; invalid UTF-8 is refused (never silently replaced by U+FFFD in a prompt). */
export function decodeUtf8(bytes: Uint8Array, label: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new UserError(`${label}: not valid UTF-8 text (invalid byte sequence at byte ${at})`);
  }
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  const d = new TextDecoder('utf-8', { fatal: true });
  let lo = 0;
  let hi = bytes.length;
  // The longest valid prefix, by bisection (a prefix that cuts a character in the middle is invalid too: close enough).
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    try {
      d.decode(bytes.subarray(0, mid));
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  return lo;
}
