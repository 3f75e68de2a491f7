/** The run command's I/O edge: config, output folder, Ctrl-C, progress, reports, exit code. */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { assertWritableDir } from '../util/fs.js';
import type { Progress } from './progress.js';
import { ExitCode } from '../util/errors.js';
import { type Override, loadRunConfig } from '../config/load.js';
import type { Abortable } from '../engines/worker/client.js';
import { newRunId, serializeResults } from '../results/writer.js';
import { isUrl } from '../config/schema.js';
import { checkModelRef } from '../models/cache.js';
import { isHubId } from '../models/hub.js';
import { UserError } from '../util/errors.js';
import { checkSamplerConfig } from './check-config.js';
import { runBenchmark } from './run.js';

export interface RunCommandOptions {
  configArg: string | undefined;
  overrides: Override[];
  json: boolean;
  report: boolean;
  /** Every table column, whatever the terminal's width. */
  wide?: boolean;
  /** Supplied by the CLI (spinner or plain lines on stderr). */
  progress: Progress;
}

/** Removes a results folder whose only content is a results.json without a single case (never anything else). */
export function removeIfNothingMeasured(dir: string): boolean {
  try {
    const entries = readdirSync(dir);
    if (entries.some((e) => e !== 'results.json')) return false;
    if (entries.length) {
      const r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { scenarios?: { cases?: unknown[] }[] };
      if ((r.scenarios ?? []).some((s) => (s.cases ?? []).length > 0)) return false;
    }
    rmSync(dir, { recursive: true, force: true });
    return true;
  } catch {
    return false;
  }
}

export async function runCommand(o: RunCommandOptions): Promise<number> {
  const { config, source } = loadRunConfig(o.configArg, o.overrides);
  checkSamplerConfig(config, source);
  // Fail on a bad model reference before creating anything.
  for (const [side, family] of [['diffusion', 'llada'], ['ar', 'llama']] as const) {
    if (!isUrl(config[side].model)) checkModelRef(config[side].model, family);
  }
  if (isHubId(config.ar.model) && config.ar.engines.some((e) => e !== 'ar')) {
    throw new UserError(`--ar ${config.ar.model}: a hub model runs on the transformers.js engine only; pass --ar-engines ar`);
  }
  const runId = newRunId();
  const outDir = config.out ?? join('results', runId);
  const outExisted = existsSync(outDir);
  assertWritableDir(outDir);
  const { progress } = o;
  progress.line(`config ${relative(process.cwd(), source) || source}; results -> ${outDir}`);

  const controller = new AbortController();
  const workers: Abortable[] = [];
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(ExitCode.interrupted);
    progress.line('interrupted: stopping engines and writing partial results (Ctrl-C again to quit at once)');
    controller.abort();
    for (const w of workers) w.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    let outcome: Awaited<ReturnType<typeof runBenchmark>>;
    try {
      outcome = await runBenchmark({ config, outDir, runId, progress, signal: controller.signal, onWorker: (w) => workers.push(w) });
    } catch (err) {
      // Failed before its first case: the folder this run created holds nothing measured, so it goes.
      if (!outExisted) removeIfNothingMeasured(outDir);
      throw err;
    }
    progress.stop();
    const { results } = outcome;
    if (o.report) {
      const { writeReports } = await import('../report/index.js');
      await writeReports(results, outDir);
    }
    const { renderTable } = await import('../report/index.js');
    const { terminalWidth } = await import('../util/format.js');
    process.stderr.write(`\n${renderTable(results, { width: terminalWidth(), wide: o.wide ?? false })}\n`);
    const state = results.complete ? 'complete' : 'INCOMPLETE';
    process.stderr.write(`results (${state}): ${outcome.resultsPath}${o.report ? ` (+ report.md, report.html)` : ''}\n`);
    for (const e of results.errors) process.stderr.write(`error: ${e.caseId ?? e.scenario ?? ''}: ${e.message}\n`);
    // The answer last, so it is what stays on screen (README, "The answer first").
    const { headlineLines, headlineOf, styleHeadline } = await import('../claims/index.js');
    process.stderr.write(`\n${styleHeadline(headlineLines(headlineOf(results), terminalWidth())).join('\n')}\n`);
    if (o.json) process.stdout.write(`${serializeResults(results)}\n`);
    return outcome.exitCode;
  } finally {
    progress.stop();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
