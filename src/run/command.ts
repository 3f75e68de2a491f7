/** The run command's I/O edge: config, output folder, Ctrl-C, progress, reports, exit code. */
import { join, relative } from 'node:path';
import { checkOutDir } from './out-dir.js';
import type { Progress } from './progress.js';
import { ExitCode, errorMessage } from '../util/errors.js';
import { type Override, loadRunConfig } from '../config/load.js';
import type { Abortable } from '../engines/worker/client.js';
import { newRunId, serializeResults } from '../results/writer.js';
import { isUrl } from '../config/schema.js';
import { checkModelRef } from '../models/cache.js';
import { isHubId } from '../models/hub.js';
import { UserError } from '../util/errors.js';
import { checkSamplerConfig, fitStepsSweep } from './check-config.js';
import { runBenchmark } from './run.js';

export interface RunCommandOptions {
  configArg: string | undefined;
  overrides: Override[];
  json: boolean;
  report: boolean;
  /** Write into an --out folder that already holds a run's files. */
  force?: boolean;
  /** Supplied by the CLI (spinner or plain lines on stderr). */
  progress: Progress;
}

export async function runCommand(o: RunCommandOptions): Promise<number> {
  const loaded = loadRunConfig(o.configArg, o.overrides);
  const { source } = loaded;
  checkSamplerConfig(loaded.config, source);
  const { config, note: sweepNote } = fitStepsSweep(loaded.config, source);
  // Fail on a bad model reference before creating anything.
  for (const [side, family] of [['diffusion', 'llada'], ['ar', 'llama']] as const) {
    if (!isUrl(config[side].model)) checkModelRef(config[side].model, family);
  }
  if (isHubId(config.ar.model) && config.ar.engines.some((e) => e !== 'ar')) {
    throw new UserError(`--ar ${config.ar.model}: a hub model runs on the transformers.js engine only; pass --ar-engines ar`);
  }
  const runId = newRunId();
  const outDir = config.out ?? join('results', runId);
  checkOutDir(outDir, o.force ?? false);
  const { progress } = o;
  progress.line(`config ${relative(process.cwd(), source) || source}; results -> ${outDir}`);
  if (sweepNote) progress.line(`note: ${sweepNote}`);

  const controller = new AbortController();
  const workers: Abortable[] = [];
  let interrupts = 0;
  // SIGTERM exits 143 (128 + 15), SIGINT 130, as shells report them.
  let stopCode: number = ExitCode.interrupted;
  let measuring = true;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (signal === 'SIGTERM') stopCode = ExitCode.terminated;
    if (interrupts > 1) process.exit(stopCode);
    progress.line(
      measuring
        ? 'interrupted: stopping engines; whatever was measured is kept in results.json (Ctrl-C again to quit at once)'
        : 'interrupted after the last case: results.json is complete; finishing the reports (Ctrl-C again to quit at once)',
    );
    controller.abort();
    for (const w of workers) w.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let outcome: Awaited<ReturnType<typeof runBenchmark>>;
    try {
      outcome = await runBenchmark({ config, outDir, runId, progress, signal: controller.signal, onWorker: (w) => workers.push(w), force: o.force ?? false });
    } catch (err) {
      // Stopped before anything was measured (a model build, engines starting): --out is left as it was.
      if (controller.signal.aborted && err instanceof UserError && err.exitCode === ExitCode.interrupted) throw new UserError(err.message, stopCode);
      throw err;
    }
    measuring = false;
    progress.stop();
    const { results } = outcome;
    const exitCode = outcome.exitCode === ExitCode.interrupted ? stopCode : outcome.exitCode;
    if (outcome.resultsPath === null) {
      process.stderr.write(`${controller.signal.aborted ? 'interrupted' : 'stopped'} before any case was measured: nothing written${outcome.writeError ? '' : `, ${outDir} left as it was`}\n`);
      if (outcome.writeError) process.stderr.write(`error: ${outcome.writeError}\n`);
      return exitCode;
    }
    let reports = o.report && !outcome.writeError;
    if (reports) {
      const { writeReports } = await import('../report/index.js');
      try {
        await writeReports(results, outDir);
      } catch (err) {
        reports = false;
        process.stderr.write(`error: reports not written: ${errorMessage(err)}\n`);
      }
    }
    const { renderTable } = await import('../report/index.js');
    process.stderr.write(`\n${renderTable(results)}\n`);
    const state = results.complete ? 'complete' : 'INCOMPLETE';
    if (outcome.writeError) process.stderr.write(`error: ${outcome.writeError}\n`);
    else process.stderr.write(`results (${state}): ${outcome.resultsPath}${reports ? ` (+ report.md, report.html)` : ''}\n`);
    for (const e of results.errors) process.stderr.write(`error: ${e.caseId ?? e.scenario ?? ''}: ${e.message}\n`);
    if (o.json) process.stdout.write(`${serializeResults(results)}\n`);
    return exitCode;
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
