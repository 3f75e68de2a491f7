/**
 * HTTP faults, all recorded, none lost (issue 10, point 6), each against the hostile server in test/helpers:
 * non-SSE 200s, streams closed with or without a finish_reason, bytes split mid-event and mid-character, 500s,
 * 429 with Retry-After, and Ctrl-C during a hung request on every measuring path.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import { RunConfig } from '../../src/config/schema.js';
import { createOpenAIEngine, type OpenAIEngine } from '../../src/engines/openai/engine.js';
import { RETRY_POLICY, nextWait, retryAfterMs } from '../../src/engines/openai/retry.js';
import type { OpenAIEngineConfigInput } from '../../src/engines/openai/options.js';
import type { CaseResult, Warning } from '../../src/results/types.js';
import type { ScenarioContext } from '../../src/scenarios/context.js';
import { FailureLog, MAX_KEPT_FAILURES } from '../../src/scenarios/failures.js';
import { measureHttpLoad } from '../../src/scenarios/http.js';
import { AbortedError, type CaseRun, type EngineHandle, type MeasureContext, caseBase, caseId, measureCase } from '../../src/scenarios/measure.js';
import { loadPromptSet, preparePrompts, toRequest } from '../../src/scenarios/prompts.js';
import { type HostileServer, type ScriptSource, startHostileServer } from '../helpers/hostile-server.js';

let server: HostileServer;
beforeEach(async () => {
  server = await startHostileServer();
});
afterEach(async () => {
  await server.close();
});

const oneRow = (genLength = 5) => ({ prompts: [[1, 2, 3]], promptTexts: ['Say hello'], genLength });
function engineFor(over: Partial<OpenAIEngineConfigInput> = {}): OpenAIEngine {
  return createOpenAIEngine({ baseUrl: server.baseUrl, model: 'test-model', ...over });
}
function handleFor(engine: OpenAIEngine, role: 'diffusion' | 'ar' = 'ar'): EngineHandle {
  return { kind: 'openai', role, engine, info: engine.info, spec: null, tokenizer: null, model: server.baseUrl };
}
async function requestOf(script: ScriptSource, over: Partial<OpenAIEngineConfigInput> = {}) {
  server.setScript(script);
  const r = await engineFor(over).generate(oneRow());
  return r.ok ? r.value.requests[0]! : r.error.requests![0]!;
}

describe('what the server sends back', () => {
  it('a 200 that is not an event stream is a protocol error naming the content type', async () => {
    const html = await requestOf({ contentType: 'text/html; charset=utf-8', body: '<html><body>502 Bad Gateway</body></html>' });
    expect(html.state === 'errored' && html.error.code).toBe('protocol');
    expect(html.state === 'errored' && html.error.message).toMatch(/expected text\/event-stream, got text\/html; charset=utf-8 \(HTTP 200\): <html>/);
    const json = await requestOf({ jsonInsteadOfStream: true });
    expect(json.state === 'errored' && json.error.message).toMatch(/got application\/json/);
    const none = await requestOf({ contentType: '', body: 'data: x\n\n' });
    expect(none.state === 'errored' && none.error.code).toBe('protocol');
  });

  it('accepts text/event-stream with parameters and any case', async () => {
    expect((await requestOf({ streamContentType: 'Text/Event-Stream; charset=utf-8' })).state).toBe('completed');
  });

  it('bytes split across TCP writes mid-event and mid-UTF-8 character give the same text and counts', async () => {
    const tokens = ['é', '✓ ', '日本', '😀', ' done'];
    const whole = await requestOf({ tokens });
    const split = await requestOf({ tokens, fragment: true, pieceBytes: 1 });
    expect(whole).toMatchObject({ state: 'completed', text: tokens.join(''), outputTokens: 5 });
    expect(split).toMatchObject({ state: 'completed', text: tokens.join(''), outputTokens: 5 });
    expect(split.chunks.map((c) => c.text)).toEqual(tokens);
  });

  it('a cut stream and a malformed chunk keep their names and what arrived', async () => {
    const cut = await requestOf({ cutAfter: 3 });
    expect(cut).toMatchObject({ state: 'errored', error: { code: 'stream-cut' }, outputTokens: 3 });
    const bad = await requestOf({ malformedAfter: 2 });
    expect(bad).toMatchObject({ state: 'errored', error: { code: 'malformed-chunk' }, outputTokens: 2 });
  });

  it('finish_reason then a clean close is complete with a warning; a close before it is stream-cut', async () => {
    const engine = engineFor();
    const warnings: Warning[] = [];
    server.setScript({ omitDone: true });
    const ok = await measureCase(measureContext(new AbortController().signal, { warn: (w) => warnings.push(w), repetitions: 2 }), caseRun(engine));
    expect(ok.state).toBe('completed');
    expect(ok.requestFailures).toBeUndefined();
    expect(warnings).toEqual([{ code: 'http-no-done', message: expect.stringContaining('2 stream(s) closed cleanly after a finish_reason without data: [DONE]') }]);
    server.setScript({ closeBeforeFinish: true });
    const cut = await measureCase(measureContext(new AbortController().signal), caseRun(engine));
    expect(cut.state).toBe('errored');
    expect(cut.state === 'errored' && cut.error).toMatch(/^http: stream-cut: /);
    expect(cut.requestFailures).toMatchObject({ count: 1, dropped: 0, kept: [{ code: 'stream-cut', repetition: 0 }] });
  });
});

describe('429 Too Many Requests', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(' 0 ')).toBe(0);
    expect(retryAfterMs(new Date(Date.UTC(2030, 0, 1, 0, 0, 5)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(5000);
    expect(retryAfterMs('soon')).toBeNull();
    expect(retryAfterMs(null)).toBeNull();
  });

  it('the policy is bounded in retries and in total wait', () => {
    expect(RETRY_POLICY).toEqual({ maxRetries: 3, maxTotalWaitMs: 10_000, defaultWaitMs: 1_000 });
    expect(nextWait(0, 0, '2')).toEqual({ waitMs: 2000 });
    expect(nextWait(0, 0, null)).toEqual({ waitMs: 1000 });
    expect(nextWait(3, 0, '0')).toMatchObject({ giveUp: 'still 429 after 3 retries' });
    expect(nextWait(1, 9_000, '2')).toMatchObject({ giveUp: expect.stringContaining('past the 10 s retry budget') });
  });

  it('waits what Retry-After asks, then succeeds; the wait counts in the latency', async () => {
    const m = await requestOf((i) => (i === 0 ? { status: 429, retryAfter: '1' } : {}));
    expect(m).toMatchObject({ state: 'completed', retries: 1, outputTokens: 5 });
    expect(m.e2eMs).toBeGreaterThanOrEqual(990);
    expect(server.requests).toHaveLength(2);
  });

  it('gives up as http-429 after 3 retries, or at once when Retry-After passes the budget', async () => {
    const always = await requestOf({ status: 429, retryAfter: '0' });
    expect(always).toMatchObject({ state: 'errored', error: { code: 'http-429' }, retries: 3 });
    expect(server.requests).toHaveLength(4);
    const t = performance.now();
    const far = await requestOf({ status: 429, retryAfter: '30' });
    expect(far.state === 'errored' && far.error.message).toMatch(/Retry-After asks 30\.0 s, past the 10 s retry budget/);
    expect(performance.now() - t).toBeLessThan(1000);
  });

  it('a wait ends at once when the caller aborts', async () => {
    server.setScript({ status: 429, retryAfter: '5' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t = performance.now();
    const r = await engineFor().generate(oneRow(), { signal: ac.signal });
    expect(r).toMatchObject({ ok: false, error: { code: 'aborted' } });
    expect(performance.now() - t).toBeLessThan(1000);
  });
});

function measureContext(signal: AbortSignal, over: Partial<MeasureContext> = {}): MeasureContext {
  return { warmup: 0, repetitions: 1, telemetry: null, gpuName: null, signal, progress: () => {}, ...over };
}
function caseRun(engine: OpenAIEngine, rows = 1): CaseRun {
  const row = { text: 'Say hello', ids: [] };
  return {
    scenario: rows > 1 ? 'batch' : 'context',
    handle: handleFor(engine),
    params: { batchSize: rows, promptTokens: 0, genLength: 5 },
    requests: [toRequest(Array.from({ length: rows }, () => row), 5)],
    call: (request, signal) => engine.generate(request, { signal }),
  };
}
/** Requests from `from` on hang; the caller's signal aborts 50 ms after the first of them arrives. */
function hangFrom(from: number, ac: AbortController, abortedAt: { ms: number }): ScriptSource {
  return (i) => {
    if (i === from) {
      setTimeout(() => {
        abortedAt.ms = performance.now();
        ac.abort();
      }, 50);
    }
    return i >= from ? { hangMs: 10_000 } : {};
  };
}
async function abortedCase(run: Promise<CaseResult>): Promise<CaseResult> {
  const err: unknown = await run.catch((e: unknown) => e);
  if (!(err instanceof AbortedError) || !err.partial) throw new Error(`expected an AbortedError with a partial case, got ${String(err)}`);
  return err.partial;
}

describe('Ctrl-C during a hung request: returns within 1 s, keeps the completed samples', () => {
  it('single requests (throughput and context cases)', async () => {
    const ac = new AbortController();
    const at = { ms: 0 };
    server.setScript(hangFrom(2, ac, at));
    const partial = await abortedCase(measureCase(measureContext(ac.signal, { repetitions: 5 }), caseRun(engineFor())));
    expect(performance.now() - at.ms).toBeLessThan(1000);
    expect(partial).toMatchObject({ state: 'aborted', error: 'interrupted' });
    expect(partial.samples).toHaveLength(2);
    expect(partial.summary.tokensPerSec!.n).toBe(2);
    expect(partial.requestFailures).toBeUndefined(); // an aborted request is not a failure of the server
  });

  it('batch rows in flight together', async () => {
    const ac = new AbortController();
    const at = { ms: 0 };
    server.setScript(hangFrom(4, ac, at)); // repetition 3's two rows hang
    const partial = await abortedCase(measureCase(measureContext(ac.signal, { repetitions: 5 }), caseRun(engineFor(), 2)));
    expect(performance.now() - at.ms).toBeLessThan(1000);
    expect(partial.samples).toHaveLength(2);
    expect(partial.samples[0]!.generatedTokens).toBe(10);
  });

  it('the closed-loop load', async () => {
    const ac = new AbortController();
    const at = { ms: 0 };
    server.setScript(hangFrom(2, ac, at)); // repetition 2's first request hangs
    const engine = engineFor();
    const ctx = scenarioContext(engine, ac.signal, { repetitions: 3 });
    const partial = await abortedCase(measureHttpLoad(ctx, ctx.handles[0]!, ctx.prompts.get(ctx.handles[0]!)!, { concurrency: 1 }));
    expect(performance.now() - at.ms).toBeLessThan(1000);
    expect(partial).toMatchObject({ state: 'aborted', params: { concurrency: 1 } });
    expect(partial.samples).toHaveLength(1);
    // Per request (two requests of 5 tokens); HTTP samples have no forward-pass fields.
    expect(partial.samples[0]).toMatchObject({ requests: 2, generatedTokens: 5 });
    expect(partial.samples[0]!.nfe).toBeUndefined();
  });

  it('an open-loop level: the wait for the next arrival and the requests in flight stop at once', async () => {
    const ac = new AbortController();
    const at = { ms: 0 };
    server.setScript(hangFrom(2, ac, at)); // repetition 1's first request hangs, and every later one
    const engine = engineFor();
    const ctx = scenarioContext(engine, ac.signal, { repetitions: 3 });
    const partial = await abortedCase(measureHttpLoad(ctx, ctx.handles[0]!, ctx.prompts.get(ctx.handles[0]!)!, { requestRate: 20 }));
    expect(performance.now() - at.ms).toBeLessThan(1000);
    expect(partial).toMatchObject({ state: 'aborted', params: { requestRate: 20, arrival: 'poisson' } });
    expect(partial.id).toMatch(/\/r20$/);
    expect(partial.samples).toHaveLength(1);
    expect(partial.samples[0]).toMatchObject({ requests: 2, generatedTokens: 5 });
  });
});

function scenarioContext(engine: OpenAIEngine, signal: AbortSignal, over: { repetitions?: number; maxErrorRate?: number; requests?: number } = {}): ScenarioContext & { warnings: Warning[] } {
  const config = RunConfig.parse({
    genLength: 5,
    http: { concurrency: [1], requests: over.requests ?? 2, durationSec: 30, maxErrorRate: over.maxErrorRate ?? 0.05 },
  });
  const handle = handleFor(engine);
  const set = loadPromptSet('default');
  const warnings: Warning[] = [];
  return {
    ...measureContext(signal, { repetitions: over.repetitions ?? 1 }),
    config,
    handles: [handle],
    set,
    prompts: new Map([[handle, preparePrompts(set, null, false)]]),
    emit: () => {},
    warn: (w) => warnings.push(w),
    warnings,
  };
}

describe('every failed request is kept with its code and message', () => {
  it('under the error-rate limit (closed loop, 500 on every 2nd request)', async () => {
    server.setScript((i) => (i % 2 === 1 ? { status: 500, errorBody: `{"error":"overloaded #${i}"}` } : {}));
    const engine = engineFor();
    const ctx = scenarioContext(engine, new AbortController().signal, { repetitions: 2, requests: 4, maxErrorRate: 0.6 });
    const r = await measureHttpLoad(ctx, ctx.handles[0]!, ctx.prompts.get(ctx.handles[0]!)!, { concurrency: 1 });
    expect(r.state).toBe('completed');
    expect(r.samples.map((s) => s.errors)).toEqual([2, 2]);
    expect(r.requestFailures).toEqual({
      count: 4,
      dropped: 0,
      kept: [1, 3, 5, 7].map((i) => ({ code: 'http-500', message: `HTTP 500 Internal Server Error: {"error":"overloaded #${i}"}`, repetition: i < 4 ? 0 : 1 })),
    });
  });

  it('over the limit, the case fails naming the first code, and the failures are kept', async () => {
    server.setScript((i) => (i % 2 === 1 ? { status: 500 } : {}));
    const engine = engineFor();
    const ctx = scenarioContext(engine, new AbortController().signal, { requests: 4 });
    const r = await measureHttpLoad(ctx, ctx.handles[0]!, ctx.prompts.get(ctx.handles[0]!)!, { concurrency: 1 });
    expect(r.state).toBe('errored');
    expect(r.state === 'errored' && r.error).toMatch(/error rate 50\.0% exceeds the limit 5\.0% \(first: http-500: HTTP 500/);
    expect(r.requestFailures).toMatchObject({ count: 2, kept: [{ code: 'http-500' }, { code: 'http-500' }] });
  });

  it('on the batch path: a failed row of a successful call, and a call whose rows all fail', async () => {
    server.setScript((i) => (i === 1 ? { cutAfter: 1 } : {}));
    const some = await measureCase(measureContext(new AbortController().signal, { repetitions: 2 }), caseRun(engineFor(), 2));
    expect(some.state).toBe('completed');
    expect(some.samples.map((s) => s.errors)).toEqual([1, undefined]);
    expect(some.requestFailures).toMatchObject({ count: 1, kept: [{ code: 'stream-cut', repetition: 0 }] });
    server.setScript({ status: 503 });
    const all = await measureCase(measureContext(new AbortController().signal, { warmup: 1 }), caseRun(engineFor(), 2));
    expect(all.state).toBe('errored');
    expect(all.state === 'errored' && all.error).toMatch(/^http: all 2 requests failed; row 0: http-503: HTTP 503/);
    expect(all.requestFailures).toMatchObject({ count: 2, kept: [{ code: 'http-503', repetition: null }, { code: 'http-503', repetition: null }] });
  });

  it('issue 23 (defect 11): B=1 (the largest batch one call per prompt) and B=2 count the same failure under the same rule', async () => {
    const row = { text: 'Say hello', ids: [] };
    const rows = [row, row];
    // The second request of every repetition is an HTTP 500: one of two rows, whether sent as 2 calls or 1.
    const b1 = (engine: OpenAIEngine): CaseRun => ({ ...caseRun(engine, 1), scenario: 'batch', requests: rows.map((r) => toRequest([r], 5)) });
    const b2 = (engine: OpenAIEngine): CaseRun => caseRun(engine, 2);
    for (const [name, make] of [['b1', b1], ['b2', b2]] as const) {
      for (const [rate, state] of [[1, 'completed'], [0.05, 'errored']] as const) {
        const start = server.requests.length;
        server.setScript((i) => ((i - start) % 2 === 1 ? { status: 500 } : {}));
        const r = await measureCase(measureContext(new AbortController().signal, { repetitions: 2, maxErrorRate: rate }), make(engineFor()));
        expect({ name, rate, state: r.state }).toEqual({ name, rate, state });
        if (state === 'completed') {
          // The request that succeeded is measured; the failed one is counted, not dropped with the case.
          expect(r.samples.map((s) => s.errors)).toEqual([1, 1]);
          expect(r.samples.every((s) => s.generatedTokens > 0)).toBe(true);
          expect(r.requestFailures).toMatchObject({ count: 2, kept: [{ code: 'http-500', repetition: 0 }, { code: 'http-500', repetition: 1 }] });
        } else {
          expect(r.state === 'errored' && r.error).toMatch(/error rate 50\.0% \(1 of 2 requests\) exceeds the limit 5\.0%/);
        }
      }
    }
  });

  it('keeps the first 50 and counts the rest', () => {
    const log = new FailureLog();
    for (let i = 0; i < 120; i++) log.add({ code: i % 2 ? 'http-500' : 'stream-cut', message: `#${i}` }, 0);
    log.add({ code: 'aborted', message: 'Ctrl-C' }, 0);
    const s = log.summary()!;
    expect(MAX_KEPT_FAILURES).toBe(50);
    expect(s.count).toBe(120);
    expect(s.dropped).toBe(70);
    expect(s.kept.map((f) => f.message)).toEqual(Array.from({ length: 50 }, (_, i) => `#${i}`));
  });
});

describe('case ids', () => {
  it('are unique when both sides are OpenAI-compatible servers', () => {
    const engine = engineFor();
    const ctx = measureContext(new AbortController().signal);
    const params = { batchSize: 1, promptTokens: 12, genLength: 5, concurrency: 4 };
    const a = caseBase(ctx, 'throughput', handleFor(engine, 'diffusion'), params).id;
    const b = caseBase(ctx, 'throughput', handleFor(engine, 'ar'), params).id;
    expect(a).toBe('throughput/openai-diffusion/b1/p12/g5/c4');
    expect(b).toBe('throughput/openai-ar/b1/p12/g5/c4');
    expect(caseId('batch', 'ar-ort', { batchSize: 2, promptTokens: 7, genLength: 5 }, 'ar')).toBe('batch/ar-ort/b2/p7/g5');
  });
});
