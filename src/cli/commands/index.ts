import type { Command } from 'commander';
import { register as models } from './models.js';

/** Every command registers its options here; implementations are imported lazily inside the actions. */
export const commands: ((program: Command) => void)[] = [models];
