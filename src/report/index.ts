/** Report exporters (table, Markdown, HTML, JSON), each a pure `(results) => string` (HTML is async: chart rendering). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResultsFile } from '../results/types.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';

export { renderTable } from './table.js';
export { renderMarkdown } from './markdown.js';
export { renderHtml } from './html.js';
export { renderJson } from './json.js';
export { FLAT_COLUMNS, renderCsv, renderJsonl } from './flat.js';

/** report.md and report.html beside results.json. */
export async function writeReports(results: ResultsFile, dir: string): Promise<void> {
  writeFileSync(join(dir, 'report.md'), renderMarkdown(results));
  writeFileSync(join(dir, 'report.html'), await renderHtml(results));
}
