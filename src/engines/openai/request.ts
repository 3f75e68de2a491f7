/**
 * One streamed completion request, measured: send time, first content token, every content chunk, end, and the
 * output token count with its source. 429 answers are retried under RETRY_POLICY. Nothing here throws for a failed
 * request: every failure becomes a typed RequestError inside the measurement, with what arrived before it.
 */
import { performance } from 'node:perf_hooks';
import { parseChunk } from './chunk.js';
import { readEvents } from './events.js';
import type { ContentChunk, CountTokens, RequestError, RequestMeasurement, RequestNote } from './measurement.js';
import { causeOf, redact, scrub } from './redact.js';
import { abortableSleep, nextWait } from './retry.js';
import { allocateTokens, chunkWeights, countOutputTokens, interTokenLatencyMs } from './tokens.js';
import { at } from '../../util/indexing.js';

export interface StreamRequestSpec {
  url: string;
  /** Sent as is (includes Authorization when a key is used). */
  headers: Record<string, string>;
  /** JSON body; should ask for `stream: true` and `stream_options: {include_usage: true}`. */
  body: unknown;
  /** Per attempt, connect to last byte. */
  timeoutMs: number;
  signal?: AbortSignal;
  countTokens?: CountTokens;
  /** Clock in ms; default performance.now. */
  now?: () => number;
  fetch?: typeof fetch;
  /** Strings (API keys) removed from every error message and text. */
  secrets?: readonly string[];
}

/** What the stream delivered so far; shared by every attempt (only a 429 leads to another, before any chunk). */
interface Received {
  times: number[];
  texts: string[];
  usageCompletion: number | null;
  usagePrompt: number | null;
  finishReason: string | null;
  notes: RequestNote[];
}

type AttemptOutcome = { kind: 'done' } | { kind: 'failed'; error: RequestError } | { kind: 'retry'; retryAfter: string | null };

async function readExcerpt(response: Response, maxBytes = 2048): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder('utf-8');
  let text = '';
  let bytes = 0;
  try {
    while (bytes < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // The excerpt is best effort; the status code is the error.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return text;
}

const isEventStream = (contentType: string): boolean => at(contentType.split(';'), 0, 'media type').trim().toLowerCase() === 'text/event-stream';

async function attempt(spec: StreamRequestSpec, got: Received, now: () => number): Promise<AttemptOutcome> {
  const secrets = spec.secrets ?? [];
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, spec.timeoutMs);
  const onAbort = (): void => controller.abort();
  spec.signal?.addEventListener('abort', onAbort, { once: true });
  const failed = (error: RequestError): AttemptOutcome => ({ kind: 'failed', error });
  const abortedError = (): AttemptOutcome | null => {
    if (timedOut) return failed({ code: 'timeout', message: `no complete answer within ${spec.timeoutMs} ms` });
    if (spec.signal?.aborted) return failed({ code: 'aborted', message: 'request aborted by the caller' });
    return null;
  };
  try {
    let response: Response;
    try {
      response = await (spec.fetch ?? fetch)(spec.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...spec.headers },
        body: JSON.stringify(spec.body),
        signal: controller.signal,
      });
    } catch (err) {
      return abortedError() ?? failed({ code: 'connection', message: `cannot reach ${spec.url}: ${causeOf(err)}` });
    }
    if (response.status === 429) {
      response.body?.cancel().catch(() => undefined);
      return { kind: 'retry', retryAfter: response.headers.get('retry-after') };
    }
    if (response.status >= 400) {
      const excerpt = await readExcerpt(response);
      const text = redact(excerpt, secrets, 200);
      return (
        abortedError() ??
        failed({ code: `http-${response.status}`, message: `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${text ? `: ${text}` : ''}` })
      );
    }
    const contentType = response.headers.get('content-type');
    if (contentType === null || !isEventStream(contentType)) {
      const excerpt = redact(await readExcerpt(response), secrets, 120);
      return (
        abortedError() ??
        failed({ code: 'protocol', message: `expected text/event-stream, got ${contentType ? contentType : 'no content type'} (HTTP ${response.status})${excerpt ? `: ${excerpt}` : ''}` })
      );
    }
    if (!response.body) return failed({ code: 'protocol', message: 'the event stream has no body' });

    let received = 0;
    try {
      for await (const event of readEvents(response.body)) {
        const t = now();
        const data = event.data.trim();
        if (data === '[DONE]') return { kind: 'done' };
        received++;
        const chunk = parseChunk(data);
        if (chunk.kind === 'malformed') {
          return failed({ code: 'malformed-chunk', message: `stream chunk ${received} is malformed (${chunk.message}): ${redact(data, secrets, 120)}` });
        }
        if (chunk.kind === 'error') return failed({ code: 'server-error', message: `server error in stream: ${chunk.message}` });
        if (chunk.completionTokens !== null) got.usageCompletion = chunk.completionTokens;
        if (chunk.promptTokens !== null) got.usagePrompt = chunk.promptTokens;
        if (chunk.finishReason !== null) got.finishReason = chunk.finishReason;
        if (chunk.text.length > 0) {
          got.times.push(t);
          got.texts.push(chunk.text);
        }
      }
    } catch (err) {
      return abortedError() ?? failed({ code: 'stream-cut', message: `stream broke after ${received} chunks: ${causeOf(err)}` });
    }
    const aborted = abortedError();
    if (aborted) return aborted;
    // Servers that end a finished answer by closing without [DONE] (older llama.cpp, some forks): the answer is
    // whole, so it counts, with a note the caller turns into a warning. Without a finish_reason it was cut.
    if (got.finishReason !== null) {
      got.notes.push('no-done');
      return { kind: 'done' };
    }
    return failed({ code: 'stream-cut', message: `stream closed after ${received} chunks without a finish_reason or [DONE]` });
  } finally {
    clearTimeout(timer);
    spec.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Sends one streaming request (retrying 429s under RETRY_POLICY) and measures it. Never throws: failures come back
 * as `state: 'errored'` with whatever timings and text arrived before the failure.
 */
export async function streamRequest(spec: StreamRequestSpec): Promise<RequestMeasurement> {
  const now = spec.now ?? (() => performance.now());
  const secrets = spec.secrets ?? [];
  const got: Received = { times: [], texts: [], usageCompletion: null, usagePrompt: null, finishReason: null, notes: [] };
  const sendMs = now();
  let retries = 0;

  const finish = (error: RequestError | null): RequestMeasurement => {
    const endMs = now();
    const text = scrub(got.texts.join(''), secrets);
    const { tokens, source } = countOutputTokens(got.usageCompletion, text, got.texts.length, spec.countTokens);
    const perChunk = allocateTokens(tokens, chunkWeights(got.texts, source, spec.countTokens));
    const chunks: ContentChunk[] = got.texts.map((t, i) => ({ atMs: at(got.times, i, 'got.times'), text: scrub(t, secrets), tokens: at(perChunk, i, 'perChunk') }));
    const firstTokenMs = got.times[0] ?? null;
    const timings = {
      sendMs,
      firstTokenMs,
      endMs,
      ttftMs: firstTokenMs === null ? null : firstTokenMs - sendMs,
      itlMs: interTokenLatencyMs(firstTokenMs, got.times.at(-1) ?? null, tokens),
      e2eMs: endMs - sendMs,
      chunks,
      text,
      outputTokens: tokens,
      tokenCountSource: source,
      promptTokens: got.usagePrompt,
      finishReason: got.finishReason,
      retries,
      notes: got.notes,
    };
    if (error === null) return { state: 'completed', ...timings };
    return { state: 'errored', error: { code: error.code, message: redact(error.message, secrets) }, ...timings };
  };

  if (spec.signal?.aborted) return finish({ code: 'aborted', message: 'aborted before the request was sent' });
  let waitedMs = 0;
  for (;;) {
    const outcome = await attempt(spec, got, now);
    if (outcome.kind === 'done') return finish(null);
    if (outcome.kind === 'failed') return finish(outcome.error);
    const wait = nextWait(retries, waitedMs, outcome.retryAfter);
    if ('giveUp' in wait) return finish({ code: 'http-429', message: `HTTP 429 Too Many Requests: ${wait.giveUp}` });
    if (!(await abortableSleep(wait.waitMs, spec.signal))) {
      return finish({ code: 'aborted', message: 'request aborted by the caller while waiting to retry a 429' });
    }
    waitedMs += wait.waitMs;
    retries++;
  }
}
