#!/usr/bin/env node
// A git checkout installs with ignore-scripts (.npmrc), so `prepare` does not build dist/: the first run builds it.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc) || !existsSync(join(root, 'tsconfig.json'))) {
    console.error('dllm-bench: dist/ is missing and TypeScript is not installed here: run npm ci, then npm run build');
    process.exit(2);
  }
  console.error('dllm-bench: building dist/ (first run from a checkout)...');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('dllm-bench: the build failed (npm run build shows why)');
    process.exit(2);
  }
}
await import('../dist/cli/main.js');
