/** The global setup's staleness check: a run on an out-of-date dist/ must fail before any test. */
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staleOutput } from '../global-setup.js';
import { tempDir } from '../helpers/models.js';

function tree(): string {
  const root = tempDir('dllm-dist-');
  mkdirSync(join(root, 'src', 'sub'), { recursive: true });
  mkdirSync(join(root, 'dist', 'sub'), { recursive: true });
  for (const f of ['a', 'sub/b']) {
    writeFileSync(join(root, 'src', `${f}.ts`), '');
    writeFileSync(join(root, 'dist', `${f}.js`), '');
  }
  return root;
}
const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds);

describe('staleOutput', () => {
  it('is null when every source has a compiled file at least as new', () => {
    const root = tree();
    at(join(root, 'src', 'sub', 'b.ts'), 1000);
    at(join(root, 'dist', 'sub', 'b.js'), 1000);
    expect(staleOutput(root)).toBeNull();
  });

  it('names a source edited after its build', () => {
    const root = tree();
    at(join(root, 'dist', 'sub', 'b.js'), 1000);
    at(join(root, 'src', 'sub', 'b.ts'), 2000);
    expect(staleOutput(root)).toBe('src/sub/b.ts changed after dist/sub/b.js was built');
  });

  it('names a source never built', () => {
    const root = tree();
    writeFileSync(join(root, 'src', 'new.ts'), '');
    expect(staleOutput(root)).toBe('dist/new.js is missing');
  });
});
