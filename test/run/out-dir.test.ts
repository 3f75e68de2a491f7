/**
 * Issue 23, defects 1-3 at the unit level: a run's results folder is never wiped, an output is never one of the
 * inputs, and a full disk keeps the last complete results.json (simulated with an injected ENOSPC, and for real on
 * a 64 KiB tmpfs where the machine allows mounting one).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertOutNotInput, parseResults } from '../../src/results/read.js';
import { ResultsWriteError, writeResultsAtomic } from '../../src/results/writer.js';
import type { ResultsFile } from '../../src/results/types.js';
import { checkOutDir, createPersister, describeWriteFailure } from '../../src/run/out-dir.js';
import { UserError } from '../../src/util/errors.js';
import { buildCase, buildResults } from '../fixtures/results/builder.js';
import { tempDir } from '../helpers/models.js';
import { smallTmpfs } from '../helpers/tmpfs.js';

const results = (n: number): ResultsFile => buildResults({ cases: Array.from({ length: n }, (_, i) => buildCase({ id: `throughput/llada/case${i}` })) });
const emptyRun = (): ResultsFile => ({ ...results(0), scenarios: [] });

describe('defect 1: an existing results folder is never wiped', () => {
  it('a folder holding a run is refused without --force; a new, empty or unrelated folder is fine', () => {
    const dir = tempDir();
    checkOutDir(join(dir, 'new', 'deeper'), false);
    expect(existsSync(join(dir, 'new'))).toBe(false); // checking writes nothing
    checkOutDir(dir, false);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    checkOutDir(dir, false);
    writeFileSync(join(dir, 'report.md'), '# old');
    expect(() => checkOutDir(dir, false)).toThrow(UserError);
    expect(() => checkOutDir(dir, false)).toThrow(/already holds a run's results \(report\.md\); choose another folder, or pass --force/);
    checkOutDir(dir, true);
  });

  it('nothing is written before there is a case; with --force the old run files go at the first write', () => {
    const dir = join(tempDir(), 'out');
    mkdirSync(dir);
    for (const f of ['results.json', 'report.md', 'report.html', 'notes.txt']) writeFileSync(join(dir, f), 'old');
    const p = createPersister(dir, { force: true });
    expect(p.save(emptyRun())).toBeNull();
    // A case interrupted before its first repetition measured nothing either.
    const interrupted = buildResults({ cases: [buildCase({ id: 'throughput/llada/c0', state: 'aborted', tokensPerSec: [] })] });
    expect(interrupted.scenarios[0]!.cases[0]!.samples).toEqual([]);
    expect(p.save(interrupted)).toBeNull();
    expect(readFileSync(join(dir, 'results.json'), 'utf8')).toBe('old');
    expect(p.save(results(1))).toBe(join(dir, 'results.json'));
    expect(readdirSync(dir).sort()).toEqual(['notes.txt', 'results.json']);
    expect(parseResults(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')), 'r').scenarios[0]!.cases).toHaveLength(1);
    // Once written, later saves always write.
    expect(p.save(results(2))).toBe(join(dir, 'results.json'));
    expect(p.savedCases).toEqual(['throughput/llada/case0', 'throughput/llada/case1']);
  });

  it('a new folder is created only at the first write', () => {
    const dir = join(tempDir(), 'a', 'b');
    const p = createPersister(dir, { force: false });
    p.save(emptyRun());
    expect(existsSync(join(dir, '..'))).toBe(false);
    p.save(results(1));
    expect(existsSync(join(dir, 'results.json'))).toBe(true);
  });
});

describe('defect 2: an output is never one of the inputs', () => {
  it('refuses the input file, the run folder holding it, and another path to the same file', () => {
    const dir = tempDir();
    const run = join(dir, 'run');
    mkdirSync(run);
    writeFileSync(join(run, 'results.json'), '{}');
    const msg = /^--out .* is the input .*: it would replace the results; write to another file$/;
    expect(() => assertOutNotInput('--out', join(run, 'results.json'), [run])).toThrow(msg);
    expect(() => assertOutNotInput('--out', join(run, 'results.json'), [join(run, 'results.json')])).toThrow(msg);
    expect(() => assertOutNotInput('--out', join(run, '..', 'run', 'results.json'), ['x', run])).toThrow(msg);
    expect(() => assertOutNotInput('--out', join(dir, 'report.md'), [run])).not.toThrow();
  });
});

describe('defect 3: a full disk keeps the last complete results.json', () => {
  it('an injected ENOSPC: temporary file removed, previous file intact, one line saying which cases it holds', () => {
    const dir = tempDir();
    let full = false;
    const write = (d: string, r: ResultsFile) =>
      writeResultsAtomic(d, r, {
        writeFileSync: ((file: string, text: string) => {
          if (!full) return writeFileSync(file, text);
          writeFileSync(file, text.slice(0, 100)); // a partial temp file, as a full disk leaves
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        }) as typeof writeFileSync,
      });
    const p = createPersister(dir, { force: false, write });
    p.save(results(2));
    const before = readFileSync(join(dir, 'results.json'), 'utf8');
    full = true;
    let caught: unknown;
    try {
      p.save(results(3));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ResultsWriteError);
    expect(readdirSync(dir)).toEqual(['results.json']); // no *.tmp left
    expect(readFileSync(join(dir, 'results.json'), 'utf8')).toBe(before);
    const line = describeWriteFailure(caught as ResultsWriteError, p);
    expect(line).toMatch(/^disk full: cannot write .*results\.json \(ENOSPC\); .*results\.json keeps the last complete write: 2 cases \(throughput\/llada\/case0, throughput\/llada\/case1\)$/);
    expect(line).not.toMatch(/\n/);
  });

  describe('on a real 64 KiB tmpfs', () => {
    const { dir: mnt, mounted } = smallTmpfs(64);
    it.skipIf(!mounted)('fills up: ENOSPC is a ResultsWriteError, no temp file, the last complete file parses (skips where a tmpfs cannot be mounted: needs root)', () => {
      const p = createPersister(join(mnt, 'out'), { force: false });
      let n = 1;
      let caught: unknown;
      for (; n < 200; n++) {
        try {
          p.save(results(n));
        } catch (err) {
          caught = err;
          break;
        }
      }
      expect(caught).toBeInstanceOf(ResultsWriteError);
      expect((caught as ResultsWriteError).code).toBe('ENOSPC');
      expect(readdirSync(join(mnt, 'out'))).toEqual(['results.json']);
      const kept = parseResults(JSON.parse(readFileSync(join(mnt, 'out', 'results.json'), 'utf8')), 'kept');
      expect(kept.scenarios[0]!.cases).toHaveLength(n - 1);
      expect(p.savedCases).toHaveLength(n - 1);
    });
  });
});
