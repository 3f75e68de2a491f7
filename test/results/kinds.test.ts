/**
 * The results schema's engine kinds (config/kinds.ts, a zod enum) and the engine contract's kinds (the keys of
 * EngineOptionsByKind) must be the same set: a new engine kind needs both, and tsc (npm run typecheck:test) fails
 * here when one is missing.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { EngineKind } from '../../src/config/kinds.js';
import type { EngineOptionsByKind } from '../../src/engines/options.js';
import type { CaseResult } from '../../src/results/types.js';

describe('engine kinds', () => {
  it('the results enum and the engine contract name the same kinds', () => {
    expectTypeOf<EngineKind>().toEqualTypeOf<keyof EngineOptionsByKind>();
    expectTypeOf<CaseResult['engine']>().toEqualTypeOf<keyof EngineOptionsByKind>();
    expect([...EngineKind.options].sort()).toEqual(['ar', 'ar-loop', 'ar-ort', 'llada', 'openai']);
  });
});
