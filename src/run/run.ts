/**
 * `dllm-bench run`: config -> models -> for each engine, one resident at a time: open (a worker thread) -> every
 * scenario's cases -> close -> results.json (after every case) -> reports. Ctrl-C or a failing scenario still leaves every measured case on disk, complete: false.
 */
import { resolve } from 'node:path';
import { ExitCode, UserError, errorMessage } from '../util/errors.js';
import type { Progress } from './progress.js';
import { gitSha, toolVersion } from '../util/version.js';
import { byteSize } from '../util/format.js';
import { type RunConfig, isUrl } from '../config/schema.js';
import { positionsError } from '../engines/request.js';
import type { EngineKind } from '../engines/types.js';
import type { Abortable } from '../engines/worker/client.js';
import { resolveHubModel, resolveModelRefAsync } from '../models/cache.js';
import { NoSafetensorsError } from '../models/hub-download.js';
import { isHubId } from '../models/hub.js';
import { collectEnvironment } from '../results/environment.js';
import { SCHEMA_VERSION, type CaseParams, type CaseResult, type EngineRun, type SkippedCase, type ResultsFile, type ScenarioKind, type ScenarioResult, type Warning } from '../results/types.js';
import { ResultsWriteError } from '../results/writer.js';
import { createPersister, describeWriteFailure } from './out-dir.js';
import { promptParity } from '../results/sides.js';
import { AbortedError, type EngineHandle } from '../scenarios/measure.js';
import { loadPromptSet, preparePrompts } from '../scenarios/prompts.js';
import { loadSuite, namedSuite, type QualitySuite } from '../quality/suite.js';
import { checkSuiteFits } from './check-suite.js';
import { suitePrompts } from '../scenarios/quality.js';
import { SCENARIO_RUNNERS, type ScenarioContext, analysisOf, mergeAnalyses, relinkSameSettings, samplingPolicy } from '../scenarios/scenarios.js';
import { judgeVariation, mergePass, passOrder, passShare } from '../scenarios/passes.js';
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
  /** --force: the output folder may already hold a run's files (checked by the command before the run). */
  force?: boolean;
  /** --gpu-memory / --cpu-memory: the memory plan's budget instead of what the device reports. */
  memory?: FreeMemoryOptions;
}

export interface RunOutcome {
  results: ResultsFile;
  exitCode: number;
  /** null when nothing was measured, so nothing was written. */
  resultsPath: string | null;
  /** A write of results.json failed (disk full): one line saying so and what the file on disk still holds. */
  writeError?: string;
}

/** A hub id's snapshot (downloaded into the Hugging Face cache when missing), converted once; null: see below. */
async function resolveHub(ref: string, role: 'diffusion' | 'ar', kinds: EngineKind[], dtype: RunConfig['ar']['dtype'], progress: Progress): Promise<string> {
  try {
    const m = await resolveHubModel(ref, role, {
      dtype,
      onProgress: (p) => {
        const size = `${byteSize(p.bytes)}${p.total !== null ? ` / ${byteSize(p.total)}` : ''}, ${byteSize(p.bytesPerSecond)}/s`;
        if (p.done) progress.line(`downloaded ${ref} ${p.file}: ${size}`);
        else progress.detail(`downloading ${ref} ${p.file}: ${size}`);
      },
    });
    if (m.built) progress.line(`converted ${ref} (${m.family}, commit ${m.commit.slice(0, 12)}, ${dtype}) in ${m.buildSeconds.toFixed(1)} s -> ${m.dir}`);
    return m.dir;
  } catch (err) {
    // A repository without safetensors may be an ONNX export: the transformers.js engine loads those itself.
    if (err instanceof NoSafetensorsError && role === 'ar' && kinds.every((k) => k === 'ar')) return ref;
    throw err;
  }
}

async function resolveSides(c: RunConfig, progress: Progress, signal: AbortSignal): Promise<SideModel[]> {
  const sides: SideModel[] = [];
  const local = async (role: 'diffusion' | 'ar', kinds: EngineKind[]) => {
    const side = c[role];
    if (isUrl(side.model)) {
      sides.push({ role, kinds: ['openai'], ref: side.model, dir: null });
      return;
    }
    progress.phase(`preparing ${role} model ${side.model}`);
    if (isHubId(side.model)) {
      sides.push({ role, kinds, ref: side.model, dir: await resolveHub(side.model, role, kinds, side.dtype, progress) });
      return;
    }
    // Built in a worker thread, so Ctrl-C stops a build at once.
    const m = await resolveModelRefAsync(side.model, role, { dtype: side.dtype, seed: side.seed }, signal);
    if (m.rebuiltBecause) progress.line(`note: the cached ${side.model} model could not be trusted and was rebuilt (${m.rebuiltBecause})`);
    if (m.built) progress.line(`built preset ${side.model} (${m.family}, ${side.dtype}) in ${m.buildSeconds.toFixed(1)} s -> ${m.dir}`);
    sides.push({ role, kinds, ref: side.model, dir: m.dir });
  };
  await local('diffusion', ['llada']);
  await local('ar', c.ar.engines);
  return sides;
}

/** The task suite each side is scored on: the one --tasks names, else a local model's own held-out tasks. */
function sideSuites(c: RunConfig, sides: SideModel[]): Map<SideModel['role'], QualitySuite> {
  const suites = new Map<SideModel['role'], QualitySuite>();
  for (const side of sides) {
    const own = side.dir ? loadSuite(side.ref, side.dir) : null;
    const suite = c.quality.tasks ? namedSuite(c.quality.tasks, own) : own;
    if (suite) suites.set(side.role, suite);
  }
  return suites;
}

/** Speed scenarios take at most this many prompts from a suite: its first items, within --task-limit (GSM8K has 1,319). */
const SPEED_PROMPTS_FROM_SUITE = 64;

/** A case into its scenario: appended in the first pass, merged into the earlier passes' case of its id after. */
function keep(scenario: ScenarioResult, next: CaseResult, pass: number): CaseResult {
  const i = pass > 0 ? scenario.cases.findIndex((x) => x.id === next.id) : -1;
  const prev = i >= 0 ? scenario.cases[i] : undefined;
  if (!prev) {
    scenario.cases.push(next);
    return next;
  }
  const merged = mergePass(prev, next);
  scenario.cases[i] = merged;
  return merged;
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
  // Nothing is written before a case is measured: a run that fails or is stopped before then leaves --out as it was.
  const persister = createPersister(outDir, { force: opts.force ?? false });
  let writeError: string | undefined;
  const persist = () => {
    if (writeError) return;
    try {
      persister.save(results);
    } catch (err) {
      if (!(err instanceof ResultsWriteError)) throw err;
      writeError = describeWriteFailure(err, persister);
      throw err; // stops the scenario: nothing more can be kept
    }
  };
  /** persist() where a failed write is already recorded in writeError and the run goes on to its end. */
  const persistKeeping = () => {
    try {
      persist();
    } catch (err) {
      if (!(err instanceof ResultsWriteError)) throw err;
    }
  };

  // The memory plan, before any model loads: cases that cannot fit are refused (skipped) instead of run.
  const free = await freeMemory(c, opts.memory ?? {});
  const plan = buildPlan(c, sideShapes(c), free);
  results.memoryPlan = { device: free.device, freeBytes: Number.isFinite(free.bytes) ? free.bytes : null, source: free.source, verdict: plan.verdict, pairBytes: plan.pairBytes };
  const skipped: SkippedCase[] = [];
  results.skippedCases = skipped;
  const sides = await resolveSides(c, opts.progress, opts.signal);
  const slots = await engineSlots(sides);
  const anyTokenizer = slots.find((s) => s.tokenizer)?.tokenizer ?? null;
  // Every engine is scored on the suite --tasks names; without one, a model with held-out tasks (the twins) on
  // its own. A run with a suite takes its speed prompts from it too, unless a prompt set is named.
  const sideSuite = sideSuites(c, sides);
  // A suite a model cannot take (its tokenizer cannot spell it, its window is too small) is refused before any engine starts.
  const localSides = [...new Map(slots.filter((s) => s.dir).map((s) => [s.role, s] as const)).values()];
  checkSuiteFits(c, localSides.map((s) => ({ model: s.ref, role: s.role, tokenizer: s.tokenizer, maxPositions: s.folder?.meta.spec.maxPositions, suite: sideSuite.get(s.role) ?? null })));
  const suites = new Map<EngineSlot, QualitySuite>();
  for (const slot of slots) {
    const suite = sideSuite.get(slot.role);
    if (suite) suites.set(slot, suite);
  }
  const tokenizerOf = (slot: EngineSlot) => (slot.kind === 'openai' ? anyTokenizer : slot.tokenizer);
  const speedFromSuite = typeof c.quality.limit === 'number' ? Math.min(c.quality.limit, SPEED_PROMPTS_FROM_SUITE) : SPEED_PROMPTS_FROM_SUITE;
  const prompts = new Map(
    slots.map((slot) => {
      const suite = suites.get(slot);
      const tok = tokenizerOf(slot);
      const fromSuite = suite && (tok || slot.kind === 'openai') && c.prompts === 'default';
      return [slot, fromSuite ? suitePrompts(suite, tok, c.chatTemplate, speedFromSuite) : preparePrompts(set, tok, c.chatTemplate)] as const;
    }),
  );
  // Same work on both sides: a served side runs the local side's prompts (the twins' task prompts included).
  const localSlot = slots.find((s) => s.kind !== 'openai');
  const localPrompts = localSlot ? prompts.get(localSlot) : undefined;
  if (localPrompts) for (const slot of slots) if (slot.kind === 'openai') prompts.set(slot, localPrompts);
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
  const deviceNotes = new Set<string>();
  const fellBackKinds: string[] = [];
  let fallbackNote: string | null = null;
  const seen = new Set<string>();
  const warn = (w: Warning) => {
    if (seen.has(w.message)) return;
    seen.add(w.message);
    warnings.push(w);
    opts.progress.line(`warning: ${w.message}`);
  };
  let exitCode: number = ExitCode.ok;
  try {
    // Said, not silent: with held-out tasks the "default" prompt set is replaced by the tasks' prompts.
    const fromSuite = [...new Set(slots.filter((s) => suites.has(s) && s.tokenizer && c.prompts === 'default').map((s) => suites.get(s)!.source))];
    if (fromSuite.length) opts.progress.line(`prompts: the held-out task prompts of ${fromSuite.join(', ')} (a model with held-out tasks takes them instead of the "default" set; --prompts NAME|FILE names another set)`);
    // ABBA: every engine once per pass, the order reversed in every other pass; each pass takes its share of each
    // case's repetitions and time, and a later pass's cases merge into the first's (scenarios/passes.ts).
    // A pass needs a repetition of each case: with fewer repetitions than passes, as many passes as repetitions.
    const passes = Math.min(c.sampling.passes, c.repetitions);
    const share = passShare(c.repetitions, samplingPolicy(c), passes);
    const dropped = new Set<EngineSlot>(); // skipped by the memory plan or failed to open: not tried again
    let order = 0;
    for (let pass = 0; pass < passes && !opts.signal.aborted; pass++)
    for (const slot of passOrder(slots, pass)) {
      if (opts.signal.aborted) break;
      if (dropped.has(slot)) continue;
      const last = pass === passes - 1;
      const record: EngineRun = {
        order: order++,
        ...(passes > 1 ? { pass } : {}),
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
        dropped.add(slot);
        record.state = 'skipped';
        record.reason = `memory plan: its smallest case ${refusal(smallest.need, free)}`;
        opts.progress.line(`${slot.kind}: skipped (${record.reason})`);
        persistKeeping();
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
        dropped.add(slot);
        if (err instanceof UserError) throw err;
        results.errors.push({ message: `engine ${slot.kind} (${slot.ref}) failed to start: ${errorMessage(err)}` });
        persistKeeping();
        continue;
      }
      record.loadMs = performance.now() - t0;
      // A CPU fallback under --device auto is a recorded warning, said once at the end; any other note once here.
      const fellBack = h.info.device === 'cpu' && c.device === 'auto';
      if (h.info.deviceNote && !fellBack && !deviceNotes.has(h.info.deviceNote)) opts.progress.line(`${h.kind}: ${h.info.deviceNote}`);
      if (!telemetry) {
        // nvidia-smi only matters when an engine runs on a GPU; CPU runs record process CPU and RSS.
        onGpu = h.info.device === 'cuda' || h.info.device === 'webgpu' || (h.kind === 'openai' && c.device === 'cuda');
        telemetry = startTelemetry({ intervalMs: c.telemetry.intervalMs, gpu: onGpu });
        results.environment.executionProvider = h.kind === 'openai' ? 'http' : h.info.executionProvider;
        gpuName = h.info.device === 'cuda' ? (results.environment.gpus[0]?.name ?? null) : null;
        if (!onGpu) warn({ code: 'telemetry-gpu-unavailable', message: 'engines ran on the CPU: GPU telemetry (nvidia-smi) was not collected; CPU utilization and RSS were recorded instead' });
      }
      // Said once, at the end (the warnings after the table), naming every engine that fell back.
      if (h.info.deviceNote && fellBack && !fellBackKinds.includes(h.kind)) fellBackKinds.push(h.kind);
      if (h.info.deviceNote) deviceNotes.add(h.info.deviceNote);
      fallbackNote ??= fellBack ? (h.info.deviceNote ?? null) : null;
      try {
        for (const kind of c.scenarios) {
          if (opts.signal.aborted || writeError) break;
          opts.progress.phase(`scenario ${kind} (${h.kind}${passes > 1 ? `, pass ${pass + 1}/${passes}` : ''})`);
          const scenario = scenarioFor(kind);
          const suite = suites.get(slot);
          const ctx: ScenarioContext = {
            config: c,
            handles: [h],
            set,
            prompts: new Map([[h, prompts.get(slot)!]]),
            suites: suite ? new Map([[h, suite]]) : new Map(),
            warmup: c.warmup,
            repetitions: share.repetitions,
            sampling: share.sampling,
            ...(passes > 1 ? { pass: { index: pass, of: passes } } : {}),
            maxErrorRate: c.http.maxErrorRate,
            telemetry,
            gpuName,
            signal: opts.signal,
            progress: (t) => opts.progress.detail(t),
            emit: (next) => {
              const r = keep(scenario, next, pass);
              // A case's line appears once, when its last pass is in.
              if (last) opts.progress.line(describeCase(r));
              else opts.progress.detail(`${r.id}: pass ${pass + 1}/${passes} measured`);
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
            if (kind !== 'context') scenario.analysis.promptParity = promptParity(scenario.cases);
          } catch (err) {
            if (err instanceof ResultsWriteError) {
              scenario.state = 'errored';
              scenario.error = err.message;
              results.errors.push({ scenario: kind, message: err.message });
            } else if (err instanceof AbortedError || opts.signal.aborted) {
              // The interrupted case keeps the repetitions measured before Ctrl-C.
              if (err instanceof AbortedError && err.partial) {
                keep(scenario, err.partial, pass);
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
          persistKeeping();
        }
      } finally {
        await h.engine.dispose().catch(() => undefined);
        Object.assign(record, await watch.stop());
        record.closedAt = new Date().toISOString();
        if (opts.signal.aborted) record.state = 'aborted';
        persistKeeping();
      }
    }
  } finally {
    if (telemetry) {
      results.telemetry = await telemetry.stop();
      for (const w of telemetry.warnings()) if (!warnings.some((x) => x.message === w.message)) warnings.push(w);
    }
  }
  // Several passes: each case's variation, its agreement with its identical cases and the analyses are judged on
  // the merged repetitions of every pass.
  if (Math.min(c.sampling.passes, c.repetitions) > 1) {
    for (const sc of results.scenarios) {
      sc.cases = sc.cases.map((x) => {
        const v = judgeVariation(x, c.sampling.maxRelativeSpread);
        if (v.warning) warn(v.warning);
        return v.case;
      });
      relinkSameSettings(sc.cases, warn);
      sc.analysis = analysisOf(sc.kind, sc.cases, sc.analysis);
      if (sc.kind !== 'context') sc.analysis.promptParity = promptParity(sc.cases);
    }
  }
  if (fallbackNote && fellBackKinds.length) warnings.push({ code: 'device-fallback', message: `${fellBackKinds.join(', ')}: ${fallbackNote}` });
  const interrupted = opts.signal.aborted;
  // A scenario no engine reached (every engine skipped by the memory plan) is still reported, with no cases.
  if (!interrupted) for (const kind of c.scenarios) scenarioFor(kind).finishedAt ||= new Date().toISOString();
  results.complete = !interrupted && results.scenarios.length === c.scenarios.length && results.scenarios.every((s) => s.state === 'completed') && engineRuns.every((e) => e.state === 'completed' || e.state === 'skipped');
  if (interrupted) exitCode = ExitCode.interrupted;
  else if (!results.complete) exitCode = ExitCode.failure;
  try {
    persist();
  } catch (err) {
    if (!(err instanceof ResultsWriteError)) throw err;
  }
  if (writeError && exitCode === ExitCode.ok) exitCode = ExitCode.failure;
  return { results, exitCode, resultsPath: persister.path, ...(writeError ? { writeError } : {}) };
}

