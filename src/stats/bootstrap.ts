/**
 * Percentile bootstrap for statistics of several independent samples (e.g. batch efficiency =
 * tput(B) / (B · tput(1)) from the B-row and the 1-row repetitions). Seeded, so a report re-rendered from the same
 * results shows the same interval.
 */
import { at } from '../util/indexing.js';
import { mulberry32 } from '../util/random.js';
import { percentileSorted } from './index.js';

export interface BootstrapInterval {
  estimate: number;
  /** null when every group has a single value: resampling cannot show any spread. */
  ci95: [number, number] | null;
  resamples: number;
}

/**
 * statistic(groups) on the observed data, with a 95% percentile interval from `resamples` resamples that draw each
 * group with replacement, independently.
 */
export function bootstrap(
  groups: readonly (readonly number[])[],
  statistic: (groups: readonly (readonly number[])[]) => number,
  opts: { resamples?: number; seed?: number } = {},
): BootstrapInterval {
  if (groups.some((g) => g.length === 0)) throw new RangeError('bootstrap: every group needs at least one value');
  const estimate = statistic(groups);
  const resamples = opts.resamples ?? 2000;
  if (groups.every((g) => g.length === 1)) return { estimate, ci95: null, resamples: 0 };
  const rand = mulberry32(opts.seed ?? 0x5eed);
  const draws: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const resampled = groups.map((g) => g.map(() => at(g, Math.floor(rand() * g.length))));
    const v = statistic(resampled);
    if (Number.isFinite(v)) draws.push(v);
  }
  if (draws.length === 0) return { estimate, ci95: null, resamples };
  draws.sort((a, b) => a - b);
  return { estimate, ci95: [percentileSorted(draws, 0.025), percentileSorted(draws, 0.975)], resamples };
}

/**
 * The two-stage (cluster) bootstrap, for values that come in blocks: the passes over the engines, each a separate
 * engine opening at a separate time. A resample draws, per group, as many blocks as the group has (with replacement),
 * then values within each drawn block (with replacement); the statistic sees each group's values concatenated. A
 * difference between blocks (a slow phase of the machine during one pass) so widens the interval instead of hiding
 * in it. Drawing at both stages counts within-block spread a little more than once: the interval errs wide. Groups
 * that all have one block are exactly `bootstrap` over their values.
 */
export function blockBootstrap(
  groups: readonly (readonly (readonly number[])[])[],
  statistic: (groups: readonly (readonly number[])[]) => number,
  opts: { resamples?: number; seed?: number } = {},
): BootstrapInterval {
  const blocks = groups.map((g) => g.filter((b) => b.length > 0));
  if (blocks.some((g) => g.length === 0)) throw new RangeError('blockBootstrap: every group needs at least one value');
  const flat = blocks.map((g) => g.flat());
  if (blocks.every((g) => g.length === 1)) return bootstrap(flat, statistic, opts);
  const estimate = statistic(flat);
  const resamples = opts.resamples ?? 2000;
  const rand = mulberry32(opts.seed ?? 0x5eed);
  const draws: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const resampled = blocks.map((g) => g.flatMap(() => {
      const b = at(g, Math.floor(rand() * g.length));
      return b.map(() => at(b, Math.floor(rand() * b.length)));
    }));
    const v = statistic(resampled);
    if (Number.isFinite(v)) draws.push(v);
  }
  if (draws.length === 0) return { estimate, ci95: null, resamples };
  draws.sort((a, b) => a - b);
  return { estimate, ci95: [percentileSorted(draws, 0.025), percentileSorted(draws, 0.975)], resamples };
}

/** Values in blocks by a key (a repetition's pass; absent: one block), blocks in key order. */
export function blocksBy<T>(items: readonly T[], value: (x: T) => number | undefined, key: (x: T) => number | undefined): number[][] {
  const by = new Map<number, number[]>();
  for (const x of items) {
    const v = value(x);
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    const k = key(x) ?? 0;
    by.set(k, [...(by.get(k) ?? []), v]);
  }
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([, vs]) => vs);
}
