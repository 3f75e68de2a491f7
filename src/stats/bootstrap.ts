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
