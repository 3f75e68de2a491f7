import type { Command } from 'commander';
import { register as claims } from './claims.js';
import { register as compare } from './compare.js';
import { register as doctor } from './doctor.js';
import { register as generate } from './generate.js';
import { register as models } from './models.js';
import { register as report } from './report.js';
import { register as run } from './run.js';

/** Every command registers its options here; implementations are imported lazily inside the actions. */
export const commands: ((program: Command) => void)[] = [run, report, compare, claims, generate, models, doctor];
