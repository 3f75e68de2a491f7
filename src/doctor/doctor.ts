/** `dllm-bench doctor`: every check, in a fixed order, then one document on stdout and an exit code. */
import { ExitCode } from '../util/errors.js';
import { type CheckResult, type Probe, overallOk, runProbes } from './checks.js';
import { type DoctorFormat, formatChecks, formatJson } from './format.js';
import { checkCache, checkCpu, checkCuda, checkModel, checkNode, checkNvidiaSmi, checkOnnxruntime, checkWebgpu } from './probes.js';
import { tempAddModel } from './session-probe.js';
import { checkServer } from './server.js';

export interface DoctorOptions {
  format: DoctorFormat;
  /** Model folders to validate (`--model DIR`, repeatable). */
  model?: string[];
  /** Check this OpenAI-compatible server instead of the machine. */
  url?: string;
  /** With url: the model name to send (default: the first listed), the endpoint, the API key's variable NAME. */
  urlModel?: string;
  endpoint?: 'completions' | 'chat';
  apiKeyEnv?: string;
}

export async function collectChecks(options: { models?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<CheckResult[]> {
  const env = options.env ?? process.env;
  // One test model for the three provider probes; written on first use so a failure to write it fails those checks.
  let model: ReturnType<typeof tempAddModel> | null = null;
  const modelPath = () => (model ??= tempAddModel()).path;
  const probes: Probe[] = [
    { id: 'node', run: () => checkNode() },
    { id: 'onnxruntime', run: () => checkOnnxruntime() },
    { id: 'cpu', run: () => checkCpu(modelPath()) },
    { id: 'cuda', run: () => checkCuda(modelPath()) },
    { id: 'webgpu', run: () => checkWebgpu(modelPath()) },
    { id: 'nvidia-smi', run: () => checkNvidiaSmi(env) },
    { id: 'cache', run: () => checkCache(env) },
    ...(options.models ?? []).map((dir): Probe => ({ id: `model:${dir}`, run: () => checkModel(dir) })),
  ];
  try {
    return await runProbes(probes);
  } finally {
    (model as ReturnType<typeof tempAddModel> | null)?.dispose();
  }
}

export async function doctorCommand(options: DoctorOptions): Promise<number> {
  const checks = options.url
    ? await checkServer({
        url: options.url,
        ...(options.urlModel ? { model: options.urlModel } : {}),
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.apiKeyEnv ? { apiKeyEnv: options.apiKeyEnv } : {}),
      })
    : await collectChecks({ models: options.model ?? [] });
  process.stdout.write(options.format === 'json' ? formatJson(checks) : formatChecks(checks));
  return overallOk(checks) ? ExitCode.ok : ExitCode.failure;
}
