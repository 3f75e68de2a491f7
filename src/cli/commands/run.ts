import type { Command } from 'commander';
import { AR_ENGINES, SCENARIOS } from '../../config/schema.js';
import { CACHE_MODES } from '../../engines/llada/sampler.js';
import type { Override } from '../../config/load.js';
import { ExitCode } from '../../util/errors.js';
import { nonNegativeFloat, nonNegativeInt, oneOf, positiveInt, positiveIntList, probability } from '../parse.js';
import { InvalidArgumentError } from 'commander';

function listOf<T extends string>(choices: readonly T[]) {
  return (value: string): T[] => {
    const parts = value.split(',').map((s) => s.trim());
    const bad = parts.find((p) => !choices.includes(p as T));
    if (bad !== undefined) throw new InvalidArgumentError(`"${bad}" is not one of: ${choices.join(', ')}.`);
    return parts as T[];
  };
}

function probabilityList(value: string): number[] {
  return value.split(',').map((s) => probability(s.trim()));
}

/**
 * Every `run` flag, declared once: the flag, its parser, and the config field(s) it overrides. The zod schema in
 * src/config/schema.ts stays the single source of validity and defaults.
 */
const RUN_FLAGS: { flag: string; key: string; help: string; parse?: (v: string) => unknown; paths: string[][] }[] = [
  { flag: '--diffusion <model>', key: 'diffusion', help: 'diffusion side: preset (tiny, small, llada-8b), LLaDA model folder, or http(s) URL', paths: [['diffusion', 'model']] },
  { flag: '--ar <model>', key: 'ar', help: 'autoregressive side: preset, Llama model folder, or http(s) URL', paths: [['ar', 'model']] },
  { flag: '--ar-engines <list>', key: 'arEngines', help: 'ar (transformers.js), ar-ort (direct onnxruntime loop)', parse: listOf(AR_ENGINES), paths: [['ar', 'engines']] },
  { flag: '--device <device>', key: 'device', help: 'auto | cpu | cuda | webgpu', parse: oneOf(['auto', 'cpu', 'cuda', 'webgpu'] as const), paths: [['device']] },
  { flag: '--dtype <dtype>', key: 'dtype', help: 'fp32 | fp16 weights for presets', parse: oneOf(['fp32', 'fp16'] as const), paths: [['diffusion', 'dtype'], ['ar', 'dtype']] },
  { flag: '--scenarios <list>', key: 'scenarios', help: `comma list of ${SCENARIOS.join(', ')}`, parse: listOf(SCENARIOS), paths: [['scenarios']] },
  { flag: '--prompts <set>', key: 'prompts', help: 'built-in prompt set name or a prompt set file', paths: [['prompts']] },
  { flag: '--warmup <n>', key: 'warmup', help: 'warmup runs per case (excluded)', parse: nonNegativeInt, paths: [['warmup']] },
  { flag: '--repetitions <n>', key: 'repetitions', help: 'measured runs per case', parse: positiveInt, paths: [['repetitions']] },
  { flag: '--gen-length <n>', key: 'genLength', help: 'generated tokens per row', parse: positiveInt, paths: [['genLength']] },
  { flag: '--steps <n>', key: 'steps', help: 'LLaDA diffusion steps', parse: positiveInt, paths: [['llada', 'steps']] },
  { flag: '--block-length <n>', key: 'blockLength', help: 'LLaDA block length (semi-autoregressive)', parse: positiveInt, paths: [['llada', 'blockLength']] },
  { flag: '--threshold <x>', key: 'threshold', help: 'Fast-dLLM parallel decoding threshold in (0, 1]', parse: probability, paths: [['llada', 'threshold']] },
  { flag: '--cache <mode>', key: 'cache', help: 'Fast-dLLM KV cache: none | prefix | dual', parse: oneOf(CACHE_MODES), paths: [['llada', 'cache']] },
  { flag: '--cfg <s>', key: 'cfg', help: 'classifier-free guidance scale', parse: nonNegativeFloat, paths: [['llada', 'cfgScale']] },
  { flag: '--temperature <t>', key: 'temperature', help: 'LLaDA Gumbel temperature', parse: nonNegativeFloat, paths: [['llada', 'temperature']] },
  { flag: '--batch <list>', key: 'batch', help: 'batch sweep sizes, e.g. 1,2,4,8', parse: positiveIntList, paths: [['batch', 'batchSizes']] },
  { flag: '--context <list>', key: 'context', help: 'context sweep prompt lengths, e.g. 256,1024', parse: positiveIntList, paths: [['context', 'promptLengths']] },
  { flag: '--steps-grid <list>', key: 'stepsGrid', help: 'steps sweep values', parse: positiveIntList, paths: [['steps', 'steps']] },
  { flag: '--thresholds <list>', key: 'thresholds', help: 'steps sweep thresholds', parse: probabilityList, paths: [['steps', 'thresholds']] },
  { flag: '--caches <list>', key: 'caches', help: 'steps sweep KV cache modes, e.g. none,prefix,dual', parse: listOf(CACHE_MODES), paths: [['steps', 'caches']] },
  { flag: '--concurrency <list>', key: 'concurrency', help: 'HTTP closed-loop concurrency levels', parse: positiveIntList, paths: [['http', 'concurrency']] },
  { flag: '--threads <n>', key: 'threads', help: 'onnxruntime intra-op threads', parse: positiveInt, paths: [['session', 'intraOpThreads']] },
  { flag: '--out <dir>', key: 'out', help: 'results folder (default results/<run-id>)', paths: [['out']] },
];

export function register(program: Command): void {
  const cmd = program
    .command('run')
    .description('run the same prompts through the LLaDA diffusion engine and the autoregressive baseline, side by side')
    .option('--config <file>', 'config file or built-in name (configs/NAME.json)', 'default');
  for (const f of RUN_FLAGS) {
    if (f.parse) cmd.option(f.flag, f.help, f.parse);
    else cmd.option(f.flag, f.help);
  }
  cmd
    .option('--json', 'print results.json on stdout when done')
    .option('--no-report', 'do not write report.md / report.html')
    .action(async (o: Record<string, unknown>) => {
      const overrides: Override[] = [];
      for (const f of RUN_FLAGS) {
        if (o[f.key] !== undefined) for (const path of f.paths) overrides.push({ path, value: o[f.key] });
      }
      const { runCommand } = await import('../../run/command.js');
      const { createProgress } = await import('../progress.js');
      process.exitCode = await runCommand({ configArg: o.config as string, overrides, json: Boolean(o.json), report: o.report !== false, progress: createProgress() });
      if (process.exitCode === undefined) process.exitCode = ExitCode.ok;
    });
}
