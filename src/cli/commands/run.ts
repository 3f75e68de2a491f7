import { type Command, InvalidArgumentError, Option } from 'commander';
import { ArEngine, Arrival, CacheMode, type ConfigPath, type ConfigValue, Device, Scenario, WeightDtype } from '../../config/schema.js';
import { HttpEndpoint } from '../../config/http.js';
import type { Override } from '../../config/load.js';
import { ExitCode } from '../../util/errors.js';
import { envName, nonNegativeFloat, nonNegativeInt, oneOf, positiveFloat, positiveInt, positiveIntList, probability, requestRateList, sloSpec, text } from '../parse.js';

function listOf<T extends string>(choices: readonly T[]) {
  return (value: string): T[] => {
    const parts = value.split(',').map((s) => s.trim());
    const bad = parts.find((p) => !choices.includes(p as T));
    if (bad !== undefined) throw new InvalidArgumentError(`"${bad}" is not one of: ${choices.join(', ')}.`);
    return parts as T[];
  };
}

function taskLimit(value: string): number | 'all' {
  if (value.trim() === 'all') return 'all';
  try {
    return positiveInt(value);
  } catch {
    throw new InvalidArgumentError("expected a positive integer or 'all'.");
  }
}

function probabilityList(value: string): number[] {
  return value.split(',').map((s) => probability(s.trim()));
}

interface RunFlag {
  option: Option;
  /** The flag's value as the config overrides it sets. */
  overrides(value: unknown): Override[];
}

/**
 * One `run` flag: the config field(s) it overrides, typed against the schema, so a wrong path or a parser that
 * returns the wrong type fails to compile. The zod schema stays the single source of validity and defaults.
 */
function flag<P extends ConfigPath>(spec: string, help: string, parse: (v: string) => ConfigValue<P>, ...paths: P[]): RunFlag {
  const option = new Option(spec, help).argParser(parse);
  // Only values the parser returned reach here, so each one has the type of its path.
  return { option, overrides: (value) => paths.map((path) => ({ path, value }) as Override) };
}

const list = (choices: readonly string[]) => choices.join(' | ');

/** Every `run` flag, declared once. */
const RUN_FLAGS: RunFlag[] = [
  flag('--diffusion <model>', 'diffusion side: preset (twins: trained; tiny, small, llada-8b: random weights), LLaDA model folder, or http(s) URL', text, ['diffusion', 'model']),
  flag('--ar <model>', 'autoregressive side: preset, Llama model folder, or http(s) URL', text, ['ar', 'model']),
  flag('--ar-engines <list>', `comma list of ${list(ArEngine.options)} (ar = transformers.js, ar-ort = direct onnxruntime loop, ar-loop = decode loop inside one onnxruntime call)`, listOf(ArEngine.options), ['ar', 'engines']),
  flag('--device <device>', list(Device.options), oneOf(Device.options), ['device']),
  flag('--dtype <dtype>', `${list(WeightDtype.options)} weights for presets`, oneOf(WeightDtype.options), ['diffusion', 'dtype'], ['ar', 'dtype']),
  flag('--scenarios <list>', `comma list of ${Scenario.options.join(', ')}`, listOf(Scenario.options), ['scenarios']),
  flag('--prompts <set>', 'built-in prompt set name or a prompt set file', text, ['prompts']),
  flag('--warmup <n>', 'warmup runs per case (excluded)', nonNegativeInt, ['warmup']),
  flag('--repetitions <n>', 'measured runs per case, at least (--min-time may add more)', positiveInt, ['repetitions']),
  flag('--min-time <s>', 'measured seconds per case, at least (0: exactly --repetitions runs)', nonNegativeFloat, ['sampling', 'minTimeSec']),
  flag('--max-repetitions <n>', 'cap on the runs --min-time can add per case', positiveInt, ['sampling', 'maxRepetitions']),
  flag('--passes <n>', 'passes over the engines in alternating order (ABBA), each opening every engine once and taking its share of each case\'s repetitions and time (1: one opening each)', positiveInt, ['sampling', 'passes']),
  flag('--gen-length <n>', 'generated tokens per row', positiveInt, ['genLength']),
  flag('--steps <n>', 'LLaDA diffusion steps', positiveInt, ['llada', 'steps']),
  flag('--block-length <n>', 'LLaDA block length (semi-autoregressive)', positiveInt, ['llada', 'blockLength']),
  flag('--threshold <x>', 'Fast-dLLM parallel decoding threshold in (0, 1]', probability, ['llada', 'threshold']),
  flag('--cache <mode>', `Fast-dLLM KV cache: ${list(CacheMode.options)}`, oneOf(CacheMode.options), ['llada', 'cache']),
  flag('--cfg <s>', 'classifier-free guidance scale', nonNegativeFloat, ['llada', 'cfgScale']),
  flag('--temperature <t>', 'LLaDA Gumbel temperature', nonNegativeFloat, ['llada', 'temperature']),
  flag('--batch <list>', 'batch sweep sizes, e.g. 1,2,4,8 or 1-8*2', positiveIntList, ['batch', 'batchSizes']),
  flag('--context <list>', 'context sweep prompt lengths, e.g. 256,1024 or 256-2048*2', positiveIntList, ['context', 'promptLengths']),
  flag('--steps-grid <list>', 'steps sweep values, e.g. 8,16,32 or 8-64*2', positiveIntList, ['steps', 'steps']),
  flag('--thresholds <list>', 'steps sweep thresholds, e.g. 0.9,0.7', probabilityList, ['steps', 'thresholds']),
  flag('--caches <list>', `steps sweep KV cache modes, comma list of ${list(CacheMode.options)}`, listOf(CacheMode.options), ['steps', 'caches']),
  flag('--quality-per-task <n>', 'held-out items decoded per task for the quality of each throughput/steps case (models with held-out tasks; 0: none)', nonNegativeInt, ['quality', 'perTask']),
  flag('--tasks <suite>', "task suite every engine is scored on: twins | gsm8k | a task file (default: the model's own held-out tasks)", text, ['quality', 'tasks']),
  flag('--task-limit <n>', "decode the first N items of the suite, or 'all'", taskLimit, ['quality', 'limit']),
  flag('--quality-batch <n>', 'rows per request of the quality decodes (left-padded batches)', positiveInt, ['quality', 'batchSize']),
  flag('--concurrency <list>', 'HTTP closed-loop concurrency levels, e.g. 1,4 or 1-16*2', positiveIntList, ['http', 'concurrency']),
  flag('--diffusion-model <name>', 'served diffusion side (--diffusion URL): the model name sent in requests', text, ['diffusion', 'http', 'model']),
  flag('--ar-model <name>', 'served AR side (--ar URL): the model name sent in requests', text, ['ar', 'http', 'model']),
  flag('--endpoint <kind>', `served sides: ${list(HttpEndpoint.options)} (completions sends the local side's prompt token ids)`, oneOf(HttpEndpoint.options), ['diffusion', 'http', 'endpoint'], ['ar', 'http', 'endpoint']),
  flag('--api-key-env <name>', 'served sides: NAME of the environment variable holding the API key (the key is never written)', envName, ['diffusion', 'http', 'apiKeyEnv'], ['ar', 'http', 'apiKeyEnv']),
  flag('--request-rate <list>', 'served sides: open-loop request rates per second, e.g. 1,4,16,inf', requestRateList, ['http', 'requestRates']),
  flag('--arrival <kind>', `open-loop arrivals: ${list(Arrival.options)}`, oneOf(Arrival.options), ['http', 'arrival']),
  flag('--slo <targets>', 'goodput targets, e.g. ttft=500ms,tpot=50ms,e2e=2s', sloSpec, ['http', 'slo']),
  flag('--requests <n>', 'served sides: requests per load level (closed or open loop)', positiveInt, ['http', 'requests']),
  flag('--duration <s>', 'served sides: seconds per load level at most', positiveFloat, ['http', 'durationSec']),
  flag('--threads <n>', 'onnxruntime intra-op threads', positiveInt, ['session', 'intraOpThreads']),
  flag('--out <dir>', 'results folder (default results/<run-id>)', text, ['out']),
];

export function register(program: Command): void {
  const cmd = program
    .command('run')
    .description('run the same prompts through the LLaDA diffusion engine and the autoregressive baseline, side by side')
    .option('--config <file>', 'config file or built-in name (configs/NAME.json)', 'default');
  for (const f of RUN_FLAGS) cmd.addOption(f.option);
  cmd
    .option('--json', 'print results.json on stdout when done')
    .option('--no-report', 'do not write report.md / report.html')
    .option('--wide', 'print every table column, whatever the terminal width')
    .option('--force', "write into an --out folder that already holds a run's results (replacing them)")
    .option('--plan', 'print the memory plan (weights, KV cache, activations against free memory) and exit without loading a model')
    .addOption(new Option('--gpu-memory <GiB>', 'plan for a GPU with this much free memory (GiB) instead of what nvidia-smi reports').argParser(positiveFloat))
    .addOption(new Option('--cpu-memory <GiB>', 'plan the CPU run against this much RAM (GiB) instead of MemAvailable').argParser(positiveFloat))
    .action(async (o: Record<string, unknown>) => {
      const overrides: Override[] = [];
      for (const f of RUN_FLAGS) {
        const value = o[f.option.attributeName()];
        if (value !== undefined) overrides.push(...f.overrides(value));
      }
      const { runCommand } = await import('../../run/command.js');
      const { createProgress } = await import('../progress.js');
      process.exitCode = await runCommand({
        configArg: o.config as string,
        overrides,
        json: Boolean(o.json),
        report: o.report !== false,
        wide: Boolean(o.wide),
        force: Boolean(o.force),
        progress: createProgress(),
        plan: Boolean(o.plan),
        memory: { gpuMemoryGiB: o.gpuMemory as number | undefined, cpuMemoryGiB: o.cpuMemory as number | undefined },
      });
      if (process.exitCode === undefined) process.exitCode = ExitCode.ok;
    });
}
