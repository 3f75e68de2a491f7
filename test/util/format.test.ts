import { describe, expect, it } from 'vitest';
import { byteSize, fmt, num, pct, pm, ratio, signedPct } from '../../src/util/format.js';

describe('number formatting', () => {
  it('prints anything but a finite number as "-"', () => {
    for (const f of [fmt, num, pct, ratio]) for (const v of [NaN, Infinity, null, undefined]) expect(f(v)).toBe('-');
    expect(pm(undefined)).toBe('-');
    expect(signedPct(NaN)).toBe('-');
  });

  it('fixed and magnitude-dependent decimals', () => {
    expect(fmt(3.14159, 2)).toBe('3.14');
    expect(fmt(2)).toBe('2.0');
    expect(pm({ mean: 12.34, sd: 0.45 })).toBe('12.3 ± 0.5');
    expect([num(1234.56), num(2.5), num(-0.012345)]).toEqual(['1234.6', '2.50', '-0.0123']);
    expect([ratio(2.345), ratio(12.34)]).toEqual(['2.35x', '12.3x']);
  });

  it('percentages take a fraction', () => {
    expect(pct(0.256)).toBe('26%');
    expect(pct(0.256, 1)).toBe('25.6%');
    expect(signedPct(-0.2)).toBe('-20.0%');
    expect(signedPct(0.05)).toBe('+5.0%');
    expect(signedPct(0)).toBe('0.0%');
    expect([signedPct(Infinity), signedPct(-Infinity)]).toEqual(['+inf%', '-inf%']);
  });

  it('byte counts in binary units', () => {
    expect(byteSize(512)).toBe('512 B');
    expect(byteSize(1536)).toBe('1.5 KiB');
    expect(byteSize(4.5 * 1024 ** 3)).toBe('4.5 GiB');
  });
});
