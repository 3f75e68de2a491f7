import type { Command } from 'commander';
import { DOCTOR_FORMATS as FORMATS, type DoctorFormat } from '../../doctor/format.js';
import { envName, oneOf } from '../parse.js';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check this machine: Node, onnxruntime providers (CPU, CUDA, WebGPU), nvidia-smi, the model cache, model folders')
    .option('--format <format>', `${FORMATS.join(' | ')} (json: one object on stdout)`, oneOf(FORMATS), 'table')
    .option('--model <dir...>', 'also validate these model folders (repeatable)')
    .option('--url <url>', 'check an OpenAI-compatible server instead: reachable, models listed, streaming works, usage reported')
    .option('--url-model <name>', 'with --url: the model name to send (default: the first the server lists)')
    .option('--endpoint <kind>', 'with --url: completions | chat', oneOf(['completions', 'chat'] as const))
    .option('--api-key-env <name>', 'with --url: NAME of the environment variable holding the API key', envName)
    .action(async (o: { format: DoctorFormat; model?: string[]; url?: string; urlModel?: string; endpoint?: 'completions' | 'chat'; apiKeyEnv?: string }) => {
      const { doctorCommand } = await import('../../doctor/doctor.js');
      process.exitCode = await doctorCommand(o);
    });
}
