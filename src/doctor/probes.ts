/**
 * The checks themselves: each looks at one thing on this machine and returns a CheckResult. They may throw;
 * runProbe (checks.ts) turns a throw into a failed check. Dependencies that tests need to vary are parameters.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { errorMessage } from '../util/errors.js';
import { CUDA_INSTALL_FIX, cudaProviderInstalled, explainCudaFailure, ortBinaryDir } from '../engines/device.js';
import { HUB_ENTRY, cacheRoot, parseCacheEntryName, variantText } from '../models/cache.js';
import { MODEL_FORMAT_VERSION, type ModelFolder, loadVerifiedModelFolder } from '../models/folder.js';
import { onnxruntimeVersion } from '../results/environment.js';
import type { GpuInfo } from '../results/types.js';
import { NVIDIA_SMI_ENV, queryGpus, resolveNvidiaSmiPath } from '../telemetry/nvidia-smi.js';
import type { CheckResult } from './checks.js';
import { byteSize } from '../util/format.js';
import { type SessionProbeResult, probeSession } from './session-probe.js';
import { at } from '../util/indexing.js';

export const MIN_NODE_MAJOR = 20;

export function checkNode(version: string = process.versions.node): CheckResult {
  const major = Number(version.split('.')[0]);
  if (major >= MIN_NODE_MAJOR) return { id: 'node', status: 'ok', summary: `Node ${version}` };
  return {
    id: 'node',
    status: 'fail',
    summary: `Node ${version} is too old (dllm-bench needs ${MIN_NODE_MAJOR} or newer)`,
    fix: `install Node ${MIN_NODE_MAJOR} LTS or newer (https://nodejs.org)`,
  };
}

export async function checkOnnxruntime(): Promise<CheckResult> {
  const version = onnxruntimeVersion();
  let backends: { name: string; bundled: boolean }[];
  try {
    const ort = await import('onnxruntime-node');
    backends = ort.listSupportedBackends();
  } catch (err) {
    return {
      id: 'onnxruntime',
      status: 'fail',
      summary: `onnxruntime-node ${version} does not load: ${errorMessage(err)}`,
      fix: 'reinstall the dependencies (npm ci) on this platform; onnxruntime-node ships native binaries per OS and CPU',
    };
  }
  const bundled = backends.filter((b) => b.bundled).map((b) => b.name);
  const extra = backends.filter((b) => !b.bundled).map((b) => b.name);
  return {
    id: 'onnxruntime',
    status: 'ok',
    summary: `onnxruntime-node ${version}; backends: ${bundled.join(', ') || 'none'} (bundled)${extra.length ? `, ${extra.join(', ')} (separate provider libraries)` : ''}`,
  };
}

export type SessionProber = (modelPath: string, provider: string, timeoutMs?: number) => Promise<SessionProbeResult>;

function timings(r: { createMs: number; runMs: number }): string {
  return `session created in ${Math.round(r.createMs)} ms, test graph ran in ${r.runMs.toFixed(1)} ms`;
}

function tail(text: string, lines = 8): string {
  const kept = text.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
  return kept.slice(-lines).join('\n');
}

/** Without the ANSI colour onnxruntime wraps its own log lines in. */
function plain(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

export async function checkCpu(modelPath: string, probe: SessionProber = probeSession): Promise<CheckResult> {
  const r = await probe(modelPath, 'cpu', 60_000);
  if (r.ok) return { id: 'cpu', status: 'ok', summary: timings(r) };
  const stderr = tail(plain(r.stderr));
  return {
    id: 'cpu',
    status: 'fail',
    summary: `the CPU provider cannot run a one-node graph: ${r.message.split('\n')[0]}`,
    ...(stderr ? { detail: stderr } : {}),
    fix: 'reinstall the dependencies (npm ci); if it persists, report it with this output',
  };
}

/** Splits "reason (details; more); what to do" at the last "; " outside parentheses. */
export function splitFix(text: string): { summary: string; fix?: string } {
  let depth = 0;
  let at = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth = Math.max(0, depth - 1);
    else if (ch === ';' && depth === 0 && text[i + 1] === ' ') at = i;
  }
  return at < 0 ? { summary: text } : { summary: text.slice(0, at), fix: text.slice(at + 2) };
}

/** `libcudnn.so.9: cannot open shared object file` out of onnxruntime's "Failed to load library X with error: ..." log. */
export function missingLibrary(log: string): string | undefined {
  const m = /([^\s/]+\.so[.\d]*): cannot open shared object file/.exec(log);
  return m ? `${m[1]}: cannot open shared object file` : undefined;
}

export interface CudaCheckDeps {
  installed: () => boolean;
  probe: SessionProber;
  /** Turns the failure into "reason; fix" (engines/device.ts). */
  explain: (err: unknown) => string;
}

const cudaDeps: CudaCheckDeps = { installed: cudaProviderInstalled, probe: probeSession, explain: explainCudaFailure };

export async function checkCuda(modelPath: string, deps: Partial<CudaCheckDeps> = {}): Promise<CheckResult> {
  const d = { ...cudaDeps, ...deps };
  if (!d.installed()) {
    return {
      id: 'cuda',
      status: 'warn',
      summary: 'CUDA provider libraries are not installed: runs use the CPU',
      detail: `no libonnxruntime_providers_cuda.so in ${ortBinaryDir()}`,
      fix: CUDA_INSTALL_FIX,
    };
  }
  // First CUDA context creation can take tens of seconds on a cold driver.
  const r = await d.probe(modelPath, 'cuda', 120_000);
  if (r.ok) return { id: 'cuda', status: 'ok', summary: timings(r) };
  const stderr = plain(r.stderr);
  // The JS error is often just "Failed to load shared library"; the native log names the library that is missing.
  const named = missingLibrary(stderr) ?? stderr.split('\n').find((l) => /CUDA failure|no CUDA-capable device/i.test(l))?.trim();
  const explained = d.explain(new Error([named ?? r.message, r.message, stderr].join('\n')));
  const { summary, fix } = splitFix(explained);
  const detail = tail([r.message, stderr].join('\n'));
  return { id: 'cuda', status: 'warn', summary: `CUDA session failed: ${summary}`, ...(detail ? { detail } : {}), ...(fix ? { fix } : {}) };
}

export async function checkWebgpu(modelPath: string, probe: SessionProber = probeSession): Promise<CheckResult> {
  const r = await probe(modelPath, 'webgpu', 60_000);
  if (r.ok) return { id: 'webgpu', status: 'ok', summary: timings(r) };
  const msg = plain(r.message);
  const adapter = /Failed to get a WebGPU adapter:\s*([^\n]+)/i.exec(msg)?.[1]?.trim();
  const missing = /Couldn't load (\w+): (\S+?):/i.exec(plain(r.stderr));
  const why = adapter ?? at(msg.split('\n'), 0, 'first line').slice(0, 200);
  return {
    id: 'webgpu',
    status: 'warn',
    summary: `no usable WebGPU adapter: ${why}${missing ? ` (${missing[1]} not loadable: ${missing[2]})` : ''}`,
    fix: 'optional: WebGPU needs a GPU with a Vulkan driver; use --device cuda or --device cpu',
  };
}

/** Finds an executable the way the shell would: a path as given, or the first match on PATH. */
export function findExecutable(command: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const isFile = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (command.includes('/')) return isFile(command) ? resolve(command) : null;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, command);
    if (isFile(p)) return p;
  }
  return null;
}

function describeGpu(g: GpuInfo): string {
  const mem = g.memoryTotalBytes === null ? '' : `, ${byteSize(g.memoryTotalBytes)}`;
  return `GPU ${g.index}: ${g.name} (driver ${g.driver ?? 'unknown'}${mem})`;
}

function firstOutputLine(path: string, args: string[]): Promise<string> {
  return new Promise((done) => {
    execFile(path, args, { encoding: 'utf8', timeout: 10_000 }, (err, stdout, stderr) => {
      const line = `${stdout}\n${stderr}`.split('\n').find((l) => l.trim() !== '')?.trim();
      done(line ?? (err ? errorMessage(err) : 'no output'));
    });
  });
}

export async function checkNvidiaSmi(env: NodeJS.ProcessEnv = process.env): Promise<CheckResult> {
  const wanted = resolveNvidiaSmiPath(undefined, env);
  const explicit = wanted !== 'nvidia-smi';
  const path = findExecutable(wanted, env);
  if (!path) {
    if (explicit) {
      return {
        id: 'nvidia-smi',
        status: 'warn',
        summary: `${NVIDIA_SMI_ENV}=${wanted}: no executable there; GPU telemetry will be missing`,
        fix: `point ${NVIDIA_SMI_ENV} at nvidia-smi, or unset it to look on PATH`,
      };
    }
    return {
      id: 'nvidia-smi',
      status: 'skip',
      summary: 'nvidia-smi not found on PATH: no NVIDIA driver, so no GPU telemetry (expected on a CPU-only machine)',
      detail: `if the driver is installed elsewhere, set ${NVIDIA_SMI_ENV} to nvidia-smi's path`,
    };
  }
  const gpus = await queryGpus({ path });
  if (gpus.length === 0) {
    return {
      id: 'nvidia-smi',
      status: 'warn',
      summary: `${path} lists no GPU: ${await firstOutputLine(path, ['-L'])}`,
      fix: 'check the NVIDIA driver (run nvidia-smi by hand) and CUDA_VISIBLE_DEVICES',
    };
  }
  const names = [...new Set(gpus.map((g) => g.name))].join(', ');
  return {
    id: 'nvidia-smi',
    status: 'ok',
    summary: `${gpus.length} GPU${gpus.length === 1 ? '' : 's'}: ${names}`,
    detail: gpus.map(describeGpu).join('\n'),
  };
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += folderBytes(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

function nearestExisting(dir: string): string {
  let d = resolve(dir);
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

function canWriteInto(dir: string): boolean {
  // A real write answers for permissions, ACLs and read-only mounts alike (access(W_OK) always says yes to root).
  const probe = join(dir, `.dllm-doctor-${process.pid}-${Date.now()}`);
  try {
    writeFileSync(probe, '');
    unlinkSync(probe);
    return true;
  } catch {
    return false;
  }
}


interface CacheEntry {
  name: string;
  bytes: number;
  usable: boolean;
  note: string;
}

function inspectEntry(modelsDir: string, name: string): CacheEntry {
  const dir = join(modelsDir, name);
  const bytes = folderBytes(dir);
  if (name.includes('.tmp-')) return { name, bytes, usable: false, note: 'left by an interrupted build; safe to delete' };
  const hub = HUB_ENTRY.exec(name);
  if (hub) {
    if (Number(hub[4]) !== MODEL_FORMAT_VERSION) return { name, bytes, usable: false, note: `older model format v${hub[4]}; unused, safe to delete` };
    try {
      loadVerifiedModelFolder(dir);
      return { name, bytes, usable: true, note: `hub snapshot ${hub[2]} converted, ${hub[3]}` };
    } catch (err) {
      return { name, bytes, usable: false, note: `broken (${errorMessage(err)}); rebuilt on next use` };
    }
  }
  const k = parseCacheEntryName(name);
  if (!k) return { name, bytes, usable: false, note: 'not a dllm-bench cache entry' };
  if (k.formatVersion !== MODEL_FORMAT_VERSION) {
    return { name, bytes, usable: false, note: `older model format v${k.formatVersion} (current v${MODEL_FORMAT_VERSION}); unused, safe to delete` };
  }
  try {
    loadVerifiedModelFolder(dir);
    return { name, bytes, usable: true, note: `${k.preset} preset, ${k.family}, ${k.dtype}, ${variantText(k.variant)}` };
  } catch (err) {
    return { name, bytes, usable: false, note: `broken (${errorMessage(err)}); rebuilt on next use` };
  }
}

export function checkCache(env: NodeJS.ProcessEnv = process.env): CheckResult {
  const root = resolve(cacheRoot(env));
  const fix = 'set DLLM_BENCH_CACHE to a writable folder';
  if (!existsSync(root)) {
    const parent = nearestExisting(root);
    let writable = false;
    try {
      accessSync(parent, constants.W_OK);
      writable = statSync(parent).isDirectory();
    } catch {
      writable = false;
    }
    return writable
      ? { id: 'cache', status: 'ok', summary: `${root}: not created yet (presets are built here on first use)` }
      : { id: 'cache', status: 'fail', summary: `${root} does not exist and ${parent} is not writable: presets cannot be built`, fix };
  }
  if (!statSync(root).isDirectory()) return { id: 'cache', status: 'fail', summary: `${root} is not a folder`, fix };
  const writable = canWriteInto(root);
  const modelsDir = join(root, 'models');
  const entries = existsSync(modelsDir)
    ? readdirSync(modelsDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => inspectEntry(modelsDir, e.name)).sort((a, b) => a.name.localeCompare(b.name))
    : [];
  const usable = entries.filter((e) => e.usable);
  const total = entries.reduce((s, e) => s + e.bytes, 0);
  const built = `${usable.length} model${usable.length === 1 ? '' : 's'} built${usable.length ? ` (${usable.map((e) => e.name).join(', ')})` : ''}`;
  const summary = `${root}: ${writable ? 'writable' : 'not writable'}, ${built}, ${byteSize(total)} in all`;
  const detail = entries.map((e) => `${e.name}  ${byteSize(e.bytes)}  ${e.note}`).join('\n');
  if (writable) return { id: 'cache', status: 'ok', summary, ...(detail ? { detail } : {}) };
  // Read-only still works for presets already built; anything new cannot be.
  return { id: 'cache', status: usable.length ? 'warn' : 'fail', summary, ...(detail ? { detail } : {}), fix };
}

export function checkModel(dirArg: string): CheckResult {
  const id = `model:${dirArg}`;
  let folder: ModelFolder;
  try {
    folder = loadVerifiedModelFolder(dirArg);
  } catch (err) {
    return { id, status: 'fail', summary: errorMessage(err) };
  }
  const m = folder.meta;
  const origin = m.synthetic ? `synthetic ${m.synthetic.preset} preset, seed ${m.synthetic.seed}` : `converted from ${m.source}`;
  return {
    id,
    status: 'ok',
    summary: `${m.family} (${m.graph} graph), ${m.dtype}, ${(m.parameters / 1e6).toFixed(1)}M parameters, ${byteSize(m.onnxBytes)} ONNX; ${origin}${m.hasTokenizer ? '' : '; no tokenizer files'}`,
    ...(isAbsolute(dirArg) ? {} : { detail: folder.dir }),
  };
}
