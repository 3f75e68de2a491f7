import type { Command } from 'commander';

/** Every command registers its options here; implementations are imported lazily inside the actions. */
export const commands: ((program: Command) => void)[] = [];
