/**
 * Sampler combinations zod cannot see (gen_length, block_length and steps must divide), checked against the LLaDA
 * engine's own rule before any model is built. It lives here, where config meets engines, so config/ stays below.
 */
import type { RunConfig } from '../config/schema.js';
import { isUrl } from '../config/schema.js';
import { validateLladaOptions } from '../engines/llada/sampler.js';
import { UserError } from '../util/errors.js';

export function checkSamplerConfig(c: RunConfig, source: string): void {
  if (isUrl(c.diffusion.model)) return;
  const fail = (m: string) => {
    throw new UserError(`config ${source}: ${m}`);
  };
  const bad = validateLladaOptions(c.genLength, c.llada);
  if (bad) fail(bad);
  if (c.scenarios.includes('steps')) {
    for (const s of c.steps.steps) {
      const e = validateLladaOptions(c.genLength, { ...c.llada, steps: s, threshold: null });
      if (e) fail(`steps sweep: ${e}`);
    }
  }
}
