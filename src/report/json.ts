import type { ResultsFile } from '../results/types.js';
import { serializeResults } from '../results/writer.js';

/** results.json itself, byte for byte what the writer writes for the same results. */
export function renderJson(results: ResultsFile): string {
  return serializeResults(results);
}
