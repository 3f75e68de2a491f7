/** A small real tmpfs for disk-full tests: mounted now (root only), unmounted after the suite; `mounted` false elsewhere. */
import { execFileSync } from 'node:child_process';
import { afterAll } from 'vitest';
import { tempDir } from './models.js';

export function smallTmpfs(sizeKiB: number): { dir: string; mounted: boolean } {
  const dir = tempDir('dllm-tmpfs-');
  let mounted = false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', dir], { stdio: 'ignore' });
    mounted = true;
  } catch {
    mounted = false;
  }
  afterAll(() => {
    if (mounted) execFileSync('umount', [dir], { stdio: 'ignore' });
  });
  return { dir, mounted };
}
