/**
 * `dllm-bench run`: config -> models -> for each engine, one resident at a time: open (a worker thread) -> every
 * scenario's cases -> close -> results.json (after every case) -> reports. Ctrl-C or a failing scenario still leaves every measured case on disk, complete: false.
 */
import { resolve } from 'node:path';
import { ExitCode, UserError, errorMessage } from '../util/errors.js';
import type { Progress } from './progress.js';
import { gitSha, toolVersion } from '../util/version.js';
import { type RunConfig, isUrl } from '../config/schema.js';
import { positionsError } from '../engines/request.js';
import type { EngineKind } from '../engines/types.js';
import type { Abortable } from '../engines/worker/client.js';
import { resolveModelRef } from '../models/cache.js';
import type { Family } from '../models/spec.js';
import { collectEnvironment } from '../results/environment.js';
import { SCHEMA_VERSION, type CaseParams, type CaseResult, type EngineRun, type SkippedCase, type ResultsFile, type ScenarioKind, type ScenarioResult, type Warning } from '../results/types.js';
import { writeResultsAtomic } from '../results/writer.js';
import { AbortedError, type EngineHandle } from '../scenarios/measure.js';
import { loadPromptSet, preparePrompts } from '../scenarios/prompts.js';
import { loadSuite, type QualitySuite } from '../quality/suite.js';
import { suitePrompts } from '../scenarios/quality.js';
import { SCENARIO_RUNNERS, type ScenarioContext, mergeAnalyses } from '../scenarios/scenarios.js';
import { watchEngineMemory } from '../telemetry/engine-memory.js';
import { type Telemetry } from '../telemetry/telemetry.js';
import { type EngineSlot, type SideModel, engineSlots, openSlot } from './engines.js';
import { type FreeMemoryOptions, buildPlan, freeMemory, refusal, sideShapes } from './plan.js';
import { caseMemory } from '../models/memory.js';
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
  /** --gpu-memory / --cpu-memory: the memory plan's budget instead of what the device reports. */
  memory?: FreeMemoryOptions;
}

export interface RunOutcome {
  results: ResultsFile;
  exitCode: number;
  resultsPath: string;
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

function describeCase(r: CaseResult): string {
  if (r.state === 'errored') return `${r.id}: ERROR ${r.error}`;
  const t = r.summary.tokensPerSec;
  const l = r.summary.latencyMs;
  const q = r.state === 'completed' && r.quality ? `, accuracy ${(r.quality.overall.accuracy * 100).toFixed(1)}% (${r.quality.overall.correct}/${r.quality.overall.total})` : '';
  return `${r.id}: ${t ? `${t.mean.toFixed(1)} tok/s ± ${t.sd.toFixed(1)}` : '-'}, latency ${l ? `${l.mean.toFixed(1)} ms` : '-'}, NFE ${r.summary.nfe?.mean.toFixed(0) ?? '-'}${q}`;
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

  // The memory plan, before any model loads: cases that cannot fit are refused (skipped) instead of run.
  const free = await freeMemory(c, opts.memory ?? {});
  const plan = buildPlan(c, sideShapes(c), free);
  results.memoryPlan = { device: free.device, freeBytes: Number.isFinite(free.bytes) ? free.bytes : null, source: free.source, verdict: plan.verdict, pairBytes: plan.pairBytes };
  const skipped: SkippedCase[] = [];
  results.skippedCases = skipped;
  const sides = resolveSides(c, opts.progress);
  const slots = await engineSlots(sides);
  const anyTokenizer = slots.find((s) => s.tokenizer)?.tokenizer ?? null;
  // A model with held-out tasks (the twins) is scored on them, and takes its prompts from them unless a set is named.
  const suites = new Map<EngineSlot, QualitySuite>();
  for (const slot of slots) {
    const suite = slot.kind === 'openai' ? null : loadSuite(slot.ref, slot.dir);
    if (suite) suites.set(slot, suite);
  }
  const tokenizerOf = (slot: EngineSlot) => (slot.kind === 'openai' ? anyTokenizer : slot.tokenizer);
  const prompts = new Map(
    slots.map((slot) => {
      const suite = suites.get(slot);
      const tok = tokenizerOf(slot);
      return [slot, suite && tok && c.prompts === 'default' ? suitePrompts(suite, tok, c.chatTemplate) : preparePrompts(set, tok, c.chatTemplate)] as const;
    }),
  );
  // A prompt that cannot fit is bad input: say so before any work rather than fail case after case.
  for (const [slot, list] of prompts) {
    const max = slot.folder?.meta.spec.maxPositions;
    const longest = Math.max(...list.map((p) => p.ids.length));
    if (max !== undefined && positionsError(longest, c.genLength, max)) {
      throw new UserError(`prompt set ${c.prompts}: its longest prompt (${longest} tokens) + gen_length ${c.genLength} exceeds ${slot.kind}'s maximum length ${max}`);
    }
  }

  let telemetry: Telemetry | null = null;
  let onGpu = false;
  let gpuName: string | null = null;
  const engineRuns: EngineRun[] = [];
  results.engines = engineRuns;
  const scenarioOf = new Map<ScenarioKind, ScenarioResult>();
  const scenarioFor = (kind: ScenarioKind): ScenarioResult => {
    let sc = scenarioOf.get(kind);
    if (!sc) {
      sc = { kind, state: 'completed', startedAt: new Date().toISOString(), finishedAt: '', cases: [], analysis: {} };
      scenarioOf.set(kind, sc);
      // Scenarios keep the config's order in results.json whichever engine reaches them first.
      results.scenarios = c.scenarios.flatMap((k) => scenarioOf.get(k) ?? []);
    }
    return sc;
  };
  const seen = new Set<string>();
  const warn = (w: Warning) => {
    if (seen.has(w.message)) return;
    seen.add(w.message);
    warnings.push(w);
    opts.progress.line(`warning: ${w.message}`);
  };
  let exitCode: number = ExitCode.ok;
  try {
    for (const [order, slot] of slots.entries()) {
      if (opts.signal.aborted) break;
      const record: EngineRun = {
        order,
        role: slot.role,
        engine: slot.kind,
        model: slot.ref,
        state: 'completed',
        openedAt: null,
        closedAt: null,
        loadMs: null,
        rssPeakBytes: null,
        rssBeforeBytes: null,
        gpuMemoryPeakBytes: null,
      };
      engineRuns.push(record);
      const planned = plan.engines.find((e) => e.engine === slot.kind && e.role === slot.role);
      if (planned) record.plannedBytes = planned.largest.need.totalBytes;
      // An engine whose every case the plan refuses is not opened at all.
      const dtype = slot.folder?.meta.dtype === 'fp16' ? 'fp16' : 'fp32';
      const needOf = (p: CaseParams) =>
        caseMemory(slot.folder!.meta.spec, dtype, free.device, {
          graph: slot.role === 'diffusion' ? 'diffusion' : 'causal',
          batchSize: p.batchSize,
          promptTokens: p.promptTokens,
          genLength: p.genLength,
          cache: p.cache ?? 'none',
          cfg: (p.cfgScale ?? 0) > 0,
        });
      if (slot.folder && planned && planned.cases.every((x) => refusal(x.need, free))) {
        const smallest = planned.cases.reduce((a, b) => (b.need.totalBytes < a.need.totalBytes ? b : a));
        record.state = 'skipped';
        record.reason = `memory plan: its smallest case ${refusal(smallest.need, free)}`;
        opts.progress.line(`${slot.kind}: skipped (${record.reason})`);
        persist();
        continue;
      }
      opts.progress.phase(`starting engine ${slot.kind} (${slot.ref})`);
      const watch = watchEngineMemory({ gpu: slot.kind !== 'openai' && (telemetry ? onGpu : c.device !== 'cpu') });
      const t0 = performance.now();
      let h: EngineHandle;
      try {
        record.openedAt = new Date().toISOString();
        h = await openSlot(c, slot, anyTokenizer, opts.onWorker);
      } catch (err) {
        Object.assign(record, await watch.stop());
        record.state = 'errored';
        record.reason = errorMessage(err);
        record.closedAt = new Date().toISOString();
        if (err instanceof UserError) throw err;
        results.errors.push({ message: `engine ${slot.kind} (${slot.ref}) failed to start: ${errorMessage(err)}` });
        persist();
        continue;
      }
      record.loadMs = performance.now() - t0;
      if (h.info.deviceNote) opts.progress.line(`${h.kind}: ${h.info.deviceNote}`);
      if (!telemetry) {
        // nvidia-smi only matters when an engine runs on a GPU; CPU runs record process CPU and RSS.
        onGpu = h.info.device === 'cuda' || h.info.device === 'webgpu' || (h.kind === 'openai' && c.device === 'cuda');
        telemetry = startTelemetry({ intervalMs: c.telemetry.intervalMs, gpu: onGpu });
        results.environment.executionProvider = h.kind === 'openai' ? 'http' : h.info.executionProvider;
        gpuName = h.info.device === 'cuda' ? (results.environment.gpus[0]?.name ?? null) : null;
        if (!onGpu) warn({ code: 'telemetry-gpu-unavailable', message: 'engines ran on the CPU: GPU telemetry (nvidia-smi) was not collected; CPU utilization and RSS were' });
      }
      if (h.info.deviceNote && h.info.device === 'cpu' && c.device === 'auto') {
        warn({ code: 'device-fallback', message: `${h.kind}: ${h.info.deviceNote}` });
      }
      try {
        for (const kind of c.scenarios) {
          if (opts.signal.aborted) break;
          opts.progress.phase(`scenario ${kind} (${h.kind})`);
          const scenario = scenarioFor(kind);
          const suite = suites.get(slot);
          const ctx: ScenarioContext = {
            config: c,
            handles: [h],
            set,
            prompts: new Map([[h, prompts.get(slot)!]]),
            suites: suite ? new Map([[h, suite]]) : new Map(),
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
            warn,
            admit: (_h, p) => (slot.folder ? refusal(needOf(p), free) : null),
            skip: (sk) => {
              skipped.push(sk);
              opts.progress.line(`${sk.id}: skipped (${sk.reason})`);
              persist();
            },
          };
          try {
            scenario.analysis = mergeAnalyses(scenario.analysis, await SCENARIO_RUNNERS[kind](ctx));
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
              scenario.error ??= errorMessage(err);
              results.errors.push({ scenario: kind, message: errorMessage(err) });
              opts.progress.line(`scenario ${kind} failed: ${errorMessage(err)}`);
            }
          }
          scenario.finishedAt = new Date().toISOString();
          results.telemetry = telemetry.status();
          persist();
        }
      } finally {
        await h.engine.dispose().catch(() => undefined);
        Object.assign(record, await watch.stop());
        record.closedAt = new Date().toISOString();
        if (opts.signal.aborted) record.state = 'aborted';
        persist();
      }
    }
  } finally {
    if (telemetry) {
      results.telemetry = await telemetry.stop();
      for (const w of telemetry.warnings()) if (!warnings.some((x) => x.message === w.message)) warnings.push(w);
    }
  }
  const interrupted = opts.signal.aborted;
  // A scenario no engine reached (every engine skipped by the memory plan) is still reported, with no cases.
  if (!interrupted) for (const kind of c.scenarios) scenarioFor(kind).finishedAt ||= new Date().toISOString();
  results.complete = !interrupted && results.scenarios.length === c.scenarios.length && results.scenarios.every((s) => s.state === 'completed') && engineRuns.every((e) => e.state === 'completed' || e.state === 'skipped');
  if (interrupted) exitCode = ExitCode.interrupted;
  else if (!results.complete) exitCode = ExitCode.failure;
  const resultsPath = persist();
  return { results, exitCode, resultsPath };
}

