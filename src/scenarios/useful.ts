/**
 * Useful tokens counted like a user would (README, counting rules). A user of an AR server has the answer when the
 * first EOS/end-of-turn token arrives, so in fixed-length AR runs (EOS ignored to match diffusion's token count)
 * the useful tokens are divided by the time at which that EOS arrived, not by the time that includes the junk
 * generated after it. Engines without per-token times (diffusion, which must fill every position before any answer
 * exists) keep the whole call's time.
 */
import type { GenerateOutput } from '../engines/types.js';
import { at } from '../util/indexing.js';

/** When the useful part of one generate call was complete, ms since its start (max over batch rows). */
export function usefulTimeMs(out: Pick<GenerateOutput, 'tokens' | 'usefulTokens' | 'tokenTimesMs' | 'totalMs'>): number {
  const times = out.tokenTimesMs;
  if (!times || times.length !== out.tokens.length) return out.totalMs;
  let latest = 0;
  for (let b = 0; b < out.tokens.length; b++) {
    const u = at(out.usefulTokens, b, 'out.usefulTokens');
    // A row that stopped (EOS at index u) was done when its EOS arrived; a row without EOS needed the whole call.
    const t = u < at(out.tokens, b, 'out.tokens').length ? at(times, b, 'times')[u] : undefined;
    latest = Math.max(latest, t ?? out.totalMs);
  }
  return latest;
}
