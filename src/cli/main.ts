/**
 * dllm-bench: options -> command -> engines -> scenarios -> results -> reports.
 * Each command lives in src/cli/commands/<name>.ts and imports its heavy modules lazily.
 */
import { Command, CommanderError } from 'commander';
import { configureColor } from '../util/color.js';
import { ExitCode, UserError, errorMessage } from '../util/errors.js';
import { toolVersion } from '../util/version.js';
import { commands } from './commands/index.js';

async function main(argv: string[]): Promise<number> {
  configureColor();
  const program = new Command('dllm-bench')
    .description('Is a diffusion LLM (LLaDA) really faster than an autoregressive LLM on the same hardware? Measure it.')
    .version(toolVersion(), '-V, --version')
    .option('--debug', 'show stack traces for unexpected errors')
    .exitOverride()
    // A flag error is one line, the hint on the same line (README: errors are one line on stderr).
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: (s, write) => write(`${s.trimEnd()} (run with --help for usage)\n`) });
  for (const register of commands) register(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed its one-line message; help and version exit 0.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const debug = argv.includes('--debug');
    if (err instanceof UserError) {
      process.stderr.write(`dllm-bench: ${err.message}\n`);
      if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
      return err.exitCode;
    }
    process.stderr.write(`dllm-bench: internal error: ${errorMessage(err)}${debug ? '' : ' (run with --debug for details)'}\n`);
    if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return ExitCode.failure;
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`dllm-bench: ${errorMessage(err)}\n`);
    process.exitCode = ExitCode.failure;
  },
);
