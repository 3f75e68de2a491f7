/** Assertions on engine results: success first, so comparing two failed results can never pass. */
import type { EngineResult, GenerateOutput } from '../../src/engines/types.js';

/** The output of a successful result; fails the test with the engine's error otherwise. */
export function okValue(r: EngineResult): GenerateOutput {
  if (!r.ok) throw new Error(`expected a successful generate, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}
