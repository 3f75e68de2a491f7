/** Engines in worker threads: the main event loop keeps running during a generate; failures are values. */
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/util/errors.js';
import { DEFAULT_LLADA_OPTIONS } from '../../src/engines/llada/sampler.js';
import { spawnEngine } from '../../src/engines/worker/client.js';
import { buildMicroModel, microSpec, tempDir } from '../helpers/models.js';

describe('worker-thread engines', () => {
  const built = buildMicroModel(microSpec('llada', { hiddenSize: 64, headDim: 16, numLayers: 4, maxPositions: 512 }), 4);

  it('the main thread stays responsive while the engine computes; steps stream back', async () => {
    const engine = await spawnEngine({ kind: 'llada', modelDir: built.out, device: 'cpu' });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const steps: number[] = [];
    const t0 = performance.now();
    const r = await engine.generate({ prompts: [Array(300).fill(7)], genLength: 128 }, { ...DEFAULT_LLADA_OPTIONS, steps: 128, blockLength: 128, onStep: (e: { step: number }) => steps.push(e.step) });
    const elapsed = performance.now() - t0;
    clearInterval(timer);
    await engine.dispose();
    expect(r.ok).toBe(true);
    expect(steps).toEqual(Array.from({ length: 128 }, (_, i) => i));
    // A blocked main thread would tick about once (the timer fires only after generate returns). An idle one ticks
    // every 5 ms; a loaded 2-core machine delays timers, so require a quarter of the ideal count: still ~30x what a
    // blocked thread could reach over this generate.
    const ideal = elapsed / 5;
    expect(ideal).toBeGreaterThan(40); // the generate is long enough for the bound to mean something
    expect(ticks).toBeGreaterThan(ideal / 4);
  });

  it('abort() stops a running generate at the next forward pass', async () => {
    const engine = await spawnEngine({ kind: 'llada', modelDir: built.out, device: 'cpu' });
    const pending = engine.generate({ prompts: [Array(200).fill(7)], genLength: 256 }, { ...DEFAULT_LLADA_OPTIONS, steps: 256, blockLength: 256 });
    setTimeout(() => engine.abort(), 50);
    const r = await pending;
    expect(r).toEqual({ ok: false, error: { code: 'aborted', message: 'interrupted' } });
    await engine.dispose();
  });

  it('a bad model folder fails at spawn with the one-line UserError', async () => {
    await expect(spawnEngine({ kind: 'llada', modelDir: tempDir(), device: 'cpu' })).rejects.toBeInstanceOf(UserError);
  });
});
