import { ResultsFile as ResultsSchema } from '../results/schema.js';
import type { ResultsFile } from '../results/types.js';

/**
 * results.json as text, fields in schema order: a run's in-memory results (`run --json`), the file it wrote and
 * that file read back (`report --format json`) print the same bytes.
 */
export function renderJson(results: ResultsFile): string {
  return JSON.stringify(ResultsSchema.parse(results), null, 2);
}
