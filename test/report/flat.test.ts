import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLAT_COLUMNS, renderCsv, renderJsonl } from '../../src/report/index.js';
import { csvField } from '../../src/report/flat.js';
import { buildCase, buildResults, writeJson } from '../fixtures/results/builder.js';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/models.js';

/** d3-dsv (vega's CSV reader): an RFC 4180 parser written by others, to read what the writer wrote. */
async function parseCsv(text: string): Promise<string[][]> {
  const dsv = (await import('d3-dsv' as string)) as { csvParseRows: (s: string) => string[][] };
  return dsv.csvParseRows(text);
}

function run() {
  return buildResults({
    cases: [
      buildCase({ engine: 'llada', params: { threshold: 0.9, cache: 'dual' }, model: 'my, "odd" model', parameters: 800_000 }),
      buildCase({ engine: 'ar-loop', tokensPerSec: { mean: 500, sd: 5 } }),
      buildCase({ scenario: 'batch', engine: 'ar', params: { batchSize: 4 }, state: 'errored', error: 'runtime: boom,\nsecond line "quoted"' }),
    ],
  });
}

describe('report --format csv | jsonl: one row per case', () => {
  it('CSV loads in a CSV parser: a header of the documented columns, one row per case, the figures as written', async () => {
    const r = run();
    const rows = await parseCsv(renderCsv(r));
    expect(rows[0]).toEqual(FLAT_COLUMNS.map((c) => c.name));
    expect(rows).toHaveLength(1 + 3);
    const col = (row: string[], name: string) => row[FLAT_COLUMNS.findIndex((c) => c.name === name)]!;
    const [llada, loop, errored] = rows.slice(1) as [string[], string[], string[]];
    expect(col(llada, 'model')).toBe('my, "odd" model');
    expect(col(llada, 'role')).toBe('diffusion');
    expect(col(llada, 'threshold')).toBe('0.9');
    expect(col(llada, 'steps')).toBe('');
    expect(col(llada, 'cache')).toBe('dual');
    expect(col(llada, 'parameters')).toBe('800000');
    const c = r.scenarios[0]!.cases[1]!;
    expect(Number(col(loop, 'tokens_per_sec'))).toBe(c.summary.tokensPerSec!.mean);
    expect(Number(col(loop, 'tokens_per_sec_ci_low'))).toBe(c.summary.tokensPerSec!.ci95![0]);
    expect(col(loop, 'cache')).toBe('');
    expect(col(loop, 'role')).toBe('ar');
    expect(col(errored, 'state')).toBe('errored');
    expect(col(errored, 'error')).toBe('runtime: boom,\nsecond line "quoted"');
    expect(col(errored, 'tokens_per_sec')).toBe('');
    expect(csvField('a"b')).toBe('"a""b"');
  });

  it('JSONL: one object per line, the same keys, numbers as numbers and null where a figure does not apply', () => {
    const r = run();
    const lines = renderJsonl(r).split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(Object.keys(l)).toEqual(FLAT_COLUMNS.map((c) => c.name));
    expect(lines[1]!.tokens_per_sec).toBe(r.scenarios[0]!.cases[1]!.summary.tokensPerSec!.mean);
    expect(lines[0]!.ttft_p50_ms).toBeNull();
    expect(lines[2]!.error).toBe('runtime: boom,\nsecond line "quoted"');
  });

  it('README documents every column', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Flat export'));
    for (const c of FLAT_COLUMNS) expect(section, c.name).toContain(`\`${c.name}\``);
  });

  it('the built CLI writes both formats on stdout', async () => {
    const file = writeJson(tempDir(), 'results.json', run());
    const csv = await cli(['report', file, '--format', 'csv']);
    expect(csv.code).toBe(0);
    expect((await parseCsv(csv.stdout)).length).toBe(4);
    const jsonl = await cli(['report', file, '--format', 'jsonl']);
    expect(jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l).case_id)).toEqual(run().scenarios.flatMap((s) => s.cases.map((c) => c.id)));
  });
});
