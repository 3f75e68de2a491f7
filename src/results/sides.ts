/**
 * Which side of the comparison a case is on, and the prompt length each side saw. A case records its `role` (the
 * side its engine was given on; older files are migrated on reading); where it is absent (an analysis of cases), the
 * engine says: LLaDA is diffusion, the local AR engines are AR.
 */
import type { CaseResult, PromptParity } from './types.js';

export type Role = 'diffusion' | 'ar';

export function roleOf(c: Pick<CaseResult, 'engine'> & { role?: Role | undefined }): Role | null {
  if (c.role) return c.role;
  // Written before cases recorded their side (older files are migrated; analyses may lack it): the engine says.
  if (c.engine === 'llada') return 'diffusion';
  return c.engine === 'openai' ? null : 'ar';
}

/** The prompt length a case's model saw: the server's own count when it reported one, else the tokens sent. */
export function effectivePromptTokens(c: Pick<CaseResult, 'params'> & { serverPromptTokens?: number | undefined }): number {
  return c.serverPromptTokens ?? c.params.promptTokens;
}

/** Prompt tokens per side (mean over completed cases) and their difference, AR - diffusion. */
export function promptParity(cases: readonly CaseResult[]): PromptParity {
  const side = (role: Role): number | null => {
    const xs = cases.filter((c) => c.state === 'completed' && roleOf(c) === role).map(effectivePromptTokens);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  };
  const d = side('diffusion');
  const a = side('ar');
  return { diffusionPromptTokens: d, arPromptTokens: a, differenceTokens: d !== null && a !== null ? a - d : null };
}
