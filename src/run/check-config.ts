/**
 * Sampler combinations zod cannot see (gen_length, block_length and steps must divide), checked against the LLaDA
 * engine's own rule before any model is built. It lives here, where config meets engines, so config/ stays below.
 */
import type { RunConfig } from '../config/schema.js';
import { isUrl } from '../config/schema.js';
import { validateLladaOptions } from '../engines/llada/sampler.js';
import { UserError } from '../util/errors.js';

/**
 * More steps than positions: the engines run the extra forwards (the reference schedule commits nothing at them,
 * 64 forwards for 16 tokens), so a benchmark would time wasted work. Refused where a user sets the steps.
 */
export function stepsOverGenLength(genLength: number, steps: number): string | null {
  return steps > genLength ? `steps (${steps}) must not exceed gen_length (${genLength}): each step commits at least one token` : null;
}

/**
 * The steps sweep without the values above gen_length (they would time wasted forwards), and a note naming them;
 * refused when none is left. The sweep's defaults reach 32, so a short --gen-length keeps working.
 */
export function fitStepsSweep(c: RunConfig, source: string): { config: RunConfig; note: string | null } {
  if (isUrl(c.diffusion.model) || !c.scenarios.includes('steps')) return { config: c, note: null };
  const over = c.steps.steps.filter((s) => s > c.genLength);
  if (over.length === 0) return { config: c, note: null };
  const kept = c.steps.steps.filter((s) => s <= c.genLength);
  if (kept.length === 0) throw new UserError(`config ${source}: steps sweep: ${stepsOverGenLength(c.genLength, Math.min(...over))}`);
  return { config: { ...c, steps: { ...c.steps, steps: kept } }, note: `steps sweep: ${over.join(', ')} exceed gen_length ${c.genLength} (a step commits at least one token): skipped` };
}

/**
 * `--gen-length` below the config's steps (the default config's 16, say) without `--steps`: the steps follow the
 * shorter length, one token per step, with a note; steps a user set above gen_length are still refused.
 */
export function fitStepsToGenLength(c: RunConfig, overridden: readonly string[]): { config: RunConfig; note: string | null } {
  if (!overridden.includes('genLength') || overridden.includes('llada.steps') || c.llada.steps <= c.genLength) return { config: c, note: null };
  return {
    config: { ...c, llada: { ...c.llada, steps: c.genLength } },
    note: `llada.steps ${c.llada.steps} from the config exceeds --gen-length ${c.genLength}: using ${c.genLength} steps (one token per step; --steps sets them)`,
  };
}

export function checkSamplerConfig(c: RunConfig, source: string): void {
  if (isUrl(c.diffusion.model)) return;
  const fail = (m: string) => {
    throw new UserError(`config ${source}: ${m}`);
  };
  const bad = validateLladaOptions(c.genLength, c.llada) ?? (c.llada.threshold === null ? stepsOverGenLength(c.genLength, c.llada.steps) : null);
  if (bad) fail(bad);
  if (c.scenarios.includes('steps')) {
    for (const s of c.steps.steps) {
      const e = validateLladaOptions(c.genLength, { ...c.llada, steps: s, threshold: null });
      if (e) fail(`steps sweep: ${e}`);
    }
  }
}
