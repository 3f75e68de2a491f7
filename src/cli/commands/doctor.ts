import type { Command } from 'commander';
import { DOCTOR_FORMATS as FORMATS, type DoctorFormat } from '../../doctor/format.js';
import { oneOf } from '../parse.js';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check this machine: Node, onnxruntime providers (CPU, CUDA, WebGPU), nvidia-smi, the model cache, model folders')
    .option('--format <format>', `${FORMATS.join(' | ')} (json: one object on stdout)`, oneOf(FORMATS), 'table')
    .option('--model <dir...>', 'also validate these model folders (repeatable)')
    .action(async (o: { format: DoctorFormat; model?: string[] }) => {
      const { doctorCommand } = await import('../../doctor/doctor.js');
      process.exitCode = await doctorCommand(o);
    });
}
