/** Open-loop arrivals, goodput and the prompt parity of two sides, against plain reference computations. */
import { describe, expect, it } from 'vitest';
import type { RequestMeasurement } from '../../src/engines/openai/measurement.js';
import { arrivalTimesMs, runOpenLoop } from '../../src/engines/openai/open-loop.js';
import { effectivePromptTokens, promptParity, roleOf } from '../../src/results/sides.js';
import { meetsSlo, requestTpotMs, servingRates } from '../../src/scenarios/serving.js';
import { mulberry32 } from '../../src/util/random.js';
import { buildCase } from '../fixtures/results/builder.js';

describe('arrival times', () => {
  it('poisson: cumulative exponential gaps from the seeded generator (plain reference), the same for the same seed', () => {
    const rate = 4;
    const r = mulberry32(7);
    const ref: number[] = [];
    let t = 0;
    for (let i = 0; i < 50; i++) {
      const u = r();
      t += (1000 * -Math.log(1 - u)) / rate;
      ref.push(t);
    }
    const got = arrivalTimesMs(50, rate, 'poisson', 7);
    got.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 9));
    expect(arrivalTimesMs(50, rate, 'poisson', 7)).toEqual(got);
    expect(arrivalTimesMs(50, rate, 'poisson', 8)).not.toEqual(got);
  });

  it('poisson gaps average 1 / rate over many arrivals', () => {
    const times = arrivalTimesMs(20_000, 10, 'poisson', 1);
    expect(times.at(-1)! / times.length).toBeGreaterThan(95);
    expect(times.at(-1)! / times.length).toBeLessThan(105);
  });

  it('constant: i / rate exactly; inf: all at once', () => {
    expect(arrivalTimesMs(4, 2, 'constant', 0)).toEqual([0, 500, 1000, 1500]);
    expect(arrivalTimesMs(3, 'inf', 'poisson', 0)).toEqual([0, 0, 0]);
    expect(() => arrivalTimesMs(3, 0, 'constant', 0)).toThrow(RangeError);
  });
});

function measurement(over: Partial<RequestMeasurement> = {}): RequestMeasurement {
  return { state: 'completed', sendMs: 0, firstTokenMs: 5, endMs: 20, ttftMs: 5, itlMs: 5, e2eMs: 20, chunks: [{ atMs: 5, tokens: 1 }, { atMs: 10, tokens: 1 }, { atMs: 20, tokens: 1 }], text: 'abc', outputTokens: 3, tokenCountSource: 'usage', promptTokens: 7, finishReason: 'length', retries: 0, notes: [], ...over } as RequestMeasurement;
}

describe('runOpenLoop', () => {
  it('sends at the arrival times without waiting for earlier requests to finish', async () => {
    const started: number[] = [];
    const res = await runOpenLoop({
      prompts: [{ text: 'a' }],
      rate: 'inf',
      arrival: 'poisson',
      seed: 0,
      maxRequests: 5,
      durationMs: 10_000,
      genLength: 3,
      send: async (_p, _g, o) => {
        started.push(o.now());
        await new Promise((r) => setTimeout(r, 50));
        return measurement();
      },
    });
    // All five in flight at once: a closed loop of one would have taken five turns.
    expect(res.summary.maxInFlight).toBe(5);
    expect(res.summary).toMatchObject({ requests: 5, completed: 5, errors: 0, outputTokens: 15, stoppedBy: 'max-requests' });
    expect(res.records.map((r) => r.promptTokens)).toEqual([7, 7, 7, 7, 7]);
    expect(Math.max(...started)).toBeLessThan(40);
  });

  it('stops at the duration: arrivals after it are never sent', async () => {
    let sent = 0;
    const res = await runOpenLoop({ prompts: [{ text: 'a' }], rate: 100, arrival: 'constant', seed: 0, maxRequests: 50, durationMs: 45, genLength: 3, send: async () => (sent++, measurement()) });
    expect(sent).toBe(5); // at 0, 10, 20, 30, 40 ms
    expect(res.summary.stoppedBy).toBe('duration');
  });

  it('an abort while waiting for the next arrival returns at once with the finished requests', async () => {
    const ac = new AbortController();
    const t0 = performance.now();
    setTimeout(() => ac.abort(), 30);
    const res = await runOpenLoop({ prompts: [{ text: 'a' }], rate: 0.5, arrival: 'constant', seed: 0, maxRequests: 3, durationMs: 60_000, genLength: 3, signal: ac.signal, send: async () => measurement() });
    expect(performance.now() - t0).toBeLessThan(1000); // the next arrival was 2 s away
    expect(res.summary).toMatchObject({ requests: 1, stoppedBy: 'signal' });
  });
});

describe('goodput', () => {
  const reqs = [
    { ttftMs: 100, e2eMs: 100 + 9 * 10, outputTokens: 10 }, // TPOT 10
    { ttftMs: 600, e2eMs: 600 + 9 * 10, outputTokens: 10 }, // TTFT over 500
    { ttftMs: 100, e2eMs: 100 + 9 * 60, outputTokens: 10 }, // TPOT 60
    { ttftMs: 100, e2eMs: 100, outputTokens: 1 }, // no TPOT: meets a TPOT target trivially (vLLM)
    { ttftMs: null, e2eMs: 50, outputTokens: 0, error: { code: 'http-500' } },
  ];

  it('TPOT of a request: (e2e - TTFT) / (tokens - 1)', () => {
    expect(requestTpotMs(reqs[0]!)).toBe(10);
    expect(requestTpotMs(reqs[3]!)).toBeNull();
  });

  it('a request counts when it completed and met every target; goodput and request rate over the wall time', () => {
    const slo = { ttftMs: 500, tpotMs: 50 };
    expect(reqs.map((r) => meetsSlo(r, slo))).toEqual([true, false, false, true, false]);
    expect(meetsSlo(reqs[2]!, { e2eMs: 1000 })).toBe(true);
    expect(meetsSlo(reqs[2]!, { e2eMs: 500 })).toBe(false);
    // Plain reference: 4 completed, 2 good, over 2 s.
    expect(servingRates(reqs, 2000, slo)).toEqual({ requestsPerSec: 2, goodputRequestsPerSec: 1 });
    expect(servingRates(reqs, 2000, undefined)).toEqual({ requestsPerSec: 2 });
  });
});

describe('sides and prompt parity', () => {
  it('a case is on the side it records; older cases by engine, or by the side their HTTP id names', () => {
    const served = buildCase({ engine: 'openai', id: 'throughput/openai-diffusion/b1/p16/g32/c1' });
    expect(roleOf(served)).toBe('diffusion');
    expect(roleOf({ ...served, role: 'ar' })).toBe('ar');
    expect(roleOf(buildCase({ engine: 'ar-loop' }))).toBe('ar');
    expect(roleOf(buildCase({ engine: 'llada' }))).toBe('diffusion');
  });

  it('the prompt length each side saw: the server\'s count where it reported one; the difference AR - diffusion', () => {
    const l = buildCase({ engine: 'llada', params: { promptTokens: 16 } });
    const a = { ...buildCase({ engine: 'openai', id: 'throughput/openai-ar/b1/p16/g32/c1', params: { promptTokens: 16 } }), role: 'ar' as const, serverPromptTokens: 23 };
    expect(effectivePromptTokens(a)).toBe(23);
    expect(promptParity([l, a])).toEqual({ diffusionPromptTokens: 16, arPromptTokens: 23, differenceTokens: 7 });
    expect(promptParity([l])).toEqual({ diffusionPromptTokens: 16, arPromptTokens: null, differenceTokens: null });
  });
});
