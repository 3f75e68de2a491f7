import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from './errors.js';

/** Creates the folder if needed and checks that we can write into it; one clear line otherwise. */
export function assertWritableDir(dir: string): void {
  const abs = resolve(dir);
  try {
    if (existsSync(abs) && !statSync(abs).isDirectory()) throw new UserError(`${dir}: exists and is not a folder`);
    mkdirSync(abs, { recursive: true });
    accessSync(abs, constants.W_OK);
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`${dir}: cannot write output folder (${code ?? 'error'}${code === 'EACCES' ? ': permission denied' : ''}; parent ${dirname(abs)})`);
  }
}
