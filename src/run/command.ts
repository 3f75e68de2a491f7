/** The run command's I/O edge: config, output folder, Ctrl-C, progress, reports, exit code. */
import { join, relative } from 'node:path';
import { checkOutDir } from './out-dir.js';
import type { Progress } from './progress.js';
import { ExitCode, UserError, errorMessage } from '../util/errors.js';
import { type Override, loadRunConfig } from '../config/load.js';
import type { Abortable } from '../engines/worker/client.js';
import { newRunId, serializeResults } from '../results/writer.js';
import { isUrl } from '../config/schema.js';
import { checkModelRef } from '../models/cache.js';
import { checkSamplerConfig, fitStepsSweep, fitStepsToGenLength } from './check-config.js';
import { runBenchmark } from './run.js';
import { type FreeMemoryOptions, buildPlan, freeMemory, renderPlan, sideShapes } from './plan.js';

export interface RunCommandOptions {
  configArg: string | undefined;
  overrides: Override[];
  json: boolean;
  report: boolean;
  /** Every table column, whatever the terminal's width. */
  wide?: boolean;
  /** Write into an --out folder that already holds a run's files. */
  force?: boolean;
  /** Supplied by the CLI (spinner or plain lines on stderr). */
  progress: Progress;
  /** --plan: print the memory plan and exit without loading a model. */
  plan?: boolean;
  memory?: FreeMemoryOptions;
}

export async function runCommand(o: RunCommandOptions): Promise<number> {
  const loaded = loadRunConfig(o.configArg, o.overrides);
  const { source } = loaded;
  const fitted = fitStepsToGenLength(loaded.config, o.overrides.map((x) => x.path.join('.')));
  checkSamplerConfig(fitted.config, source);
  const { config, note: sweepNote } = fitStepsSweep(fitted.config, source);
  // Fail on a bad model reference before creating anything.
  for (const side of ['diffusion', 'ar'] as const) {
    if (!isUrl(config[side].model)) checkModelRef(config[side].model, side);
  }
  if (o.plan) {
    // The plan is this invocation's product: stdout (JSON with --json). Shapes only: no preset is built.
    const plan = buildPlan(config, sideShapes(config), await freeMemory(config, { ...o.memory, planOnly: true }));
    process.stdout.write(o.json ? `${JSON.stringify(plan, null, 2)}\n` : `${renderPlan(plan)}\n`);
    return ExitCode.ok;
  }
  const runId = newRunId();
  const outDir = config.out ?? join('results', runId);
  checkOutDir(outDir, o.force ?? false);
  const { progress } = o;
  progress.line(`config ${relative(process.cwd(), source) || source}; results -> ${outDir}`);
  if (fitted.note) progress.line(`note: ${fitted.note}`);
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
      outcome = await runBenchmark({ config, outDir, runId, progress, signal: controller.signal, onWorker: (w) => workers.push(w), force: o.force ?? false, memory: o.memory });
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
    const { terminalWidth } = await import('../util/format.js');
    process.stderr.write(`\n${renderTable(results, { width: terminalWidth(), wide: o.wide ?? false })}\n`);
    const state = results.complete ? 'complete' : 'INCOMPLETE';
    if (outcome.writeError) process.stderr.write(`error: ${outcome.writeError}\n`);
    else process.stderr.write(`results (${state}): ${outcome.resultsPath}${reports ? ` (+ report.md, report.html)` : ''}\n`);
    for (const e of results.errors) process.stderr.write(`error: ${e.caseId ?? e.scenario ?? ''}: ${e.message}\n`);
    // The answer last, so it is what stays on screen (README, "The answer first").
    const { headlineLines, headlineOf, styleHeadline } = await import('../claims/index.js');
    process.stderr.write(`\n${styleHeadline(headlineLines(headlineOf(results), terminalWidth())).join('\n')}\n`);
    if (o.json) process.stdout.write(`${serializeResults(results)}\n`);
    return exitCode;
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
