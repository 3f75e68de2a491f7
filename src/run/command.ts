/** The run command's I/O edge: config, output folder, Ctrl-C, progress, reports, exit code. */
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
import { type FreeMemoryOptions, buildPlan, freeMemory, renderPlan, sideShapes } from './plan.js';

export interface RunCommandOptions {
  configArg: string | undefined;
  overrides: Override[];
  json: boolean;
  report: boolean;
  /** Supplied by the CLI (spinner or plain lines on stderr). */
  progress: Progress;
  /** --plan: print the memory plan and exit without loading a model. */
  plan?: boolean;
  memory?: FreeMemoryOptions;
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
  if (o.plan) {
    // The plan is this invocation's product: stdout (JSON with --json). Shapes only: no preset is built.
    const plan = buildPlan(config, sideShapes(config), await freeMemory(config, { ...o.memory, planOnly: true }));
    process.stdout.write(o.json ? `${JSON.stringify(plan, null, 2)}\n` : `${renderPlan(plan)}\n`);
    return ExitCode.ok;
  }
  const runId = newRunId();
  const outDir = config.out ?? join('results', runId);
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
    const outcome = await runBenchmark({ config, outDir, runId, progress, signal: controller.signal, onWorker: (w) => workers.push(w), memory: o.memory });
    progress.stop();
    const { results } = outcome;
    if (o.report) {
      const { writeReports } = await import('../report/index.js');
      await writeReports(results, outDir);
    }
    const { renderTable } = await import('../report/index.js');
    process.stderr.write(`\n${renderTable(results)}\n`);
    const state = results.complete ? 'complete' : 'INCOMPLETE';
    process.stderr.write(`results (${state}): ${outcome.resultsPath}${o.report ? ` (+ report.md, report.html)` : ''}\n`);
    for (const e of results.errors) process.stderr.write(`error: ${e.caseId ?? e.scenario ?? ''}: ${e.message}\n`);
    if (o.json) process.stdout.write(`${serializeResults(results)}\n`);
    return outcome.exitCode;
  } finally {
    progress.stop();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
