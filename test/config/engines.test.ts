import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const json = (f: string) => JSON.parse(readFileSync(join(root, f), 'utf8'));

/** True when one alternative of a `engines.node` range can hold a Node of this major (its lowest major is at most it). */
function admitsMajor(range: string, major: number): boolean {
  return range.split('||').some((alt) => {
    const m = /(\d+)/.exec(alt);
    return m !== null && Number(m[1]) <= major;
  });
}

describe('the Node version the package promises', () => {
  it('every dependency installed with it accepts that Node (npm ci stays free of engine warnings)', () => {
    const promised = json('package.json').engines.node as string;
    expect(promised).toBe('>=20');
    const lock = json('package-lock.json') as { packages: Record<string, { engines?: { node?: string }; dev?: boolean }> };
    const refusing = Object.entries(lock.packages)
      .filter(([, p]) => typeof p.engines?.node === 'string' && !admitsMajor(p.engines.node, 20))
      .map(([name, p]) => `${name} (${p.engines!.node})`);
    expect(refusing).toEqual([]);
    expect(admitsMajor('>=22.12', 20)).toBe(false);
    expect(admitsMajor('^20.19.0 || >=22.12.0', 20)).toBe(true);
  });

  it('package.json and package-lock.json name the same eventsource-parser', () => {
    const wanted = json('package.json').dependencies['eventsource-parser'] as string;
    const lock = json('package-lock.json');
    expect(lock.packages[''].dependencies['eventsource-parser']).toBe(wanted);
    expect(lock.packages['node_modules/eventsource-parser'].version).toMatch(/^3\./);
  });
});
