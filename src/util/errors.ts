/**
 * Errors a user can act on. Anything thrown as a UserError is printed as one line (no stack) with its exit code;
 * anything else is a bug and prints one line too, plus the stack only under --debug.
 */
export const ExitCode = {
  ok: 0,
  /** compare: a regression was found; run: a scenario failed or the error-rate limit was passed. */
  failure: 1,
  /** Bad input: flags, files, configs, model folders. */
  usage: 2,
  /** Interrupted by SIGINT (128 + 2). */
  interrupted: 130,
  /** Stopped by SIGTERM (128 + 15). */
  terminated: 143,
} as const;

export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.usage,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? String(err);
  return String(err);
}
