/**
 * Runs the built CLI as a user would (npm test builds dist/ first). Every spawn is asynchronous: a synchronous
 * spawn blocks the vitest worker, and on loaded machines vitest then fails the run on its own RPC timeouts
 * (`Timeout calling "onTaskUpdate"`) after every test passed.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const root = join(import.meta.dirname, '..', '..');
export const bin = join(root, 'bin', 'dllm-bench.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the child and fail after this long. */
  timeoutMs?: number;
}

const tail = (text: string, lines = 25) => text.trim().split('\n').slice(-lines).join('\n');

/**
 * Runs a command to completion without blocking the event loop. Resolves with its exit code and output whatever
 * the code; rejects (with the stderr tail) when it cannot start or runs past the timeout, after killing it.
 */
export function run(cmd: string, args: string[], o: RunOptions = {}): Promise<CliResult> {
  const timeoutMs = o.timeoutMs ?? 240_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: o.cwd ?? root, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${[cmd, ...args].join(' ')} timed out after ${timeoutMs / 1000} s and was killed; stderr:\n${tail(stderr)}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${cmd}: ${err.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `dllm-bench ARGS` with colour and spinner off. */
export function cli(args: string[], env: Record<string, string> = {}, cwd = root, timeoutMs = 240_000): Promise<CliResult> {
  return run(process.execPath, [bin, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', CI: '1', ...env }, timeoutMs });
}

/** A CLI child to interact with while it runs (signals, partial output). */
export function cliAsync(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1', CI: '1', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done, output: () => ({ stdout, stderr }) };
}
