/** `npm run gpu-check` without a GPU: one line saying why it skipped, exit 0 (on a CUDA machine it runs the checks). */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpuSkipReasonOf } from '../../src/bench/gpu-skip.js';
import { root, run } from '../helpers/cli.js';

const reason = gpuSkipReasonOf();

describe.skipIf(reason === null)('gpu-check without a GPU', () => {
  it('skips with the reason and exits 0', async () => {
    const r = await run(process.execPath, [join(root, 'dist', 'bench', 'gpu-check.js')]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`gpu-check: skipped: ${reason}`);
  });
});
