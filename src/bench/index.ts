/**
 * `npm run bench`: speed targets live here, never in unit tests.
 *  - LLaDA engine host overhead per step vs the model forward (target < 2%), small preset.
 *  - transformers.js per-token time vs the direct onnxruntime decode loop (ar vs ar-ort), small preset.
 * Models are built into the cache on first use (DLLM_BENCH_CACHE). Pass --preset tiny for a quick run.
 */
import { resolveModelRef } from '../models/cache.js';
import { runArOverheadBench } from './ar-overhead.js';
import { runLladaOverheadBench } from './llada-overhead.js';

const preset = process.argv.includes('--preset') ? process.argv[process.argv.indexOf('--preset') + 1]! : 'small';
const llada = resolveModelRef(preset, 'llada', { dtype: 'fp32', seed: 0 });
const llama = resolveModelRef(preset, 'llama', { dtype: 'fp32', seed: 0 });

const l = await runLladaOverheadBench(llada.dir);
process.stdout.write(
  `LLaDA (${preset}, prompt ${l.promptTokens}, gen ${l.genLength}, ${l.steps} steps, CPU): forward ${l.forwardMs.toFixed(2)} ms, ` +
    `step ${l.stepMs.toFixed(2)} ms, host ${l.hostMsPerStep.toFixed(3)} ms/step = ${l.hostPct.toFixed(2)}% (engine accounting ${l.engineHostPct.toFixed(3)}%) ` +
    `${l.hostPct < 2 ? 'OK (< 2%)' : 'ABOVE the 2% target'}\n`,
);
const a = await runArOverheadBench(llama.dir);
process.stdout.write(
  `AR (${preset}, CPU): transformers.js ${a.transformersMsPerToken.toFixed(2)} ms/token, direct onnxruntime loop ${a.directMsPerToken.toFixed(2)} ms/token, ` +
    `overhead ${a.overheadPct.toFixed(1)}% ${a.overheadPct > 10 ? '(> 10%: ar-ort is reported beside ar)' : ''}\n`,
);
