/**
 * The CLI tests and the engine workers run the compiled dist/, not the sources: fail the whole run at once when
 * dist/ is older than src/, instead of letting tests pass or fail on yesterday's code.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The first source whose compiled file is missing or older than it, or null when dist/ is up to date. */
export function staleOutput(rootDir: string): string | null {
  const src = join(rootDir, 'src');
  for (const file of sources(src)) {
    const out = join(rootDir, 'dist', relative(src, file)).replace(/\.ts$/, '.js');
    if (!existsSync(out)) return `${relative(rootDir, out)} is missing`;
    if (statSync(out).mtimeMs < statSync(file).mtimeMs) return `${relative(rootDir, file)} changed after ${relative(rootDir, out)} was built`;
  }
  return null;
}

export default function setup(): void {
  const stale = staleOutput(root);
  if (stale) throw new Error(`dist/ is out of date (${stale}): run npm run build (npm test builds first)`);
}
