import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check this machine: Node, onnxruntime providers (CPU, CUDA, WebGPU), nvidia-smi, the model cache, model folders')
    .option('--json', 'print one JSON object on stdout')
    .option('--model <dir...>', 'also validate these model folders (repeatable)')
    .action(async (o: { json?: boolean; model?: string[] }) => {
      const { doctorCommand } = await import('../../doctor/doctor.js');
      process.exitCode = await doctorCommand(o);
    });
}
