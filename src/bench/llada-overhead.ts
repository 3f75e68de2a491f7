/**
 * Host overhead of the LLaDA engine: time per denoising step spent outside onnxruntime (building feeds, top-k
 * selection, bookkeeping) against the model forward itself, on the `small` preset. Target: under 2% of a step.
 */
import ort from 'onnxruntime-node';
import { Bench } from 'tinybench';
import { createLladaEngine } from '../engines/llada/engine.js';
import { DEFAULT_LLADA_OPTIONS } from '../engines/llada/sampler.js';
import { sessionOptions } from '../engines/session.js';
import { IO } from '../models/emit.js';
import { loadModelFolder } from '../models/folder.js';
import { at } from '../util/indexing.js';

export interface LladaOverheadResult {
  promptTokens: number;
  genLength: number;
  steps: number;
  forwardMs: number;
  stepMs: number;
  hostMsPerStep: number;
  hostPct: number;
  /** The engine's own accounting: (total - time inside session.run) / total, over the benchmark's runs. */
  engineHostPct: number;
}

export async function runLladaOverheadBench(modelDir: string, opts = { promptTokens: 32, genLength: 32, steps: 8, timeMs: 4000 }): Promise<LladaOverheadResult> {
  const folder = loadModelFolder(modelDir);
  const spec = folder.meta.spec;
  const engine = await createLladaEngine({ modelDir, device: 'cpu' });
  const session = await ort.InferenceSession.create(folder.onnxPath, sessionOptions(undefined, ['cpu']));
  const prompt = Array.from({ length: opts.promptTokens }, (_, i) => (i * 7 + 3) % (spec.vocabSize - 8));
  const L = opts.promptTokens + opts.genLength;
  const i64 = (v: (t: number) => number) => new ort.Tensor('int64', BigInt64Array.from({ length: L }, (_, t) => BigInt(v(t))), [1, L]);
  const feeds = {
    [IO.inputIds]: i64((t) => (t < opts.promptTokens ? at(prompt, t, 'prompt') : spec.maskTokenId!)),
    [IO.attentionMask]: i64(() => 1),
    [IO.positionIds]: i64((t) => t),
    [IO.logitsStart]: new ort.Tensor('int64', BigInt64Array.from([BigInt(opts.promptTokens)]), [1]),
    [IO.cfgScale]: new ort.Tensor('float32', Float32Array.from([0]), [1]),
    [IO.temperature]: new ort.Tensor('float32', Float32Array.from([0]), [1]),
    [IO.noiseSeed]: new ort.Tensor('int64', BigInt64Array.from([0n]), [1]),
  };
  let engineTotal = 0;
  let engineForward = 0;
  const bench = new Bench({ time: opts.timeMs, iterations: 5, warmupIterations: 2 });
  bench
    .add('forward (session.run, same shapes)', async () => {
      await session.run(feeds, [IO.x0, IO.confidence]);
    })
    .add(`llada generate (${opts.steps} steps)`, async () => {
      const r = await engine.generate({ prompts: [prompt], genLength: opts.genLength }, { ...DEFAULT_LLADA_OPTIONS, steps: opts.steps, blockLength: opts.genLength });
      if (!r.ok) throw new Error(r.error.message);
      engineTotal += r.value.totalMs;
      engineForward += r.value.forwardMs;
    });
  await bench.run();
  const [fwd, gen] = bench.tasks.map((t) => t.result);
  const mean = (r: unknown) => (r as { latency: { mean: number } }).latency.mean;
  const forwardMs = mean(fwd);
  const stepMs = mean(gen) / opts.steps;
  await engine.dispose();
  await session.release();
  return {
    ...opts,
    forwardMs,
    stepMs,
    hostMsPerStep: stepMs - forwardMs,
    hostPct: ((stepMs - forwardMs) / stepMs) * 100,
    engineHostPct: engineTotal > 0 ? ((engineTotal - engineForward) / engineTotal) * 100 : 0,
  };
}
