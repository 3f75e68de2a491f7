/**
 * `npm run gpu-check`: what only a CUDA machine can show, in one script (a few minutes on the tiny presets; the
 * weight-copy check uses the small preset, whose 384 MiB of weights stand out from the CUDA context):
 *  1. CPU and CUDA decode the same tokens, every engine (llada in every cache mode, ar, ar-ort, ar-loop);
 *  2. one copy of the weights in GPU memory per model: running LLaDA's cached forward and block loop after its plain
 *     forward adds less than half a weight copy to this process's GPU memory (nvidia-smi --query-compute-apps);
 *  3. no per-token host<->device bytes for ar-loop and the block loop: their bytes per generate do not grow with the
 *     tokens generated (ar-ort's do: the control);
 *  4. nvidia-smi's telemetry query parses from the real binary.
 * Without a GPU it says why and exits 0 (skipped), so it can sit in any checklist.
 */
import { createArLoopEngine } from '../engines/ar-loop/engine.js';
import { createOrtArEngine } from '../engines/ar-ort/engine.js';
import { createLladaEngine } from '../engines/llada/engine.js';
import { DEFAULT_LLADA_OPTIONS } from '../engines/llada/sampler.js';
import { createTransformersEngine } from '../engines/transformers/engine.js';
import type { Engine, EngineResult } from '../engines/types.js';
import { resolveModelRef } from '../models/cache.js';
import { weightBytes } from '../models/memory.js';
import { loadModelFolder } from '../models/folder.js';
import { queryProcessGpuMemory } from '../telemetry/engine-memory.js';
import { startNvidiaSmi } from '../telemetry/nvidia-smi.js';
import { gpuSkipReasonOf } from './gpu-skip.js';

const failures: string[] = [];
const say = (ok: boolean, line: string) => {
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${line}\n`);
  if (!ok) failures.push(line);
};

function value(r: EngineResult, what: string) {
  if (!r.ok) throw new Error(`${what}: ${r.error.message}`);
  return r.value;
}

async function pair<O>(what: string, create: (device: 'cpu' | 'cuda') => Promise<Engine<O>>, run: (e: Engine<O>) => Promise<EngineResult>): Promise<void> {
  const cpu = await create('cpu');
  const gpu = await create('cuda');
  try {
    const a = value(await run(cpu), `${what} on the CPU`);
    const b = value(await run(gpu), `${what} on CUDA`);
    say(gpu.info.device === 'cuda' && JSON.stringify(a.tokens) === JSON.stringify(b.tokens), `${what}: CUDA tokens equal the CPU's (${gpu.info.device})`);
  } finally {
    await cpu.dispose();
    await gpu.dispose();
  }
}

async function main(): Promise<number> {
  const reason = gpuSkipReasonOf();
  if (reason) {
    process.stdout.write(`gpu-check: skipped: ${reason}\n`);
    return 0;
  }
  const tinyLlada = resolveModelRef('tiny', 'llada', { dtype: 'fp32', seed: 0 }).dir;
  const tinyLlama = resolveModelRef('tiny', 'llama', { dtype: 'fp32', seed: 0 }).dir;
  const req = { prompts: [[5, 17, 33, 9, 12, 40]], genLength: 16 };

  // 1. tokens, every engine and cache mode
  for (const cache of ['none', 'prefix', 'dual'] as const) {
    const o = { ...DEFAULT_LLADA_OPTIONS, steps: 16, blockLength: 8, cache };
    await pair(`llada (${cache} cache)`, (device) => createLladaEngine({ modelDir: tinyLlada, device }), (e) => e.generate(req, o));
  }
  await pair('ar-ort', (device) => createOrtArEngine({ modelDir: tinyLlama, device }), (e) => e.generate(req, { mode: 'fixed' }));
  await pair('ar-loop', (device) => createArLoopEngine({ modelDir: tinyLlama, device }), (e) => e.generate(req, { mode: 'fixed' }));
  await pair('ar (transformers.js)', (device) => createTransformersEngine({ modelDir: tinyLlama, device }), (e) => e.generate(req, { mode: 'fixed' }));

  // 2. one weight copy in GPU memory: every decoding mode of one LLaDA model in one session
  const small = resolveModelRef('small', 'llada', { dtype: 'fp32', seed: 0 }).dir;
  const weights = weightBytes(loadModelFolder(small).meta.spec, 'fp32');
  const llada = await createLladaEngine({ modelDir: small, device: 'cuda' });
  try {
    const base = { ...DEFAULT_LLADA_OPTIONS, steps: 16, blockLength: 8 };
    value(await llada.generate(req, base), 'llada small, no cache');
    const afterForward = await queryProcessGpuMemory();
    value(await llada.generate(req, { ...base, cache: 'dual', cacheLoop: 'host' }), 'llada small, cached forward');
    value(await llada.generate(req, { ...base, cache: 'dual' }), 'llada small, block loop');
    const afterAll = await queryProcessGpuMemory();
    if (afterForward === null || afterAll === null) say(false, 'GPU memory: nvidia-smi does not list this process');
    else {
      const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
      say(afterForward >= weights, `GPU memory after the plain forward ${mib(afterForward)} holds the weights (${mib(weights)})`);
      say(afterAll - afterForward < weights / 2, `cached forward + block loop added ${mib(afterAll - afterForward)} (< half a weight copy, ${mib(weights / 2)}): one copy of the weights`);
    }
  } finally {
    await llada.dispose();
  }

  // 3. bytes per generate independent of the tokens generated (ar-loop, block loop); ar-ort grows (control)
  const total = (r: EngineResult) => {
    const v = value(r, 'bytes');
    return (v.hostDeviceBytesPerForward ?? 0) * v.trace.length;
  };
  const loop = await createArLoopEngine({ modelDir: tinyLlama, device: 'cuda' });
  const direct = await createOrtArEngine({ modelDir: tinyLlama, device: 'cuda' });
  const diff = await createLladaEngine({ modelDir: tinyLlada, device: 'cuda' });
  try {
    const short = { ...req, genLength: 8 };
    const long = { ...req, genLength: 32 };
    say(total(await loop.generate(short, { mode: 'fixed' })) === total(await loop.generate(long, { mode: 'fixed' })), 'ar-loop: host<->device bytes per generate do not grow with the tokens');
    say(total(await direct.generate(long, { mode: 'fixed' })) > total(await direct.generate(short, { mode: 'fixed' })), 'ar-ort (control): its bytes grow with the tokens');
    const o = { ...DEFAULT_LLADA_OPTIONS, blockLength: 8, cache: 'dual' as const };
    say(total(await diff.generate(req, { ...o, steps: 16 })) === total(await diff.generate(req, { ...o, steps: 8 })), 'block loop: bytes per generate do not grow with the steps');
  } finally {
    await loop.dispose();
    await direct.dispose();
    await diff.dispose();
  }

  // 4. nvidia-smi telemetry from the real binary
  const smi = startNvidiaSmi({ intervalMs: 200 });
  await new Promise((r) => setTimeout(r, 1500));
  const { samples } = await smi.stop();
  say(samples.length > 0 && samples.every((s) => s.name.length > 0), `nvidia-smi telemetry: ${samples.length} samples parsed (${samples[0]?.name ?? 'none'})`);

  process.stdout.write(failures.length ? `gpu-check: ${failures.length} check(s) failed\n` : 'gpu-check: all checks passed\n');
  return failures.length ? 1 : 0;
}

process.exitCode = await main();
