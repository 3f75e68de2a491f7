import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { envName, positiveIntList, requestRateList, sloSpec } from '../../src/cli/parse.js';

/** Plain reference: llama-bench's range forms spelled out one by one. */
function expand(first: number, last: number, op: '+' | '*', by: number): number[] {
  const out: number[] = [];
  if (op === '+') for (let v = first; v <= last; v += by) out.push(v);
  else for (let v = first; v <= last; v *= by) out.push(v);
  return out;
}

describe('positiveIntList', () => {
  it('reads plain comma lists', () => {
    expect(positiveIntList('1,2,4')).toEqual([1, 2, 4]);
    expect(positiveIntList(' 8 , 16 ')).toEqual([8, 16]);
  });

  it('expands ranges as llama-bench does: A-B, A-B+S, A-B*M', () => {
    expect(positiveIntList('1-8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(positiveIntList('1-8*2')).toEqual([1, 2, 4, 8]);
    expect(positiveIntList('1-10+3')).toEqual([1, 4, 7, 10]);
    expect(positiveIntList('256,1024-4096*2')).toEqual([256, 1024, 2048, 4096]);
    expect(positiveIntList('3-3')).toEqual([3]);
    for (const [a, b, op, by] of [[1, 100, '*', 3], [5, 50, '+', 7], [2, 2048, '*', 2], [10, 11, '+', 5]] as const) {
      expect(positiveIntList(`${a}-${b}${op}${by}`), `${a}-${b}${op}${by}`).toEqual(expand(a, b, op, by));
    }
  });

  it('rejects what is not a positive list, in one line', () => {
    for (const bad of ['', '1,,2', '0', '1-0', '8-1', '1-8*1', '1-8+0', '-3', '1.5', 'a-b', '1-8/2', '1-100000']) {
      let err: unknown;
      try {
        positiveIntList(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(InvalidArgumentError);
      expect((err as Error).message, bad).not.toContain('\n');
    }
  });
});

describe('serving flags', () => {
  it('--request-rate: positive numbers and inf', () => {
    expect(requestRateList('1,4,16,inf')).toEqual([1, 4, 16, 'inf']);
    expect(requestRateList('0.5, INF')).toEqual([0.5, 'inf']);
    for (const bad of ['0', '-1', 'fast', '1,,2']) expect(() => requestRateList(bad)).toThrow(InvalidArgumentError);
  });

  it('--slo: ttft/tpot/e2e targets in ms or s', () => {
    expect(sloSpec('ttft=500ms,tpot=50ms')).toEqual({ ttftMs: 500, tpotMs: 50 });
    expect(sloSpec('e2e=2s,ttft=250')).toEqual({ e2eMs: 2000, ttftMs: 250 });
    for (const bad of ['ttft', 'latency=5ms', 'ttft=0ms', 'ttft=5min']) expect(() => sloSpec(bad)).toThrow(InvalidArgumentError);
  });

  it('--api-key-env takes a variable NAME, never a key', () => {
    expect(envName('OPENAI_API_KEY')).toBe('OPENAI_API_KEY');
    expect(() => envName('sk-abc123')).toThrow(InvalidArgumentError);
  });
});
