/**
 * `npm run bench`: speed targets live here, never in unit tests.
 *  - LLaDA engine host overhead per step vs the model forward (target < 2%), small preset.
 *  - transformers.js per-token time vs the direct onnxruntime decode loop (ar vs ar-ort), and the decode loop in one
 *    onnxruntime call vs the direct loop (ar-loop vs ar-ort, target within 5%), small preset.
 *  - LLaDA KV caches (none / prefix / dual), whole generate call, small preset (--only cache runs just this one).
 *  - memory: a whole run's peak RSS (target <= 1.0 GiB) and generate start-up with --cache dual vs none (target
 *    <= 1.2x), on the built CLI (--only memory runs just this one).
 * Models are built into the cache on first use (DLLM_BENCH_CACHE). Pass --preset tiny for a quick run.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveModelRef } from '../models/cache.js';
import { loopLine, runArOverheadBench } from './ar-overhead.js';
import { formatLladaCacheBench, runLladaCacheBench } from './llada-cache.js';
import { runLladaOverheadBench } from './llada-overhead.js';
import { formatMemoryBench, runMemoryBench, startupBench } from './memory.js';
import { at } from '../util/indexing.js';

const preset = process.argv.includes('--preset') ? at(process.argv, process.argv.indexOf('--preset') + 1, 'process.argv') : 'small';
const llada = resolveModelRef(preset, 'diffusion', { dtype: 'fp32', seed: 0 });
const llama = resolveModelRef(preset, 'ar', { dtype: 'fp32', seed: 0 });

if (process.argv.includes('--only') && process.argv[process.argv.indexOf('--only') + 1] === 'cache') {
  const progress = (line: string) => process.stderr.write(`  ${line}\n`);
  process.stdout.write(formatLladaCacheBench(await runLladaCacheBench(llada.dir, undefined, progress), preset));
  process.exit(0);
}
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
if (only === null || only === 'memory') {
  // Child processes first, while this one is still small: a run of the CLI and generate start-ups.
  const out = mkdtempSync(join(tmpdir(), 'dllm-bench-memory-'));
  process.stdout.write(formatMemoryBench(preset, await runMemoryBench(preset, out), await startupBench(llada.dir)));
  if (only === 'memory') process.exit(0);
}
const l = await runLladaOverheadBench(llada.dir);
// The target is judged on the engine's own accounting (time inside generate() but outside session.run, per step):
// it is measured in the same runs, so machine noise cancels. The standalone-forward comparison is a cross-check.
const engineHostMs = (l.engineHostPct / 100) * l.stepMs;
process.stdout.write(
  `LLaDA (${preset}, prompt ${l.promptTokens}, gen ${l.genLength}, ${l.steps} steps, CPU): host overhead ${engineHostMs.toFixed(3)} ms per step = ` +
    `${l.engineHostPct.toFixed(2)}% of a ${l.stepMs.toFixed(2)} ms step ${l.engineHostPct < 2 ? 'OK (< 2%)' : 'ABOVE the 2% target'}; ` +
    `cross-check: standalone forward ${l.forwardMs.toFixed(2)} ms vs engine step ${l.stepMs.toFixed(2)} ms (${l.hostPct.toFixed(2)}%, noisier: separate runs)\n`,
);
const a = await runArOverheadBench(llama.dir);
process.stdout.write(
  `AR (${preset}, CPU): transformers.js ${a.transformersMsPerToken.toFixed(2)} ms/token, direct onnxruntime loop ${a.directMsPerToken.toFixed(2)} ms/token, ` +
    `overhead ${a.overheadPct.toFixed(1)}% ${a.overheadPct > 10 ? '(> 10%: ar-ort is reported beside ar)' : ''}; ${loopLine(a)}\n`,
);
process.stdout.write(formatLladaCacheBench(await runLladaCacheBench(llada.dir), preset));
