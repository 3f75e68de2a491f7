import { UserError } from '../../src/util/errors.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import { createOpenAIEngine, generatedTokenCounts, type OpenAIEngineDeps } from '../../src/engines/openai/engine.js';
import { runClosedLoop } from '../../src/engines/openai/load.js';
import { OpenAIEngineConfig, endpointUrl, type OpenAIEngineConfigInput } from '../../src/engines/openai/options.js';
import { parseChunk } from '../../src/engines/openai/chunk.js';
import { readEvents, type SSEEvent } from '../../src/engines/openai/events.js';
import { allocateTokens, countOutputTokens, interTokenLatencyMs } from '../../src/engines/openai/tokens.js';
import { DEFAULT_TOKENS, closedPort, startHostileServer, type HostileServer } from '../helpers/hostile-server.js';

const KEY = 'sk-test-5ecret-DO-NOT-LEAK-0123456789';
const KEY_ENV = 'DLLM_BENCH_TEST_OPENAI_KEY';

let server: HostileServer;
beforeEach(async () => {
  server = await startHostileServer();
});
afterEach(async () => {
  await server.close();
});

function engineFor(over: Partial<OpenAIEngineConfigInput> = {}, deps: OpenAIEngineDeps = {}) {
  return createOpenAIEngine({ baseUrl: server.baseUrl, model: 'test-model', ...over }, deps);
}
const oneRow = (text = 'Say hello', genLength = 5) => ({ prompts: [[1, 2, 3]], promptTexts: [text], genLength });

/** A body that delivers `bytes` in the given pieces, one read each. */
function bodyOf(pieces: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const p of pieces) controller.enqueue(p);
      controller.close();
    },
  });
}
async function eventsOf(pieces: Uint8Array[]): Promise<SSEEvent[]> {
  const out: SSEEvent[] = [];
  for await (const e of readEvents(bodyOf(pieces))) out.push({ data: e.data, ...(e.event ? { event: e.event } : {}), ...(e.id ? { id: e.id } : {}) });
  return out;
}

describe('SSE events (eventsource-parser over a byte stream)', () => {
  const stream =
    ': comment at start\r\n' +
    'data: {"a":1}\r\n\r\n' +
    'event: ping\ndata: line one\ndata: line two\n\n' +
    ':keep-alive\r\r' +
    'data:no-space\r\rid: 7\ndata: é✓ unicode\n\n' +
    'data: [DONE]\n\n';
  // Written out by hand from the SSE spec (WHATWG HTML 9.2.6), not by running a parser.
  const expected: SSEEvent[] = [
    { data: '{"a":1}' },
    { event: 'ping', data: 'line one\nline two' },
    { data: 'no-space' },
    { data: 'é✓ unicode', id: '7' },
    // The spec's last-event-ID buffer persists for the connection; eventsource-parser reports an id only on the
    // event that set it (ids are unused here: OpenAI-style streams carry none).
    { data: '[DONE]' },
  ];
  const bytes = new TextEncoder().encode(stream);

  it('gives the same events however the bytes are split, mid-line, mid-CRLF and mid-UTF-8 character', async () => {
    expect(await eventsOf([bytes])).toEqual(expected);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(await eventsOf([bytes.subarray(0, cut), bytes.subarray(cut)]), `split at byte ${cut}`).toEqual(expected);
    }
    expect(await eventsOf([...bytes].map((b) => new Uint8Array([b])))).toEqual(expected);
  });

  it('drops an unterminated last event (a cut stream never yields half a chunk)', async () => {
    expect(await eventsOf([new TextEncoder().encode('data: é✓\n\ndata: {"half":')])).toEqual([{ data: 'é✓' }]);
  });
});

describe('stream chunk schema', () => {
  it('reads completions text, chat and reasoning deltas, finish_reason and usage; tolerates unknown fields', () => {
    expect(parseChunk('{"choices":[{"text":"ab","finish_reason":null,"logprobs":null}],"x":1}')).toEqual({ kind: 'chunk', text: 'ab', finishReason: null, completionTokens: null, promptTokens: null });
    expect(parseChunk('{"choices":[{"delta":{"reasoning_content":"hm ","content":"ok"},"finish_reason":"length"}]}')).toMatchObject({ text: 'hm ok', finishReason: 'length' });
    expect(parseChunk('{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":9,"total_tokens":12}}')).toMatchObject({ text: '', completionTokens: 9, promptTokens: 3 });
    expect(parseChunk('{"choices":[{"delta":{"role":"assistant","content":null}}]}')).toMatchObject({ kind: 'chunk', text: '' });
  });

  it('rejects what is not a completion chunk, and reports in-stream errors', () => {
    expect(parseChunk('{"choices": [{"text": "oops"')).toMatchObject({ kind: 'malformed', message: 'not JSON' });
    expect(parseChunk('[1,2]')).toMatchObject({ kind: 'malformed' });
    expect(parseChunk('{"choices":[{"text":5}]}')).toMatchObject({ kind: 'malformed', message: expect.stringContaining('choices.0.text') });
    expect(parseChunk('{"usage":{"completion_tokens":-1}}')).toMatchObject({ kind: 'malformed' });
    expect(parseChunk('{"error":{"message":"overloaded"}}')).toEqual({ kind: 'error', message: 'overloaded' });
  });
});

describe('measurement arithmetic', () => {
  it('inter-token latency is (last - first) / (tokens - 1), null for 0 or 1 token', () => {
    expect(interTokenLatencyMs(100, 400, 4)).toBe(100);
    expect(interTokenLatencyMs(100, 100, 5)).toBe(0); // all tokens arrived in one chunk
    expect(interTokenLatencyMs(100, 100, 1)).toBeNull();
    expect(interTokenLatencyMs(null, null, 0)).toBeNull();
  });

  it('prefers usage, then the tokenizer, then the chunk count', () => {
    const words = (t: string) => t.split(' ').filter(Boolean).length;
    expect(countOutputTokens(9, 'a b', 2, words)).toEqual({ tokens: 9, source: 'usage' });
    expect(countOutputTokens(null, 'a b c', 2, words)).toEqual({ tokens: 3, source: 'tokenizer' });
    expect(countOutputTokens(null, 'a b c', 2)).toEqual({ tokens: 2, source: 'chunks' });
    const broken = () => {
      throw new Error('no vocab');
    };
    expect(countOutputTokens(null, 'a b c', 2, broken)).toEqual({ tokens: 2, source: 'chunks' });
  });

  it('spreads tokens over chunks with an exact sum', () => {
    expect(allocateTokens(3, [1, 1, 1])).toEqual([1, 1, 1]);
    expect(allocateTokens(6, [2, 1, 3])).toEqual([2, 1, 3]);
    expect(allocateTokens(5, [10, 1, 1])).toEqual([3, 1, 1]);
    expect(allocateTokens(7, [1, 1, 1, 1]).reduce((a, b) => a + b)).toBe(7);
    expect(allocateTokens(10, [1, 0, 0, 7])).toEqual([1, 1, 1, 7]);
    expect(allocateTokens(2, [1, 1, 1, 1])).toEqual([1, 0, 1, 0]);
    expect(allocateTokens(2, [0, 0, 5, 5])).toEqual([0, 0, 1, 1]);
    expect(allocateTokens(0, [])).toEqual([]);
  });
});

describe('config', () => {
  it('applies defaults and rejects keys in the URL or in apiKeyEnv', () => {
    const c = OpenAIEngineConfig.parse({ baseUrl: 'http://127.0.0.1:8000/v1', model: 'm' });
    expect(c).toMatchObject({ endpoint: 'completions', timeoutMs: 60_000, ignoreEos: true });
    expect(OpenAIEngineConfig.safeParse({ baseUrl: 'http://u:p@127.0.0.1/v1', model: 'm' }).success).toBe(false);
    expect(OpenAIEngineConfig.safeParse({ baseUrl: 'http://127.0.0.1/v1', model: 'm', apiKeyEnv: 'sk-abc' }).success).toBe(false);
    expect(OpenAIEngineConfig.safeParse({ baseUrl: 'http://127.0.0.1/v1', model: 'm', timeoutMs: 0 }).success).toBe(false);
    expect(endpointUrl('http://127.0.0.1:8000', 'chat')).toBe('http://127.0.0.1:8000/v1/chat/completions');
    expect(endpointUrl('http://127.0.0.1:8000/v1/', 'completions')).toBe('http://127.0.0.1:8000/v1/completions');
  });

  it('an invalid config is refused once, at creation, with one line naming the field (issue 23)', () => {
    expect(() => createOpenAIEngine({ baseUrl: 'not a url', model: 'm' })).toThrow(UserError);
    expect(() => createOpenAIEngine({ baseUrl: 'not a url', model: 'm' })).toThrow(/^invalid openai engine config: baseUrl: /);
    expect(() => createOpenAIEngine({ baseUrl: 'http://127.0.0.1/v1', model: 'm', timeoutMs: -1 })).toThrow(/timeoutMs/);
    expect(server.requests).toHaveLength(0);
  });
});

describe('openai engine against a real SSE server', () => {
  it('streams /v1/completions, counts tokens from usage, and sends the measurement-defining fields', async () => {
    const engine = engineFor();
    expect(engine.info).toMatchObject({ kind: 'openai', family: 'remote', device: 'remote', executionProvider: 'http' });
    const r = await engine.generate(oneRow('Say hello', 5));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const out = r.value;
    expect(out.tokens).toEqual([[]]);
    expect(out.generatedTokenCounts).toEqual([5]);
    expect(generatedTokenCounts(out)).toEqual([5]);
    expect(out.usefulTokens).toEqual([5]);
    expect(out.tokenCountSources).toEqual(['usage']);
    expect(out.requests[0]!.text).toBe(DEFAULT_TOKENS.join(''));
    expect(out.tokenTimesMs![0]).toHaveLength(5);
    expect(out.trace).toHaveLength(5);
    expect(out.forwardMs).toBe(out.totalMs);
    expect(out.failedRequests).toBe(0);
    const req = server.requests[0]!;
    expect(req.path).toBe('/v1/completions');
    expect(req.authorization).toBeUndefined();
    expect(req.body).toMatchObject({
      model: 'test-model',
      prompt: 'Say hello',
      max_tokens: 5,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
      // Fixed-length by default (the same work as the local AR engines), config/http.ts.
      ignore_eos: true,
      min_tokens: 5,
    });
  });

  it('uses usage over chunks when they differ, spreading the tokens over chunk times', async () => {
    server.setScript({ tokens: ['aa', 'bb', 'cc', 'dd'], usageCompletionTokens: 7 });
    const r = await engineFor({}, { countTokens: () => 99 }).generate(oneRow('x', 7));
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.generatedTokenCounts).toEqual([7]);
    expect(r.value.tokenCountSources).toEqual(['usage']);
    expect(r.value.tokenTimesMs![0]).toHaveLength(7);
    expect(r.value.trace.reduce((s, t) => s + t.tokensCommitted, 0)).toBe(7);
    expect(r.value.trace).toHaveLength(4);
  });

  it('without usage counts with the injected tokenizer, else one token per content chunk', async () => {
    server.setScript({ tokens: ['one two', ' three', ' four five six'], usage: false });
    const words = (t: string) => t.split(' ').filter(Boolean).length;
    const withTok = await engineFor({}, { countTokens: words }).generate(oneRow());
    if (!withTok.ok) throw new Error(withTok.error.message);
    expect(withTok.value.generatedTokenCounts).toEqual([6]);
    expect(withTok.value.tokenCountSources).toEqual(['tokenizer']);
    expect(withTok.value.requests[0]!.chunks.map((c) => c.tokens)).toEqual([2, 1, 3]);

    const bare = await engineFor().generate(oneRow());
    if (!bare.ok) throw new Error(bare.error.message);
    expect(bare.value.generatedTokenCounts).toEqual([3]);
    expect(bare.value.tokenCountSources).toEqual(['chunks']);
  });

  it('chat: TTFT and ITL match the server delays (the role-only chunk is not a token)', async () => {
    const FIRST = 300;
    const GAP = 80;
    server.setScript({ tokens: ['a', 'b', 'c', 'd'], firstDelayMs: FIRST, interDelayMs: GAP });
    const engine = engineFor({ endpoint: 'chat' });
    const before = performance.now(); // generate()'s own origin is taken a moment later
    const r = await engine.generate(oneRow('Hi there', 4));
    if (!r.ok) throw new Error(r.error.message);
    const m = r.value.requests[0]!;
    const req = server.requests[0]!;
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.body.messages).toEqual([{ role: 'user', content: 'Hi there' }]);
    expect(m.outputTokens).toBe(4);
    // Absolute bounds: timers never fire early; a loaded 2-core machine may add lag, not remove it.
    expect(m.ttftMs!).toBeGreaterThanOrEqual(FIRST - 5);
    expect(m.ttftMs!).toBeLessThan(FIRST + 200);
    // 4 tokens, 3 gaps of 80 ms: ITL 80. Wrong divisors give 60 (/tokens) or ~180 (counting TTFT).
    expect(m.itlMs!).toBeGreaterThanOrEqual(GAP - 3);
    expect(m.itlMs!).toBeLessThan(GAP + 40);
    // Same clock as the server (same process): the client's ITL tracks the server's write times closely.
    const w = req.contentWrittenMs;
    const serverItl = (w[w.length - 1]! - w[0]!) / (w.length - 1);
    expect(Math.abs(m.itlMs! - serverItl)).toBeLessThan(15);
    const firstAbs = before + m.firstTokenMs!;
    expect(firstAbs - w[0]!).toBeGreaterThanOrEqual(-5);
    expect(firstAbs - w[0]!).toBeLessThan(50);
    // tokenTimesMs are ms since generate() started, one per token, non-decreasing.
    const times = r.value.tokenTimesMs![0]!;
    expect(times).toHaveLength(4);
    expect(times[0]).toBeCloseTo(m.firstTokenMs!, 6);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(r.value.totalMs).toBeGreaterThanOrEqual(FIRST + 3 * GAP - 5);
  });

  it('sends token ids as the prompt to /completions when there is no text; chat without text is invalid', async () => {
    const r = await engineFor().generate({ prompts: [[11, 12, 13, 14]], genLength: 3 });
    expect(r.ok).toBe(true);
    expect(server.requests[0]!.body.prompt).toEqual([11, 12, 13, 14]);
    const chat = await engineFor({ endpoint: 'chat' }).generate({ prompts: [[1, 2]], genLength: 3 });
    expect(chat).toMatchObject({ ok: false, error: { code: 'invalid-options' } });
    expect(server.requests).toHaveLength(1);
  });

  it('ignoreEos sends ignore_eos and min_tokens; extra fields join the body but cannot override the measured ones', async () => {
    const engine = engineFor({ ignoreEos: true, extraBody: { top_p: 0.5, temperature: 0.7, max_tokens: 1, stream: false } });
    const r = await engine.generate(oneRow('x', 5));
    expect(r.ok).toBe(true);
    expect(server.requests[0]!.body).toMatchObject({
      ignore_eos: true,
      min_tokens: 5,
      max_tokens: 5,
      top_p: 0.5,
      temperature: 0.7,
      stream: true,
    });
    await engine.generate(oneRow('x', 5), { ignoreEos: false });
    expect(server.requests[1]!.body).not.toHaveProperty('ignore_eos');
  });

  it('parses fragmented writes with CRLF, comments and multi-byte text', async () => {
    server.setScript({ tokens: ['héllo', ' wörld ✓', ' 日本'], fragment: true });
    const r = await engineFor({ endpoint: 'chat' }).generate(oneRow());
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.requests[0]!.text).toBe('héllo wörld ✓ 日本');
    expect(r.value.generatedTokenCounts).toEqual([3]);
  });

  it('runs the rows of one call concurrently, one trace entry per content chunk, sorted in time', async () => {
    server.setScript({ firstDelayMs: 100, interDelayMs: 10 });
    const r = await engineFor().generate({ prompts: [[1], [2], [3]], promptTexts: ['a', 'b', 'c'], genLength: 5 });
    if (!r.ok) throw new Error(r.error.message);
    expect(server.maxInFlight).toBe(3);
    expect(r.value.generatedTokenCounts).toEqual([5, 5, 5]);
    expect(r.value.trace).toHaveLength(15);
    const ends = r.value.trace.map((t) => t.startMs + t.durationMs);
    expect([...ends].sort((a, b) => a - b)).toEqual(ends);
    expect(r.value.totalMs).toBeLessThan(100 * 3); // not one after another
  });

  it('a failed row is counted, not thrown; ok stays true while some row succeeded', async () => {
    server.setScript((i) => (i === 1 ? { status: 500 } : {}));
    const r = await engineFor().generate({ prompts: [[1], [2], [3]], promptTexts: ['a', 'b', 'c'], genLength: 5 });
    if (!r.ok) throw new Error(r.error.message);
    const failedRow = r.value.requests.findIndex((q) => q.state === 'errored');
    expect(r.value.failedRequests).toBe(1);
    expect(r.value.generatedTokenCounts[failedRow]).toBe(0);
    expect(r.value.tokenTimesMs![failedRow]).toEqual([]);
    expect(r.value.trace).toHaveLength(10);
  });
});

describe('failures become typed errors, never throws', () => {
  it('HTTP 500 with a short body excerpt', async () => {
    server.setScript({ status: 500, errorBody: `{"error":{"message":"out of memory ${'x'.repeat(5000)}"}}` });
    const r = await engineFor().generate(oneRow());
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('http');
    expect(r.error.message).toMatch(/^http-500: HTTP 500/);
    expect(r.error.message).toContain('out of memory');
    expect(r.error.message.length).toBeLessThan(300);
    const m = r.error.requests![0]!;
    expect(m.state === 'errored' && m.error.code).toBe('http-500');
  });

  it('stream cut midway (socket destroyed) keeps the partial measurement', async () => {
    server.setScript({ cutAfter: 2 });
    const r = await engineFor().generate(oneRow());
    if (r.ok) throw new Error('expected failure');
    expect(r.error.code).toBe('http');
    const m = r.error.requests![0]!;
    expect(m.state === 'errored' && m.error.code).toBe('stream-cut');
    expect(m.text).toBe(DEFAULT_TOKENS.slice(0, 2).join(''));
    expect(m.outputTokens).toBe(2);
    expect(m.tokenCountSource).toBe('chunks');
  });

  it('a clean close after finish_reason without [DONE] is complete, with a note; before any finish_reason it is cut', async () => {
    server.setScript({ omitDone: true });
    const a = await engineFor().generate(oneRow());
    if (!a.ok) throw new Error(a.error.message);
    expect(a.value.requests[0]).toMatchObject({ state: 'completed', finishReason: 'length', outputTokens: 5, notes: ['no-done'] });
    server.setScript({ closeBeforeFinish: true });
    const b = await engineFor().generate(oneRow());
    if (b.ok) throw new Error('expected failure');
    const m = b.error.requests![0]!;
    expect(m.state === 'errored' && m.error.code).toBe('stream-cut');
    expect(b.error.message).toMatch(/^stream-cut: stream closed after 5 chunks without a finish_reason/);
    expect(m.outputTokens).toBe(5); // what arrived is kept
  });

  it('malformed JSON chunk', async () => {
    server.setScript({ malformedAfter: 1 });
    const r = await engineFor().generate(oneRow());
    if (r.ok) throw new Error('expected failure');
    const m = r.error.requests![0]!;
    expect(m.state === 'errored' && m.error.code).toBe('malformed-chunk');
    expect(r.error.message).toContain('malformed (not JSON)');
  });

  it('error object inside the stream, and JSON instead of a stream', async () => {
    server.setScript({ streamErrorAfter: 1 });
    const a = await engineFor().generate(oneRow());
    if (a.ok) throw new Error('expected failure');
    expect(a.error.requests![0]!.state === 'errored' && a.error.requests![0]!.error.code).toBe('server-error');
    server.setScript({ jsonInsteadOfStream: true });
    const b = await engineFor().generate(oneRow());
    if (b.ok) throw new Error('expected failure');
    expect(b.error.requests![0]!.state === 'errored' && b.error.requests![0]!.error.code).toBe('protocol');
  });

  it('timeout via AbortController', async () => {
    server.setScript({ firstDelayMs: 5_000 });
    const t = performance.now();
    const r = await engineFor({ timeoutMs: 200 }).generate(oneRow());
    const elapsed = performance.now() - t;
    expect(r).toMatchObject({ ok: false, error: { code: 'timeout' } });
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('caller abort signal', async () => {
    server.setScript({ firstDelayMs: 5_000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const r = await engineFor().generate(oneRow(), { signal: ac.signal });
    expect(r).toMatchObject({ ok: false, error: { code: 'aborted' } });
  });

  it('connection refused', async () => {
    const port = await closedPort();
    const engine = createOpenAIEngine({ baseUrl: `http://127.0.0.1:${port}/v1`, model: 'm' });
    const r = await engine.generate(oneRow());
    if (r.ok) throw new Error('expected failure');
    expect(r.error.code).toBe('http');
    const m = r.error.requests![0]!;
    expect(m.state === 'errored' && m.error.code).toBe('connection');
    expect(r.error.message).toContain('ECONNREFUSED');
  });

  it('DNS failure (fetch rejects the way undici does; no real lookup is made)', async () => {
    const fakeFetch = (async () => {
      const cause = Object.assign(new Error('getaddrinfo ENOTFOUND llm.invalid'), { code: 'ENOTFOUND' });
      throw new TypeError('fetch failed', { cause });
    }) as typeof fetch;
    const engine = createOpenAIEngine({ baseUrl: 'http://llm.invalid/v1', model: 'm' }, { fetch: fakeFetch });
    const r = await engine.generate(oneRow());
    if (r.ok) throw new Error('expected failure');
    expect(r.error.message).toContain('ENOTFOUND');
    expect(r.error.requests![0]!.state === 'errored' && r.error.requests![0]!.error.code).toBe('connection');
  });
});

describe('API key', () => {
  it('is sent as a Bearer token and appears nowhere in outputs, info or error messages', async () => {
    const env = { [KEY_ENV]: KEY };
    const engine = engineFor({ apiKeyEnv: KEY_ENV }, { env });
    const ok = await engine.generate(oneRow());
    expect(ok.ok).toBe(true);
    expect(server.requests[0]!.authorization).toBe(`Bearer ${KEY}`);
    expect(JSON.stringify(ok)).not.toContain(KEY);
    expect(JSON.stringify(engine.info)).not.toContain(KEY);

    // A server that echoes the key back in its error body.
    server.setScript({ status: 401, errorBody: '{"error":"invalid key {auth}"}' });
    const bad = await engine.generate(oneRow());
    if (bad.ok) throw new Error('expected failure');
    expect(bad.error.message).toContain('HTTP 401');
    expect(bad.error.message).toContain('[redacted]');
    expect(JSON.stringify(bad)).not.toContain(KEY);

    // ... or in the generated text itself.
    server.setScript({ tokens: ['your key is ', KEY] });
    const echoed = await engine.generate(oneRow());
    if (!echoed.ok) throw new Error(echoed.error.message);
    expect(echoed.value.requests[0]!.text).toBe('your key is [redacted]');
    expect(JSON.stringify(echoed)).not.toContain(KEY);
  });

  it('an unset key variable is an invalid-options error naming the variable; nothing is sent', async () => {
    const engine = engineFor({ apiKeyEnv: KEY_ENV }, { env: {} });
    const r = await engine.generate(oneRow());
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid-options' } });
    if (!r.ok) expect(r.error.message).toContain(KEY_ENV);
    expect(server.requests).toHaveLength(0);
  });
});

describe('closed-loop load', () => {
  const prompts = [{ text: 'p0' }, { text: 'p1' }];

  it('keeps `concurrency` requests in flight and stops at maxRequests', async () => {
    server.setScript({ firstDelayMs: 60, interDelayMs: 5 });
    const engine = engineFor();
    const res = await runClosedLoop({ engine, prompts, concurrency: 3, maxRequests: 9, durationMs: 30_000, genLength: 5 });
    expect(server.maxInFlight).toBe(3);
    expect(res.summary.maxInFlight).toBe(3);
    expect(server.requests).toHaveLength(9);
    expect(res.records.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(server.requests.map((r) => r.body.prompt).slice(0, 4)).toEqual(expect.arrayContaining(['p0', 'p1']));
    expect(res.summary).toMatchObject({ requests: 9, completed: 9, errors: 0, errorRate: 0, failed: false, stoppedBy: 'max-requests' });
    expect(res.summary.outputTokens).toBe(45);
    expect(res.summary.outputTokensPerSec).toBeCloseTo(45 / (res.summary.wallMs / 1000), 6);
    // 9 requests of >= 80 ms over 3 workers: about 3 rounds, far less than 9 sequential ones.
    expect(res.summary.wallMs).toBeGreaterThanOrEqual(3 * 75);
    for (const r of res.records) {
      expect(r.ttftMs!).toBeGreaterThanOrEqual(55);
      expect(r.e2eMs).toBeGreaterThanOrEqual(r.ttftMs!);
      expect(r.tokenCountSource).toBe('usage');
    }
  });

  it('stops starting requests at the duration limit', async () => {
    server.setScript({ firstDelayMs: 40, interDelayMs: 5 });
    const t = performance.now();
    const res = await runClosedLoop({
      engine: engineFor(),
      prompts,
      concurrency: 2,
      maxRequests: 10_000,
      durationMs: 300,
      genLength: 5,
    });
    const elapsed = performance.now() - t;
    expect(res.summary.stoppedBy).toBe('duration');
    expect(res.summary.requests).toBeGreaterThanOrEqual(2);
    expect(res.summary.requests).toBeLessThanOrEqual(2 * Math.ceil(300 / 60) + 2);
    expect(Math.max(...res.records.map((r) => r.startMs))).toBeLessThan(300);
    expect(elapsed).toBeLessThan(300 + 1_000);
  });

  it('drainMs aborts requests still running after the duration; they are cancelled, not errors', async () => {
    server.setScript({ firstDelayMs: 5_000 });
    const t = performance.now();
    const res = await runClosedLoop({
      engine: engineFor(),
      prompts,
      concurrency: 2,
      maxRequests: 100,
      durationMs: 100,
      drainMs: 50,
      genLength: 5,
    });
    expect(performance.now() - t).toBeLessThan(2_000);
    expect(res.summary).toMatchObject({ cancelled: 2, requests: 0, errors: 0, failed: false });
  });

  it('failed is true when the error rate exceeds maxErrorRate', async () => {
    server.setScript((i) => (i % 2 === 1 ? { status: 500 } : {}));
    const base = { engine: engineFor(), prompts, concurrency: 2, maxRequests: 8, durationMs: 30_000, genLength: 5 };
    const res = await runClosedLoop(base);
    expect(res.summary).toMatchObject({ requests: 8, errors: 4, errorRate: 0.5, maxErrorRate: 0.05, failed: true });
    expect(res.records.filter((r) => r.error?.code === 'http-500')).toHaveLength(4);
    expect(res.summary.outputTokens).toBe(20);
    const lenient = await runClosedLoop({ ...base, maxErrorRate: 0.5 });
    expect(lenient.summary.failed).toBe(false);
  });

  it('takes a plain send function, records its throws, and rejects unbounded or invalid arguments', async () => {
    const engine = engineFor();
    let n = 0;
    const res = await runClosedLoop({
      send: (p, g, o) => {
        if (n++ === 1) throw new Error('bug');
        return engine.send(p, g, o);
      },
      prompts,
      concurrency: 1,
      maxRequests: 3,
      durationMs: 30_000,
      genLength: 5,
    });
    expect(res.summary).toMatchObject({ requests: 3, errors: 1 });
    expect(res.records[1]!.error?.code).toBe('internal');
    const bad = { send: engine.send, prompts, genLength: 5 };
    await expect(runClosedLoop({ ...bad, concurrency: 0, maxRequests: 1, durationMs: 1 })).rejects.toThrow(RangeError);
    await expect(runClosedLoop({ ...bad, concurrency: 1, maxRequests: 1, durationMs: Infinity })).rejects.toThrow(RangeError);
    await expect(runClosedLoop({ ...bad, concurrency: 1, maxRequests: 1, durationMs: 10, prompts: [] })).rejects.toThrow(
      RangeError,
    );
  });
});
