/**
 * What a new user types from a git checkout: npm prints no config warning (the repo's .npmrc holds only keys npm
 * knows), and `npx dllm-bench` works after `npm ci` although ignore-scripts skipped the `prepare` build: the bin
 * builds dist/ on first use.
 */
import { cpSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root, run } from '../helpers/cli.js';
import { tempDir } from '../helpers/models.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('npm and the bin from a checkout', () => {
  it('npm exec dllm-bench prints the version and no npm warning', async () => {
    const r = await run(npm, ['exec', '--no', '--', 'dllm-bench', '--version'], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.stderr).not.toMatch(/npm warn/i);
  }, 60_000);

  it('a checkout without dist/ builds it on first use, then runs', async () => {
    const dir = join(tempDir('dllm-checkout-'), 'repo');
    mkdirSync(dir, { recursive: true });
    for (const f of ['bin', 'src', 'configs', 'package.json', 'tsconfig.json']) cpSync(join(root, f), join(dir, f), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const r = await run(process.execPath, [join(dir, 'bin', 'dllm-bench.js'), '--version'], { cwd: dir, timeoutMs: 240_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/building dist\/ \(first run from a checkout\)/);
    expect(existsSync(join(dir, 'dist', 'cli', 'main.js'))).toBe(true);
    const again = await run(process.execPath, [join(dir, 'bin', 'dllm-bench.js'), '--version'], { cwd: dir });
    expect(again.stderr).not.toMatch(/building/);
  }, 300_000);
});
