/**
 * Sampling (measure.ts measureGroup): repetitions until both the minimum count and the minimum measured time are
 * reached (or the cap), the cases of one engine interleaved in a seeded order that results record, the variation
 * warning on a noisy case (a real injected delay), and "n/a" for the interval of a single repetition in every table.
 */
import { describe, expect, it } from 'vitest';
import type { EngineResult, GenerateOutput, GenerateRequest } from '../../src/engines/types.js';
import { renderHtml } from '../../src/report/html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderTable } from '../../src/report/table.js';
import { ResultsFile as ResultsSchema } from '../../src/results/schema.js';
import type { CaseResult, CompletedCase, Warning } from '../../src/results/types.js';
import { type CaseRun, type EngineHandle, type MeasureContext, type SamplingPolicy, AbortedError, measureGroup } from '../../src/scenarios/measure.js';
import { buildResults } from '../fixtures/results/builder.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A fake AR engine: each request "generates" 4 tokens in `delay(i)` ms of real waiting (i counts its calls), the
 * time it reports is the time it really took (or `reportMs`, a steady figure whatever the machine's load). `log`
 * records which case called, in order.
 */
function fakeHandle(delay: (i: number) => number, log: string[] = [], name = 'x', reportMs?: number): EngineHandle {
  let calls = 0;
  const info = { kind: 'ar-ort' as const, model: 'fake', family: 'llama' as const, device: 'cpu' as const, executionProvider: 'cpu', dtype: 'fp32' as const, synthetic: true, handicaps: [], eosTokenIds: [0] };
  const engine = {
    info,
    async generate(): Promise<EngineResult> {
      const t0 = performance.now();
      await sleep(delay(calls++));
      const totalMs = reportMs ?? performance.now() - t0;
      log.push(name);
      const out: GenerateOutput = { tokens: [[1, 2, 3, 4]], generatedTokenCounts: [4], usefulTokens: [4], totalMs, forwardMs: totalMs, failures: [], trace: [{ startMs: 0, durationMs: totalMs, tokensCommitted: 4 }] };
      return { ok: true, value: out };
    },
    async dispose() {},
  };
  return { kind: 'ar-ort', role: 'ar', engine, info, spec: null, tokenizer: null, model: 'fake' } as unknown as EngineHandle;
}

function caseRun(h: EngineHandle, promptTokens: number, log?: string[]): CaseRun {
  const request: GenerateRequest = { prompts: [[1, 2]], genLength: 4 };
  return { scenario: 'context', handle: h, params: { batchSize: 1, promptTokens, genLength: 4 }, requests: [request], call: (req) => h.engine.generate(req, { mode: 'fixed' } as never) };
}

const policy = (over: Partial<SamplingPolicy> = {}): SamplingPolicy => ({ minTimeMs: 0, maxRepetitions: 1000, order: 'interleaved', seed: 0, maxRelativeSpread: 0.1, ...over });

function ctx(repetitions: number, sampling: SamplingPolicy, warnings: Warning[] = [], signal = new AbortController().signal): MeasureContext {
  return { warmup: 1, repetitions, telemetry: null, gpuName: null, signal, progress: () => {}, warn: (w) => warnings.push(w), sampling };
}

const completed = (r: CaseResult): CompletedCase => {
  if (r.state !== 'completed') throw new Error(`expected a completed case, got ${r.state}`);
  return r;
};

describe('sampling by count and time', () => {
  it('runs past the minimum count until the measured time is reached, and records why it stopped', async () => {
    const [r] = await measureGroup(ctx(2, policy({ minTimeMs: 60 })), [caseRun(fakeHandle(() => 10), 64)], () => {});
    const c = completed(r!);
    const measured = c.samples.reduce((a, s) => a + s.latencyMs * s.requests, 0);
    expect(c.samples.length).toBeGreaterThan(2);
    expect(measured).toBeGreaterThanOrEqual(60);
    // It stopped at the first repetition that reached the time: one fewer would not have.
    expect(measured - c.samples.at(-1)!.latencyMs).toBeLessThan(60);
    expect(c.sampling).toMatchObject({ minRepetitions: 2, minTimeSec: 0.06, stoppedBy: 'time', order: 'interleaved', seed: 0 });
    expect(c.sampling!.measuredSec * 1000).toBeCloseTo(measured, 6);
  });

  it('takes exactly the count when the time is 0 or already reached, and stops at the cap', async () => {
    const [a] = await measureGroup(ctx(3, policy()), [caseRun(fakeHandle(() => 1), 64)], () => {});
    expect(completed(a!).samples.length).toBe(3);
    expect(completed(a!).sampling!.stoppedBy).toBe('repetitions');
    const [b] = await measureGroup(ctx(3, policy({ minTimeMs: 5 })), [caseRun(fakeHandle(() => 10), 64)], () => {});
    expect(completed(b!).samples.length).toBe(3);
    expect(completed(b!).sampling!.stoppedBy).toBe('repetitions');
    const [c] = await measureGroup(ctx(2, policy({ minTimeMs: 10_000, maxRepetitions: 4 })), [caseRun(fakeHandle(() => 1), 64)], () => {});
    expect(completed(c!).samples.length).toBe(4);
    expect(completed(c!).sampling!.stoppedBy).toBe('cap');
  });
});

describe('order effects: the cases of one engine take turns', () => {
  async function order(seed: number, mode: SamplingPolicy['order']) {
    const log: string[] = [];
    const runs = ['a', 'b', 'c'].map((name, i) => caseRun(fakeHandle(() => 1, log, name), 64 * (i + 1)));
    const results = (await measureGroup(ctx(4, policy({ seed, order: mode })), runs, () => {})).map(completed);
    return { log: log.slice(3), results }; // the first three calls are the warmups, in plan order
  }

  it('interleaved: one repetition of every case per round, rounds shuffled by the seed, positions recorded', async () => {
    const { log, results } = await order(7, 'interleaved');
    expect(log).toHaveLength(12);
    for (let round = 0; round < 4; round++) expect([...log.slice(round * 3, round * 3 + 3)].sort()).toEqual(['a', 'b', 'c']);
    // The recorded positions are where each case's repetitions fell in the measured sequence.
    const names = ['a', 'b', 'c'];
    results.forEach((c, i) => {
      expect(c.sampling!.positions).toHaveLength(4);
      for (const p of c.sampling!.positions) expect(log[p]).toBe(names[i]);
      expect(c.sampling!.group).toEqual(results.map((x) => x.id));
    });
    // Seeded: the same seed gives the same order; the rounds are not all the same order.
    expect((await order(7, 'interleaved')).log).toEqual(log);
    const rounds = new Set([0, 1, 2, 3].map((r) => log.slice(r * 3, r * 3 + 3).join('')));
    const other = (await order(8, 'interleaved')).log;
    expect(rounds.size > 1 || other.join('') !== log.join('')).toBe(true);
  });

  it('sequential: case after case', async () => {
    const { log, results } = await order(7, 'sequential');
    expect(log.join('')).toBe('aaaabbbbcccc');
    expect(results[1]!.sampling!.positions).toEqual([4, 5, 6, 7]);
  });

  it('Ctrl-C: every unfinished case of the group comes back with the repetitions it had', async () => {
    const ac = new AbortController();
    const log: string[] = [];
    let n = 0;
    const runs = ['a', 'b'].map((name, i) => caseRun(fakeHandle(() => (++n === 8 ? (ac.abort(), 1) : 1), log, name), 64 * (i + 1)));
    const emitted: CaseResult[] = [];
    const err = await measureGroup(ctx(10, policy(), [], ac.signal), runs, (r) => void emitted.push(r)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortedError);
    const all = [...emitted, (err as AbortedError).partial!];
    expect(all.map((c) => c.state)).toEqual(['aborted', 'aborted']);
    expect(all.reduce((a, c) => a + c.samples.length, 0)).toBe(5); // 2 warmups, 5 measured, the 8th call aborted
  });
});

describe('variation flagged', () => {
  it('a case with an injected delay carries the warning in results.json, the tables and the report', async () => {
    const warnings: Warning[] = [];
    // Every third request waits 60 ms instead of 2 (a real delay, timed): a noisy case. Its neighbour reports a
    // steady 20 ms, so the contrast holds on a loaded machine too.
    const noisy = caseRun(fakeHandle((i) => (i % 3 === 2 ? 60 : 2)), 64);
    const steady = caseRun(fakeHandle(() => 1, [], 'x', 20), 128);
    const [n, s] = (await measureGroup(ctx(6, policy({ maxRelativeSpread: 0.3 }), warnings), [noisy, steady], () => {})).map(completed);
    expect(n!.variation).toMatchObject({ flagged: true, threshold: 0.3 });
    expect(n!.variation!.relativeHalfWidth!).toBeGreaterThan(0.3);
    expect(s!.variation!.flagged).toBe(false);
    expect(warnings.map((w) => w.code)).toEqual(['high-variation']);
    expect(warnings[0]!.message).toContain(n!.id);
    expect(warnings[0]!.message).toMatch(/more repetitions.*quieter machine/);

    const results = buildResults({ cases: [n!, s!] });
    results.warnings.push(...warnings);
    const disk = ResultsSchema.parse(JSON.parse(JSON.stringify(results)));
    const onDisk = disk.scenarios[0]!.cases[0]!;
    expect(onDisk.state === 'completed' && onDisk.variation?.flagged).toBe(true);
    expect(disk.warnings.map((w) => w.code)).toContain('high-variation');
    const table = renderTable(disk);
    const md = renderMarkdown(disk);
    const html = await renderHtml(disk);
    for (const text of [table, md, html]) {
      expect(text).toMatch(/± [\d.]+ noisy ±\d+%/);
      expect(text).toContain(warnings[0]!.message.replace(/'/g, '&#39;').slice(0, 40));
    }
    // The steady case is not marked.
    expect(md.split('\n').find((l) => l.includes('p128'))).not.toContain('noisy');
  });

  it('one repetition: no interval, so n/a and never ± 0.0, and no verdict on its spread', async () => {
    const [r] = await measureGroup(ctx(1, policy()), [caseRun(fakeHandle(() => 1), 64)], () => {});
    const c = completed(r!);
    expect(c.variation).toMatchObject({ relativeHalfWidth: null, flagged: false });
    const disk = ResultsSchema.parse(JSON.parse(JSON.stringify(buildResults({ cases: [c] }))));
    for (const text of [renderTable(disk), renderMarkdown(disk), await renderHtml(disk)]) {
      expect(text).toMatch(/[\d.]+ ± n\/a/);
      expect(text).not.toMatch(/± 0\.0\b/);
    }
  });
});
