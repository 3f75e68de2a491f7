/**
 * What transformers.js costs per generated token against the minimal direct onnxruntime loop over the same graph
 * (batch 1, 64-token prompt, 64 new tokens, fixed length). If the overhead exceeds 10%, ar-ort is worth reporting
 * beside ar (the default config reports both anyway).
 */
import { Bench } from 'tinybench';
import { createOrtArEngine } from '../engines/ar-ort/engine.js';
import { createTransformersEngine } from '../engines/transformers/engine.js';
import type { Engine } from '../engines/types.js';
import type { ArGenerateOptions } from '../engines/ar-common.js';
import { loadModelFolder } from '../models/folder.js';

export interface ArOverheadResult {
  transformersMsPerToken: number;
  directMsPerToken: number;
  overheadPct: number;
}

export async function runArOverheadBench(modelDir: string, opts = { promptTokens: 64, genLength: 64, timeMs: 4000 }): Promise<ArOverheadResult> {
  const spec = loadModelFolder(modelDir).meta.spec;
  const prompt = Array.from({ length: opts.promptTokens }, (_, i) => (i * 11 + 5) % (spec.vocabSize - 8));
  const tf = await createTransformersEngine({ modelDir, device: 'cpu' });
  const direct = await createOrtArEngine({ modelDir, device: 'cpu' });
  const run = async (e: Engine<ArGenerateOptions>) => {
    const r = await e.generate({ prompts: [prompt], genLength: opts.genLength }, { mode: 'fixed' });
    if (!r.ok) throw new Error(r.error.message);
  };
  const bench = new Bench({ time: opts.timeMs, iterations: 5, warmupIterations: 2 });
  bench.add('transformers.js (ar)', () => run(tf)).add('direct onnxruntime loop (ar-ort)', () => run(direct));
  await bench.run();
  const [a, b] = bench.tasks.map((t) => (t.result as unknown as { latency: { mean: number } }).latency.mean / opts.genLength);
  await tf.dispose();
  await direct.dispose();
  return { transformersMsPerToken: a!, directMsPerToken: b!, overheadPct: ((a! - b!) / b!) * 100 };
}
