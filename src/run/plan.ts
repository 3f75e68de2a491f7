/**
 * The memory plan, made before any model loads: per engine and case, weights + KV cache + activations (+ the CUDA
 * runtime) against the device's free memory (CPU: MemAvailable; CUDA: nvidia-smi's memory.free on the GPU the run
 * uses; or what --gpu-memory / --cpu-memory say). `run --plan` prints it; `run` refuses the cases that do not fit.
 * Shapes come from a preset's spec or a model folder's config.json: nothing is built or loaded.
 */
import { at } from '../util/indexing.js';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { join } from 'node:path';
import { type RunConfig, isUrl } from '../config/schema.js';
import type { EngineKind, ScenarioKind } from '../config/kinds.js';
import { isPresetName, trainedCheckpointDir } from '../models/cache.js';
import { specFromConfig } from '../models/families.js';
import { loadModelFolder } from '../models/folder.js';
import { GIB, type MemoryCase, type MemoryNeed, caseMemory, formatBytes } from '../models/memory.js';
import { PRESETS, getPreset, presetSpec } from '../models/presets.js';
import type { Family, TransformerSpec } from '../models/spec.js';
import { resolveNvidiaSmiPath } from '../telemetry/nvidia-smi.js';
import { gpuIndicesFromEnv } from '../telemetry/telemetry.js';
import { UserError } from '../util/errors.js';

/** Prompt length the plan assumes for prompt-set scenarios (throughput, batch, steps) before any tokenizer loads. */
export const PLAN_PROMPT_TOKENS = 128;

export interface SideShape {
  role: 'diffusion' | 'ar';
  model: string;
  kinds: EngineKind[];
  dtype: 'fp16' | 'fp32';
  spec: TransformerSpec;
}

export interface PlannedCase {
  scenario: ScenarioKind;
  /** "b4 p128 g32 dual cache" */
  label: string;
  memory: MemoryCase;
  need: MemoryNeed;
}

export interface EnginePlan {
  role: 'diffusion' | 'ar';
  engine: EngineKind;
  model: string;
  cases: PlannedCase[];
  largest: PlannedCase;
}

export interface FreeMemory {
  device: 'cpu' | 'cuda';
  bytes: number;
  /** Where the figure came from ("MemAvailable", "nvidia-smi memory.free on GPU 0", "--gpu-memory 24"). */
  source: string;
}

export interface MemoryPlan {
  free: FreeMemory;
  engines: EnginePlan[];
  /** 'pair': the largest engine of each side fits at once; 'one-at-a-time': each engine fits alone; else 'does-not-fit'. */
  verdict: 'pair' | 'one-at-a-time' | 'does-not-fit';
  /** Both sides' largest engines resident together. */
  pairBytes: number;
}

/** The shapes of a local side, without building or loading anything; null for a URL or a hub model. */
export function sideSpec(ref: string, family: Family): TransformerSpec | null {
  if (isUrl(ref)) return null;
  if (Object.hasOwn(PRESETS, ref)) return presetSpec(getPreset(ref), family);
  const config = isPresetName(ref) ? join(trainedCheckpointDir(ref, family), 'config.json') : join(ref, 'config.json');
  if (!existsSync(config)) return null;
  if (!isPresetName(ref)) {
    try {
      return loadModelFolder(ref).meta.spec;
    } catch {
      // not a built folder: a checkpoint's config.json is read below
    }
  }
  return specFromConfig(JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>, config);
}

export function sideShapes(c: RunConfig): SideShape[] {
  const out: SideShape[] = [];
  for (const [role, family, kinds] of [['diffusion', 'llada', ['llada']], ['ar', 'llama', c.ar.engines]] as const) {
    const spec = sideSpec(c[role].model, family);
    if (spec) out.push({ role, model: c[role].model, kinds: [...kinds], dtype: c[role].dtype, spec });
  }
  return out;
}

function label(m: MemoryCase): string {
  return `b${m.batchSize} p${m.promptTokens} g${m.genLength}${m.cache && m.cache !== 'none' ? ` ${m.cache} cache` : ''}`;
}

/** The cases a run makes of one engine, as the memory plan sees them (prompt-set prompts at PLAN_PROMPT_TOKENS). */
export function engineCases(c: RunConfig, side: SideShape, device: 'cpu' | 'cuda', promptTokens = PLAN_PROMPT_TOKENS): PlannedCase[] {
  const graph = side.role === 'diffusion' ? 'diffusion' : 'causal';
  const cfg = c.llada.cfgScale > 0;
  const mk = (scenario: ScenarioKind, batchSize: number, prompt: number, cache: MemoryCase['cache'] = c.llada.cache): PlannedCase => {
    const memory: MemoryCase = { graph, batchSize, promptTokens: prompt, genLength: c.genLength, ...(graph === 'diffusion' ? { cache, cfg } : {}) };
    return { scenario, label: label(memory), memory, need: caseMemory(side.spec, side.dtype, device, memory) };
  };
  const cases: PlannedCase[] = [];
  for (const s of c.scenarios) {
    if (s === 'throughput') cases.push(mk(s, c.throughput.batchSize, promptTokens));
    if (s === 'batch') for (const b of new Set([1, ...c.batch.batchSizes])) cases.push(mk(s, b, promptTokens));
    if (s === 'context') for (const p of c.context.promptLengths) cases.push(mk(s, 1, p));
    if (s === 'steps') {
      if (graph === 'diffusion') for (const cache of c.steps.caches) cases.push(mk(s, 1, promptTokens, cache));
      else cases.push(mk(s, 1, promptTokens));
    }
  }
  return cases;
}

export function buildPlan(c: RunConfig, sides: SideShape[], free: FreeMemory): MemoryPlan {
  const engines: EnginePlan[] = [];
  for (const side of sides) {
    const cases = engineCases(c, side, free.device);
    if (!cases.length) continue;
    const largest = cases.reduce((a, b) => (b.need.totalBytes > a.need.totalBytes ? b : a));
    for (const engine of side.kinds) engines.push({ role: side.role, engine, model: side.model, cases, largest });
  }
  // Both sides resident at once: each side's largest case; the runtime allowance counted once.
  const perSide = (['diffusion', 'ar'] as const).map((role) => engines.filter((e) => e.role === role).map((e) => e.largest.need));
  const sideMax = perSide.map((needs) => (needs.length ? Math.max(...needs.map((n) => n.totalBytes - n.runtimeBytes)) : 0));
  const runtime = Math.max(0, ...engines.map((e) => e.largest.need.runtimeBytes));
  const pairBytes = at(sideMax, 0, 'sideMax') + at(sideMax, 1, 'sideMax') + runtime;
  const alone = engines.every((e) => e.largest.need.totalBytes <= free.bytes);
  const verdict = alone && pairBytes <= free.bytes ? 'pair' : alone ? 'one-at-a-time' : 'does-not-fit';
  return { free, engines, verdict, pairBytes };
}

/** Why a case of `need` cannot run within `free`, in one line; null when it fits. */
export function refusal(need: MemoryNeed, free: FreeMemory): string | null {
  if (need.totalBytes <= free.bytes) return null;
  return `needs ${formatBytes(need.totalBytes)} (weights ${formatBytes(need.weightsBytes)}, KV cache ${formatBytes(need.kvCacheBytes)}, activations ${formatBytes(need.activationBytes)}${need.runtimeBytes ? `, runtime ${formatBytes(need.runtimeBytes)}` : ''}) but ${formatBytes(free.bytes)} is free (${free.source}): ${formatBytes(need.totalBytes - free.bytes)} short`;
}

export function renderPlan(plan: MemoryPlan): string {
  const { free } = plan;
  const lines = [`memory plan: ${free.device}, ${formatBytes(free.bytes)} free (${free.source})`];
  const row = (cells: string[]) => cells.map((x, i) => (i < 3 ? x.padEnd(at([8, 12, 26], i, '[8, 12, 26]')) : x.padStart(12))).join(' ');
  lines.push(row(['engine', 'model', 'largest case', 'weights', 'KV cache', 'activations', 'runtime', 'needs']));
  for (const e of plan.engines) {
    const n = e.largest.need;
    lines.push(row([e.engine, e.model, `${e.largest.scenario} ${e.largest.label}`, formatBytes(n.weightsBytes), formatBytes(n.kvCacheBytes), formatBytes(n.activationBytes), formatBytes(n.runtimeBytes), formatBytes(n.totalBytes)]));
  }
  if (!plan.engines.length) lines.push('(no local model: nothing to load)');
  const biggest = plan.engines.reduce<EnginePlan | null>((a, b) => (!a || b.largest.need.totalBytes > a.largest.need.totalBytes ? b : a), null);
  if (plan.verdict === 'pair') {
    lines.push(`verdict: the pair fits: both models resident at once need ${formatBytes(plan.pairBytes)} of ${formatBytes(free.bytes)}`);
  } else if (plan.verdict === 'one-at-a-time') {
    lines.push(
      `verdict: fits one model at a time (the run opens one engine at a time): the largest case, ${biggest!.engine} ${biggest!.largest.scenario} ${biggest!.largest.label}, ` +
        `needs ${formatBytes(biggest!.largest.need.totalBytes)} of ${formatBytes(free.bytes)}; both models at once would need ${formatBytes(plan.pairBytes)}`,
    );
  } else {
    lines.push('verdict: does not fit:');
    for (const e of plan.engines) {
      const over = e.cases.filter((x) => x.need.totalBytes > free.bytes);
      if (!over.length) continue;
      const worst = e.largest;
      lines.push(
        `  ${e.engine} (${e.model}): ${over.length} of ${e.cases.length} cases do not fit; the largest, ${worst.scenario} ${worst.label}, needs ${formatBytes(worst.need.totalBytes)}: ` +
          `${formatBytes(worst.need.totalBytes - free.bytes)} over${e.cases.length === over.length ? ` (the weights alone: ${formatBytes(worst.need.weightsBytes + worst.need.runtimeBytes)})` : ''}`,
      );
    }
    lines.push('  cases that do not fit are recorded as skipped, with this reason, and the run goes on');
  }
  return lines.join('\n');
}

/** Available RAM: /proc/meminfo's MemAvailable (what can be allocated without swapping), else os.freemem(). */
export function availableRam(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return freemem();
}

/** nvidia-smi's free memory (bytes) of a GPU; null without nvidia-smi or that GPU. */
export function gpuFreeMemory(index: number, path?: string): Promise<number | null> {
  return new Promise((resolve) => {
    try {
      execFile(resolveNvidiaSmiPath(path), ['--query-gpu=index,memory.free', '--format=csv,noheader,nounits'], { timeout: 10_000, encoding: 'utf8' }, (err, stdout) => {
        if (err) return resolve(null);
        resolve(parseGpuFree(stdout, index));
      });
    } catch {
      resolve(null);
    }
  });
}

/** `index, memory.free` lines (MiB) -> bytes free on GPU `index`; null when it is not listed. */
export function parseGpuFree(stdout: string, index: number): number | null {
  for (const line of stdout.split('\n')) {
    const m = /^\s*(\d+)\s*,\s*(\d+(?:\.\d+)?)\s*$/.exec(line);
    if (m && Number(m[1]) === index) return Number(m[2]) * 2 ** 20;
  }
  return null;
}

export interface FreeMemoryOptions {
  gpuMemoryGiB?: number;
  cpuMemoryGiB?: number;
  /** run --plan: a device without a figure is an error rather than an unplanned run. */
  planOnly?: boolean;
}

/** The free memory the plan budgets against: the flags when given, else what the device reports. */
export async function freeMemory(c: RunConfig, o: FreeMemoryOptions): Promise<FreeMemory> {
  if (o.gpuMemoryGiB !== undefined) {
    if (c.device === 'cpu') throw new UserError('--gpu-memory plans for a GPU: it cannot be combined with --device cpu (use --cpu-memory)');
    return { device: 'cuda', bytes: o.gpuMemoryGiB * GIB, source: `--gpu-memory ${o.gpuMemoryGiB}` };
  }
  if (c.device !== 'cpu') {
    const index = gpuIndicesFromEnv().gpuIndices?.[0] ?? 0;
    const bytes = await gpuFreeMemory(index);
    if (bytes !== null) return { device: 'cuda', bytes, source: `nvidia-smi memory.free on GPU ${index}` };
    if (c.device === 'cuda') {
      // --plan needs a figure; a run goes on unplanned and lets the engine say why CUDA cannot load.
      if (o.planOnly) throw new UserError('--device cuda: nvidia-smi reports no GPU to plan for; pass --gpu-memory <GiB> to plan for a GPU this machine does not have');
      return { device: 'cuda', bytes: Number.POSITIVE_INFINITY, source: 'not planned: nvidia-smi reports no GPU' };
    }
  }
  if (o.cpuMemoryGiB !== undefined) return { device: 'cpu', bytes: o.cpuMemoryGiB * GIB, source: `--cpu-memory ${o.cpuMemoryGiB}` };
  return { device: 'cpu', bytes: availableRam(), source: 'MemAvailable' };
}
