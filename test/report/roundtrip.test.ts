/**
 * write -> read -> render: a report rendered from a results.json read back from disk shows exactly what the run
 * rendered from memory, including a case with one sample, whose confidence interval is undefined (null).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import chalk from 'chalk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml, renderJson, renderMarkdown, renderTable } from '../../src/report/index.js';
import { readResultsFile } from '../../src/results/read.js';
import type { ResultsFile } from '../../src/results/types.js';
import { writeResultsAtomic } from '../../src/results/writer.js';
import { buildCase, buildResults } from '../fixtures/results/builder.js';

/** A completed llada case with a single sample (123.4 tok/s), an AR case interrupted after one run, a two-point fit. */
function oneSampleRun(): ResultsFile {
  return buildResults({
    cases: [
      buildCase({ engine: 'llada', tokensPerSec: [123.4] }),
      buildCase({ engine: 'ar', state: 'aborted', tokensPerSec: [310] }),
      buildCase({ scenario: 'context', engine: 'ar', tokensPerSec: [250, 260, 255] }),
    ],
    analysis: {
      context: { scaling: [{ engine: 'ar', metric: 'latencyMs', exponent: 1.04, ci95: null, r2: 1, points: [{ promptTokens: 64, value: 10 }, { promptTokens: 128, value: 20.6 }] }] },
    },
  });
}

describe('write -> read -> render with one sample', () => {
  const memory = oneSampleRun();
  let disk: ResultsFile;
  const level = chalk.level;

  beforeAll(() => {
    chalk.level = 0;
    const dir = mkdtempSync(join(tmpdir(), 'dllm-roundtrip-'));
    writeResultsAtomic(dir, memory);
    disk = readResultsFile(dir);
  });
  afterAll(() => {
    chalk.level = level;
  });

  it('the one-sample case has a null CI before writing and after reading', () => {
    expect(memory.scenarios[0]!.cases[0]!.samples).toHaveLength(1);
    expect(memory.scenarios[0]!.cases[0]!.summary.tokensPerSec!.ci95).toBeNull();
    expect(disk.scenarios[0]!.cases[0]!.summary.tokensPerSec!.ci95).toBeNull();
  });

  it('table', () => {
    const t = renderTable(disk);
    expect(t).toMatch(/│ llada +│ b1 p64 g32 32 steps blk 32 +│ 123\.4 ± n\/a +│/);
    expect(t).toContain('ar: latencyMs ~ prompt^1.04 (95% CI - to -, R² 1.000; legacy log-log fit)');
    expect(t).toMatch(/│ ar +│ b1 p64 g32 +│ aborted after 1 run: interrupted +│/);
    expect(t).toBe(renderTable(memory));
    // One repetition has no interval anywhere: never a zero-width one.
    expect(t).not.toMatch(/± 0\.0/);
  });

  it('markdown', () => {
    const md = renderMarkdown(disk);
    expect(md).toContain('| llada | b1 p64 g32 32 steps blk 32 | 123.4 ± n/a |');
    expect(md).toContain('| ar | b1 p64 g32 | aborted after 1 run: interrupted |');
    expect(md).toBe(renderMarkdown(memory));
  });

  it('html', async () => {
    const html = await renderHtml(disk);
    expect(html).toContain('<td>123.4 ± n/a</td>');
    expect(html).toBe(await renderHtml(memory));
  });

  it('json', () => {
    const json = renderJson(disk);
    const tps = JSON.parse(json).scenarios[0].cases[0].summary.tokensPerSec;
    expect(tps.mean).toBe(123.4);
    expect(tps.ci95).toBeNull();
    expect(json).toBe(renderJson(memory));
  });
});
