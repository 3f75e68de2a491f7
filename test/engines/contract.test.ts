/** The engine contract's shared pieces: the one request validator and the one forward timer. */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ForwardTimer } from '../../src/engines/forward.js';
import { positionsError, validateRequest } from '../../src/engines/request.js';

describe('validateRequest', () => {
  it('accepts prompt + new tokens up to the maximum length exactly', () => {
    expect(validateRequest({ prompts: [[1, 2, 3], [4]], genLength: 5 }, 8)).toBeNull();
    expect(positionsError(3, 5, 8)).toBeNull();
  });

  it('rejects one position too many, naming the longest row', () => {
    expect(validateRequest({ prompts: [[1], [1, 2, 3, 4]], genLength: 5 }, 8)).toEqual({
      code: 'invalid-options',
      message: "prompt (4) + gen_length (5) = 9 exceeds the model's maximum length 8",
    });
  });

  it.each([
    [{ prompts: [[1]], genLength: 0 }, 'gen_length must be a positive integer, got 0'],
    [{ prompts: [[1]], genLength: 2.5 }, 'gen_length must be a positive integer, got 2.5'],
    [{ prompts: [], genLength: 4 }, 'every batch row needs a non-empty prompt'],
    [{ prompts: [[1], []], genLength: 4 }, 'every batch row needs a non-empty prompt'],
  ])('rejects %j', (request, message) => {
    expect(validateRequest(request, 64)).toEqual({ code: 'invalid-options', message });
  });
});

describe('ForwardTimer', () => {
  it('records each forward with its committed tokens; forwardMs is the sum of the durations', async () => {
    const timer = new ForwardTimer();
    const a = await timer.time(async () => {
      await sleep(20);
      return 'a';
    });
    expect(a.out).toBe('a');
    expect(timer.trace).toHaveLength(0); // recorded only once the tokens are known
    a.commit(3);
    await sleep(10); // host work between forwards is not forward time
    const b = await timer.time(async () => 'b');
    b.commit(0);
    const [first, second] = timer.trace;
    expect(first!.tokensCommitted).toBe(3);
    expect(second!.tokensCommitted).toBe(0);
    expect(first!.durationMs).toBeGreaterThanOrEqual(15);
    expect(second!.startMs).toBeGreaterThanOrEqual(first!.startMs + first!.durationMs + 5);
    expect(timer.forwardMs).toBeCloseTo(first!.durationMs + second!.durationMs, 9);
    const timing = timer.timing();
    expect(timing.totalMs).toBeGreaterThanOrEqual(second!.startMs + second!.durationMs);
    expect(timing.totalMs - timing.forwardMs).toBeGreaterThanOrEqual(5);
  });

  it('records forwards timed elsewhere relative to its start', () => {
    const timer = new ForwardTimer();
    timer.record(timer.t0 + 5, timer.t0 + 12, 2);
    expect(timer.trace).toEqual([{ startMs: 5, durationMs: 7, tokensCommitted: 2 }]);
    expect(timer.forwardMs).toBe(7);
  });
});
