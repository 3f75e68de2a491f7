/** A model's held-out suite in a run: where it is found, the interleaved prompt list, and a case's quality score. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaseQuality } from '../../src/quality/schema.js';
import { type QualitySuite, heldoutFileFor, interleaveTasks, loadSuite, namedSuite, qualityItems, scoreQuality } from '../../src/quality/suite.js';
import type { HeldoutItem } from '../../src/quality/tasks.js';
import { tempDir } from '../helpers/models.js';

const item = (task: 'sort' | 'copy' | 'add', k: number): HeldoutItem => ({ task, prompt: `${task} ${k}`, promptIds: [1, k + 2], answer: String(k) });

/** Wilson's interval written out from its textbook formula (z = 1.96). */
function wilson(k: number, n: number): [number, number] {
  const z = 1.959963984540054;
  const p = k / n;
  const c = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const h = ((z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n)));
  return [Math.max(0, c - h), Math.min(1, c + h)];
}

describe('held-out suite of a model', () => {
  it('the twins preset finds its shipped file; a folder with heldout.json carries its own; random presets have none', () => {
    expect(heldoutFileFor('twins', null)).toMatch(/models[\\/]twins[\\/]heldout\.json$/);
    const twins = loadSuite('twins', '/nowhere')!;
    expect(twins.source).toBe(join('models', 'twins', 'heldout.json'));
    expect(new Set(twins.heldout.items.map((i) => i.task))).toEqual(new Set(['sort', 'reverse', 'add', 'copy', 'split', 'chain-1', 'chain-2', 'chain-3', 'chain-4', 'reversal-forward', 'reversal-backward', 'reversal-control']));
    expect(loadSuite('tiny', tempDir())).toBeNull();
    const dir = tempDir();
    mkdirSync(join(dir, 'onnx'));
    writeFileSync(join(dir, 'heldout.json'), JSON.stringify({ schemaVersion: 1, seed: 0, genLength: 8, tasks: ['sort'], checkers: {}, items: [item('sort', 1)] }));
    expect(heldoutFileFor('my-model', dir)).toBe(join(dir, 'heldout.json'));
    expect(loadSuite('my-model', dir)!.source).toBe(join(dir, 'heldout.json'));
  });

  it('interleaves tasks so that any prefix spreads over them (uneven task sizes too)', () => {
    const items = [item('sort', 0), item('sort', 1), item('sort', 2), item('copy', 0), item('add', 0), item('add', 1)];
    // Reference: repeatedly take the next unused item of each task in first-seen task order.
    const expected: HeldoutItem[] = [];
    const left = items.slice();
    while (left.length) {
      const seen = new Set<string>();
      for (let i = 0; i < left.length; ) {
        if (seen.has(left[i]!.task)) i++;
        else {
          seen.add(left[i]!.task);
          expected.push(left.splice(i, 1)[0]!);
        }
      }
    }
    expect(interleaveTasks(items)).toEqual(expected);
    expect(interleaveTasks(items).slice(0, 3).map((i) => i.task)).toEqual(['sort', 'copy', 'add']);
  });

  it('scores a case: per task and pooled overall, Wilson intervals, mean NFE, valid against the results schema', () => {
    const items = [item('sort', 0), item('sort', 1), item('sort', 2), item('copy', 0), item('copy', 1)];
    const suite: QualitySuite = { kind: 'heldout', name: 'file', ownIds: true, source: 'x.json', heldout: { schemaVersion: 1, seed: 0, genLength: 8, tasks: ['sort', 'copy'], checkers: {}, items } };
    const slice = qualityItems(suite, 2);
    expect(slice.map((i) => i.prompt)).toEqual(['sort 0', 'sort 1', 'copy 0', 'copy 1']);
    const q = scoreQuality(suite, 2, slice, ['0 <|eot_id|>', '7', '0', '1 <|endoftext|> 5'], [4, 2, 3, 3]);
    expect(CaseQuality.parse(q)).toEqual(q);
    expect(q.tasks.map((t) => [t.task, t.correct, t.total])).toEqual([
      ['sort', 1, 2],
      ['copy', 2, 2],
    ]);
    expect(q.overall.correct).toBe(3);
    expect(q.overall.total).toBe(4);
    expect(q.overall.accuracy).toBe(0.75);
    const [lo, hi] = wilson(3, 4);
    expect(q.overall.ci95[0]).toBeCloseTo(lo, 12);
    expect(q.overall.ci95[1]).toBeCloseTo(hi, 12);
    expect(q.tasks[1]!.ci95[1]).toBe(1);
    expect(q.meanNfe).toBe(3);
    expect(q.perTask).toBe(2);
  });
});

describe('suites named with --tasks', () => {
  it('twins: the shipped file, its own ids kept for the twins and re-encoded for any other model; gsm8k; a task file; anything else refused', () => {
    const own = loadSuite('twins', null);
    const forTwins = namedSuite('twins', own);
    expect(forTwins.kind === 'heldout' && forTwins.ownIds).toBe(true);
    expect(qualityItems(forTwins, 1)[0]!.promptIds).toBeDefined();
    const forOther = namedSuite('twins', null);
    expect(forOther.kind === 'heldout' && forOther.ownIds).toBe(false);
    expect(qualityItems(forOther, 1)[0]!.promptIds).toBeUndefined();
    // --task-limit takes the first N of the interleaved list, so a short limit still spans the tasks.
    expect(qualityItems(forOther, { perTask: 10, limit: 6 }).map((i) => i.task)).toEqual(['sort', 'reverse', 'add', 'copy', 'split', 'chain-1']);
    const g = namedSuite('gsm8k', null);
    expect(g.kind).toBe('gsm8k');
    expect(qualityItems(g, { perTask: 10, limit: 3 }).map((i) => i.index)).toEqual([0, 1, 2]);
    expect(qualityItems(g, { perTask: 10, limit: 'all' })).toHaveLength(1319);
    const dir = tempDir();
    const file = join(dir, 'tasks.json');
    writeFileSync(file, JSON.stringify({ schemaVersion: 1, seed: 0, genLength: 8, tasks: ['sort'], checkers: {}, items: [item('sort', 1)] }));
    const f = namedSuite(file, null);
    expect(f.kind === 'heldout' && [f.name, f.source, f.ownIds]).toEqual(['file', file, false]);
    expect(() => namedSuite(join(dir, 'missing.json'), null)).toThrow(/--tasks .*missing\.json: not twins, gsm8k or an existing task file/);
  });
});
