/**
 * Fast-dLLM KV caches against the reference sampler, whole generate call, same model and job (issue 11's targets on
 * 2 CPU cores: dual >= 5x faster than no cache, prefix >= 1.8x; host overhead < 2% of a step in every mode).
 * Job: prompt ~256 tokens, 256 generated, block 32, 256 steps (one token per call), small preset. Each mode runs once
 * after a short warmup (a whole uncached run is minutes on 2 cores); per-call times come from the host-driven path
 * with two calls per block (block start, then one block-only call), whose trace times each call on its own.
 */
import { createLladaEngine } from '../engines/llada/engine.js';
import { type CacheMode, DEFAULT_LLADA_OPTIONS } from '../engines/llada/sampler.js';
import type { GenerateOutput } from '../engines/types.js';
import { loadModelFolder } from '../models/folder.js';
import { at } from '../util/indexing.js';

export interface CacheModeResult {
  cache: CacheMode;
  totalMs: number;
  forwardMs: number;
  nfe: number;
  /** (total - time inside session.run) per call, and as a share of the mean call. */
  hostMsPerStep: number;
  hostPct: number;
  /** totalMs(none) / totalMs(this mode). */
  speedup: number;
}

export interface LladaCacheBenchResult {
  promptTokens: number;
  genLength: number;
  blockLength: number;
  steps: number;
  modes: CacheModeResult[];
  /** Mean time of one call, ms: the full forward (no cache / block start), block-only prefix and dual calls. */
  perCallMs: { full: number; blockStart: number; prefix: number; dual: number };
}

export async function runLladaCacheBench(
  modelDir: string,
  opts = { promptTokens: 256, genLength: 256, blockLength: 32, steps: 256 },
  progress?: (line: string) => void,
): Promise<LladaCacheBenchResult> {
  const spec = loadModelFolder(modelDir).meta.spec;
  const engine = await createLladaEngine({ modelDir, device: 'cpu' });
  const prompt = Array.from({ length: opts.promptTokens }, (_, i) => (i * 7 + 3) % (spec.vocabSize - 8));
  const gen = async (o: Partial<typeof DEFAULT_LLADA_OPTIONS> & { cacheLoop?: 'host' | 'device' }, genLength = opts.genLength): Promise<GenerateOutput> => {
    const r = await engine.generate({ prompts: [prompt], genLength }, { ...DEFAULT_LLADA_OPTIONS, blockLength: opts.blockLength, ...o });
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  };
  try {
    // Warmup: opens every graph and lets onnxruntime settle its allocations.
    for (const cache of ['none', 'prefix', 'dual'] as const) await gen({ cache, steps: 2 }, opts.blockLength);
    await gen({ cache: 'dual', cacheLoop: 'host', steps: 2 }, opts.blockLength);

    // Per-call times first (cheap), then the whole runs, cheapest first, each reported as it finishes.
    const blocks = opts.genLength / opts.blockLength;
    const twoCalls = async (cache: CacheMode) => (await gen({ cache, cacheLoop: 'host', steps: 2 * blocks })).trace;
    const mean = (xs: number[]) => xs.reduce((a, v) => a + v, 0) / xs.length;
    const none = await gen({ cache: 'none', steps: blocks });
    const prefix = await twoCalls('prefix');
    const dual = await twoCalls('dual');
    const perCallMs = {
      full: mean(none.trace.map((t) => t.durationMs)),
      blockStart: mean([...prefix, ...dual].filter((_, i) => i % 2 === 0).map((t) => t.durationMs)),
      prefix: mean(prefix.filter((_, i) => i % 2 === 1).map((t) => t.durationMs)),
      dual: mean(dual.filter((_, i) => i % 2 === 1).map((t) => t.durationMs)),
    };
    progress?.(`per call: ${JSON.stringify(perCallMs)}`);

    const modes: CacheModeResult[] = [];
    for (const cache of ['dual', 'prefix', 'none'] as const) {
      const r = await gen({ cache, steps: opts.steps });
      const nfe = r.trace.length;
      const hostMsPerStep = (r.totalMs - r.forwardMs) / nfe;
      modes.unshift({ cache, totalMs: r.totalMs, forwardMs: r.forwardMs, nfe, hostMsPerStep, hostPct: ((r.totalMs - r.forwardMs) / r.totalMs) * 100, speedup: 0 });
      progress?.(`${cache}: ${(r.totalMs / 1000).toFixed(2)} s, NFE ${nfe}, host ${hostMsPerStep.toFixed(3)} ms per call`);
    }
    for (const m of modes) m.speedup = at(modes, 0, 'modes').totalMs / m.totalMs;
    return { ...opts, modes, perCallMs };
  } finally {
    await engine.dispose();
  }
}

export function formatLladaCacheBench(r: LladaCacheBenchResult, preset: string): string {
  const lines = [
    `LLaDA KV cache (${preset}, prompt ${r.promptTokens}, gen ${r.genLength}, block ${r.blockLength}, ${r.steps} steps, CPU, one run per mode):`,
  ];
  const target: Record<CacheMode, number> = { none: 1, prefix: 1.8, dual: 5 };
  for (const m of r.modes) {
    const verdict = m.cache === 'none' ? '' : m.speedup >= target[m.cache] ? ` OK (>= ${target[m.cache]}x)` : ` BELOW the ${target[m.cache]}x target`;
    lines.push(
      `  ${m.cache.padEnd(6)} ${(m.totalMs / 1000).toFixed(2)} s, NFE ${m.nfe}, ${m.speedup.toFixed(2)}x${verdict}; ` +
        `host ${m.hostMsPerStep.toFixed(3)} ms per call = ${m.hostPct.toFixed(2)}% ${m.hostPct < 2 ? 'OK (< 2%)' : 'ABOVE the 2% target'}`,
    );
  }
  const c = r.perCallMs;
  lines.push(`  per call: full forward ${c.full.toFixed(1)} ms, block start ${c.blockStart.toFixed(1)} ms, prefix block-only ${c.prefix.toFixed(1)} ms, dual block-only ${c.dual.toFixed(1)} ms`);
  return `${lines.join('\n')}\n`;
}
