/**
 * Progress for humans on stderr: an ora spinner on an interactive terminal, plain lines otherwise (CI logs). The
 * spinner keeps moving during a forward pass because engines run in worker threads.
 */
import chalk from 'chalk';
import ora, { type Ora } from 'ora';
import { isInteractive } from '../util/color.js';
import { terminalWidth, wrapLine } from '../util/format.js';
import type { Progress } from '../run/progress.js';


export function createProgress(quiet = false): Progress {
  if (quiet) return { phase() {}, detail() {}, line() {}, stop() {} };
  if (!isInteractive()) {
    return {
      phase: (t) => process.stderr.write(`${t}\n`),
      detail() {},
      line: (t) => process.stderr.write(`${wrapLine(`  ${t}`, terminalWidth()).join('\n')}\n`),
      stop() {},
    };
  }
  let spinner: Ora | null = null;
  let current = '';
  return {
    phase(t) {
      current = t;
      if (spinner) spinner.text = t;
      else spinner = ora({ text: t, stream: process.stderr }).start();
    },
    detail(t) {
      if (spinner) spinner.text = `${current} ${chalk.dim(t)}`;
    },
    line(t) {
      if (spinner) spinner.clear();
      process.stderr.write(`${wrapLine(`  ${t}`, terminalWidth()).join('\n')}\n`);
      spinner?.render();
    },
    stop() {
      spinner?.stop();
      spinner = null;
    },
  };
}
