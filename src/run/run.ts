/**
 * `dllm-bench run`: config -> models -> engines (worker threads) -> scenarios -> results.json (after every
 * scenario) -> reports. Ctrl-C or a failing scenario still leaves every measured case on disk, complete: false.
 */
import { resolve } from 'node:path';
import { ExitCode, UserError, errorMessage } from '../util/errors.js';
import type { Progress } from './progress.js';
import { gitSha, toolVersion } from '../util/version.js';
import { type RunConfig, isUrl } from '../config/schema.js';
import { withAttentionParity } from '../engines/attention-parity.js';
import { createOpenAIEngine } from '../engines/openai/engine.js';
import { positionsError } from '../engines/request.js';
import type { EngineKind } from '../engines/types.js';
import { type Abortable, spawnTagged } from '../engines/worker/client.js';
import { resolveModelRef } from '../models/cache.js';
import type { ModelFolder } from '../models/folder.js';
import { openModel } from '../models/hub.js';
import type { Family } from '../models/spec.js';
import { type PromptTokenizer, loadTokenizer } from '../models/tokenize.js';
import { collectEnvironment } from '../results/environment.js';
import { SCHEMA_VERSION, type CaseResult, type ResultsFile, type ScenarioResult, type Warning } from '../results/types.js';
import { writeResultsAtomic } from '../results/writer.js';
import { AbortedError, type EngineHandle } from '../scenarios/measure.js';
import { loadPromptSet, preparePrompts } from '../scenarios/prompts.js';
import { loadSuite, type QualitySuite } from '../quality/suite.js';
import { suitePrompts } from '../scenarios/quality.js';
import { SCENARIO_RUNNERS, type ScenarioContext } from '../scenarios/scenarios.js';
import { startTelemetry } from '../telemetry/telemetry.js';

export interface RunOptions {
  config: RunConfig;
  outDir: string;
  runId: string;
  progress: Progress;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
  /** Called with every engine that owns a worker, so Ctrl-C can stop them at once. */
  onWorker?: (w: Abortable) => void;
}

export interface RunOutcome {
  results: ResultsFile;
  exitCode: number;
  resultsPath: string;
}

interface SideModel {
  role: 'diffusion' | 'ar';
  kinds: EngineKind[];
  ref: string;
  dir: string | null;
}

function resolveSides(c: RunConfig, progress: Progress): SideModel[] {
  const sides: SideModel[] = [];
  const local = (role: 'diffusion' | 'ar', family: Family, kinds: EngineKind[]) => {
    const side = c[role];
    if (isUrl(side.model)) {
      sides.push({ role, kinds: ['openai'], ref: side.model, dir: null });
      return;
    }
    progress.phase(`preparing ${role} model ${side.model}`);
    const m = resolveModelRef(side.model, family, { dtype: side.dtype, seed: side.seed });
    if (m.built) progress.line(`built preset ${side.model} (${family}, ${side.dtype}) in ${m.buildSeconds.toFixed(1)} s -> ${m.dir}`);
    sides.push({ role, kinds, ref: side.model, dir: m.dir });
  };
  local('diffusion', 'llada', ['llada']);
  local('ar', 'llama', c.ar.engines);
  return sides;
}

async function openEngines(c: RunConfig, sides: SideModel[], opts: RunOptions): Promise<EngineHandle[]> {
  const handles: EngineHandle[] = [];
  const tokenizers = new Map<string, PromptTokenizer>();
  const folders = new Map<string, ModelFolder>();
  for (const side of sides) {
    if (!side.dir) continue;
    const folder = await openModel(side.dir);
    folders.set(side.role, folder);
    tokenizers.set(side.role, await loadTokenizer(folder));
  }
  const anyTokenizer = [...tokenizers.values()][0] ?? null;
  for (const side of sides) {
    for (const kind of side.kinds) {
      opts.progress.phase(`starting engine ${kind} (${side.ref})`);
      if (kind === 'openai') {
        const http = c[side.role].http!;
        const engine = createOpenAIEngine(
          { ...http, baseUrl: side.ref },
          anyTokenizer ? { countTokens: (t) => anyTokenizer.count(t) } : {},
        );
        handles.push({ kind, role: side.role, engine, info: engine.info, spec: null, tokenizer: anyTokenizer, model: side.ref });
        continue;
      }
      const tagged = await spawnTagged({ kind, modelDir: side.dir!, device: c.device, session: c.session });
      const { info } = tagged.engine;
      opts.onWorker?.(tagged.engine);
      if (info.deviceNote) opts.progress.line(`${kind}: ${info.deviceNote}`);
      handles.push({
        ...tagged,
        role: side.role,
        info,
        spec: folders.get(side.role)!.meta.spec,
        tokenizer: tokenizers.get(side.role) ?? null,
        model: side.ref,
      });
    }
  }
  return handles;
}

function describeCase(r: CaseResult): string {
  if (r.state === 'errored') return `${r.id}: ERROR ${r.error}`;
  const t = r.summary.tokensPerSec;
  const l = r.summary.latencyMs;
  const q = r.state === 'completed' && r.quality ? `, accuracy ${(r.quality.overall.accuracy * 100).toFixed(1)}% (${r.quality.overall.correct}/${r.quality.overall.total})` : '';
  return `${r.id}: ${t ? `${t.mean.toFixed(1)} tok/s ± ${t.n > 1 ? t.sd.toFixed(1) : 'n/a'}` : '-'}, latency ${l ? `${l.mean.toFixed(1)} ms` : '-'}, NFE ${r.summary.nfe?.mean.toFixed(0) ?? '-'}${q}`;
}

export async function runBenchmark(opts: RunOptions): Promise<RunOutcome> {
  const c = opts.config;
  const outDir = resolve(opts.outDir);
  const set = loadPromptSet(c.prompts);
  const warnings: Warning[] = [];
  const results: ResultsFile = {
    schemaVersion: SCHEMA_VERSION,
    runId: opts.runId,
    createdAt: new Date().toISOString(),
    tool: { name: 'dllm-bench', version: toolVersion(), gitSha: gitSha() },
    environment: await collectEnvironment('unknown'),
    config: c,
    scenarios: [],
    telemetry: { state: 'unavailable', reason: 'not started' },
    complete: false,
    errors: [],
    warnings,
  };
  const persist = () => writeResultsAtomic(outDir, results);
  persist();

  const sides = resolveSides(c, opts.progress);
  const handles = withAttentionParity(await openEngines(c, sides, opts));
  // nvidia-smi only matters when an engine runs on a GPU; CPU runs record process CPU and RSS.
  const onGpu = handles.some((h) => h.info.device === 'cuda' || h.info.device === 'webgpu');
  const telemetry = startTelemetry({ intervalMs: c.telemetry.intervalMs, gpu: onGpu });
  let exitCode: number = ExitCode.ok;
  try {
    const local = handles.find((h) => h.kind !== 'openai');
    results.environment.executionProvider = local?.info.executionProvider ?? 'http';
    const fellBack = handles.filter((h) => h.info.deviceNote && h.info.device === 'cpu' && c.device === 'auto');
    if (fellBack.length) {
      warnings.push({ code: 'device-fallback', message: `${fellBack.map((h) => h.kind).join(', ')}: ${fellBack[0]!.info.deviceNote}` });
    }
    if (!onGpu) {
      warnings.push({ code: 'telemetry-gpu-unavailable', message: 'engines ran on the CPU: GPU telemetry (nvidia-smi) was not collected; CPU utilization and RSS were' });
    }
    const gpuName = local?.info.device === 'cuda' ? (results.environment.gpus[0]?.name ?? null) : null;
    // A model with held-out tasks (the twins) is scored on them, and takes its prompts from them unless a set is named.
    const suites = new Map<EngineHandle, QualitySuite>();
    for (const h of handles) {
      const side = sides.find((s) => s.role === h.role)!;
      const suite = h.kind === 'openai' ? null : loadSuite(side.ref, side.dir);
      if (suite) suites.set(h, suite);
    }
    const prompts = new Map(
      handles.map((h) => {
        const suite = suites.get(h);
        return [h, suite && h.tokenizer && c.prompts === 'default' ? suitePrompts(suite, h.tokenizer, c.chatTemplate) : preparePrompts(set, h.tokenizer, c.chatTemplate)] as const;
      }),
    );
    // A prompt that cannot fit is bad input: say so before any work rather than fail case after case.
    for (const [h, list] of prompts) {
      const longest = Math.max(...list.map((p) => p.ids.length));
      if (h.info.maxPositions !== undefined && positionsError(longest, c.genLength, h.info.maxPositions)) {
        throw new UserError(`prompt set ${c.prompts}: its longest prompt (${longest} tokens) + gen_length ${c.genLength} exceeds ${h.kind}'s maximum length ${h.info.maxPositions}`);
      }
    }
    const seen = new Set<string>();
    for (const kind of c.scenarios) {
      if (opts.signal.aborted) break;
      opts.progress.phase(`scenario ${kind}`);
      const scenario: ScenarioResult = { kind, state: 'completed', startedAt: new Date().toISOString(), finishedAt: '', cases: [], analysis: {} };
      results.scenarios.push(scenario);
      const ctx: ScenarioContext = {
        config: c,
        handles,
        set,
        prompts,
        suites,
        warmup: c.warmup,
        repetitions: c.repetitions,
        telemetry,
        gpuName,
        signal: opts.signal,
        progress: (t) => opts.progress.detail(t),
        emit: (r) => {
          scenario.cases.push(r);
          opts.progress.line(describeCase(r));
          if (r.state === 'errored') {
            scenario.state = 'errored';
            scenario.error ??= `${r.id}: ${r.error}`;
            results.errors.push({ scenario: kind, caseId: r.id, message: r.error ?? 'failed' });
          }
          persist();
        },
        warn: (w) => {
          if (seen.has(w.message)) return;
          seen.add(w.message);
          warnings.push(w);
          opts.progress.line(`warning: ${w.message}`);
        },
      };
      try {
        scenario.analysis = await SCENARIO_RUNNERS[kind](ctx);
      } catch (err) {
        if (err instanceof AbortedError || opts.signal.aborted) {
          // The interrupted case keeps the repetitions measured before Ctrl-C.
          if (err instanceof AbortedError && err.partial) {
            scenario.cases.push(err.partial);
            opts.progress.line(`${err.partial.id}: interrupted after ${err.partial.samples.length} repetition(s)`);
          }
          scenario.state = 'aborted';
          scenario.error = 'interrupted';
        } else {
          scenario.state = 'errored';
          scenario.error = errorMessage(err);
          results.errors.push({ scenario: kind, message: errorMessage(err) });
          opts.progress.line(`scenario ${kind} failed: ${errorMessage(err)}`);
        }
      }
      scenario.finishedAt = new Date().toISOString();
      results.telemetry = telemetry.status();
      persist();
    }
  } finally {
    results.telemetry = await telemetry.stop();
    for (const w of telemetry.warnings()) if (!warnings.some((x) => x.message === w.message)) warnings.push(w);
    await Promise.allSettled(handles.map((h) => h.engine.dispose()));
  }
  const interrupted = opts.signal.aborted;
  results.complete = !interrupted && results.scenarios.length === c.scenarios.length && results.scenarios.every((s) => s.state === 'completed');
  if (interrupted) exitCode = ExitCode.interrupted;
  else if (!results.complete) exitCode = ExitCode.failure;
  const resultsPath = persist();
  return { results, exitCode, resultsPath };
}

