import chalk from 'chalk';

/**
 * The one place colour is decided (chalk 5 does not read NO_COLOR itself):
 * NO_COLOR (any value) disables, FORCE_COLOR=0..3 forces, otherwise colour only on a TTY stderr.
 */
export function configureColor(env: NodeJS.ProcessEnv = process.env, stream: NodeJS.WriteStream = process.stderr): void {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') chalk.level = 0;
  else if (env.FORCE_COLOR !== undefined) chalk.level = Math.max(0, Math.min(3, Number(env.FORCE_COLOR) || 0)) as 0 | 1 | 2 | 3;
  else chalk.level = stream.isTTY ? 2 : 0;
}

/**
 * Spinners and live redraws only on an interactive terminal that knows its width, never in CI. A terminal that
 * reports 0 columns or none (`script -qc ... /dev/null`, `docker exec -t`, some CI runners) gets plain lines: a
 * redraw there divides by the width and never ends.
 */
export function isInteractive(env: NodeJS.ProcessEnv = process.env, stream: Pick<NodeJS.WriteStream, 'isTTY' | 'columns'> = process.stderr): boolean {
  return Boolean(stream.isTTY) && !env.CI && Number.isFinite(stream.columns) && stream.columns > 0;
}
