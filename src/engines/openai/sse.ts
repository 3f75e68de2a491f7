/**
 * Server-sent events over a fetch Response, and the measurement of one streamed completion request:
 * send time, first content token, every content chunk, end, and the output token count with its source.
 * Nothing here throws for a failed request: every failure becomes a typed RequestError inside the measurement.
 */
import { performance } from 'node:perf_hooks';

// ---------------------------------------------------------------------------------------------------------------
// SSE parsing (WHATWG "event stream interpretation", the parts OpenAI-style servers use)

export interface SSEEvent {
  /** `event:` field; 'message' when absent. */
  event: string;
  /** `data:` lines joined with '\n'. */
  data: string;
  id?: string;
}

/**
 * Incremental parser over decoded text. Chunks may split anywhere: inside a field, between '\r' and '\n', or
 * between two events. Lines end with LF, CRLF or CR; ':' lines are comments. An event is dispatched on a blank line;
 * an unterminated event at end of stream is dropped, as the spec says (so a cut stream never yields half a chunk).
 */
export class SSEParser {
  private buffer = '';
  private dataLines: string[] = [];
  private eventType = '';
  private lastId: string | undefined;
  /** The previous chunk ended with '\r': a '\n' starting the next chunk belongs to that line break. */
  private skipLeadingLF = false;
  private atStart = true;

  push(text: string): SSEEvent[] {
    if (text.length === 0) return [];
    if (this.atStart) {
      this.atStart = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.skipLeadingLF && text.charCodeAt(0) === 10) text = text.slice(1);
    this.skipLeadingLF = false;
    const buf = this.buffer + text;
    const events: SSEEvent[] = [];
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = buf.slice(start, i);
      if (c === 13) {
        if (i + 1 < buf.length) {
          if (buf.charCodeAt(i + 1) === 10) i++;
        } else {
          this.skipLeadingLF = true;
        }
      }
      start = i + 1;
      this.processLine(line, events);
    }
    this.buffer = buf.slice(start);
    return events;
  }

  /** True when the stream stopped inside an event (data received but no blank line yet). */
  get hasPartialEvent(): boolean {
    return this.buffer.length > 0 || this.dataLines.length > 0;
  }

  private processLine(line: string, events: SSEEvent[]): void {
    if (line === '') {
      if (this.dataLines.length > 0) {
        const event: SSEEvent = { event: this.eventType || 'message', data: this.dataLines.join('\n') };
        if (this.lastId !== undefined) event.id = this.lastId;
        events.push(event);
      }
      this.dataLines = [];
      this.eventType = '';
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' */) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.dataLines.push(value);
    else if (field === 'event') this.eventType = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    // 'retry' and unknown fields are ignored.
  }
}

/** Events of a byte stream, decoded as UTF-8 (multi-byte characters may be split across chunks too). */
export async function* readSSE(body: ReadableStream<Uint8Array>): AsyncGenerator<SSEEvent, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8');
  const parser = new SSEParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const event of parser.push(decoder.decode(value, { stream: true }))) yield event;
    }
    for (const event of parser.push(decoder.decode())) yield event;
  } finally {
    // Releases the connection when the consumer stops early ([DONE], error) or the stream failed.
    reader.cancel().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Measurement of one streamed request

/** Where a request's output token count came from, best first. */
export type TokenCountSource = 'usage' | 'tokenizer' | 'chunks';

export type RequestErrorCode =
  /** The per-request timeout fired (AbortController). */
  | 'timeout'
  /** The caller's AbortSignal fired (Ctrl-C, end of a load run). */
  | 'aborted'
  /** No HTTP response: refused, DNS, TLS, reset before headers. */
  | 'connection'
  /** HTTP status >= 400. */
  | 'http-status'
  /** The server answered, but not with an event stream of completion chunks. */
  | 'protocol'
  /** A `data:` line was not valid JSON. */
  | 'malformed-json'
  /** The stream carried an `{"error": ...}` object. */
  | 'server-error'
  /** The stream broke or ended before `data: [DONE]`. */
  | 'stream-cut'
  /** The request could not be built (bad options, missing API key variable). */
  | 'invalid-request'
  /** A caller-supplied send function threw instead of returning a measurement (a bug, recorded not rethrown). */
  | 'internal';

export interface RequestError {
  code: RequestErrorCode;
  /** One line, at most a few hundred characters; never contains the API key. */
  message: string;
  /** Set for 'http-status'. */
  httpStatus?: number;
}

/** One chunk that carried generated text. */
export interface ContentChunk {
  /** Arrival time on the caller's clock (ms). */
  atMs: number;
  text: string;
  /** Output tokens attributed to this chunk (see allocateTokens); they sum to outputTokens when chunks exist. */
  tokens: number;
}

export interface RequestTimings {
  /** Caller's clock (ms) just before the request was sent. */
  sendMs: number;
  /** Caller's clock at the first chunk with generated text; null when none arrived. */
  firstTokenMs: number | null;
  /** Caller's clock when the request ended ([DONE] or failure). */
  endMs: number;
  /** firstTokenMs - sendMs; null when no token arrived. */
  ttftMs: number | null;
  /** (last token time - first token time) / (outputTokens - 1); see interTokenLatencyMs. */
  itlMs: number | null;
  /** endMs - sendMs. */
  e2eMs: number;
  chunks: ContentChunk[];
  /** Generated text (also for failed requests: what arrived before the failure). */
  text: string;
  outputTokens: number;
  tokenCountSource: TokenCountSource;
  /** usage.prompt_tokens when the server reported usage. */
  promptTokens: number | null;
  /** Last finish_reason seen ('length', 'stop', ...). */
  finishReason: string | null;
}

export type RequestMeasurement =
  | ({ state: 'completed' } & RequestTimings)
  | ({ state: 'errored'; error: RequestError } & RequestTimings);

export type CountTokens = (text: string) => number;

export interface StreamRequestSpec {
  url: string;
  /** Sent as is (includes Authorization when a key is used). */
  headers: Record<string, string>;
  /** JSON body; should ask for `stream: true` and `stream_options: {include_usage: true}`. */
  body: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
  countTokens?: CountTokens;
  /** Clock in ms; default performance.now. */
  now?: () => number;
  fetch?: typeof fetch;
  /** Strings (API keys) removed from every error message. */
  secrets?: readonly string[];
}

/**
 * Inter-token latency: (last token time - first token time) / (tokens - 1).
 * null when tokens <= 1 (no interval exists) or no token time was seen. When every token arrived in one chunk,
 * the result is 0: the tokens really did become available together.
 */
export function interTokenLatencyMs(
  firstTokenMs: number | null,
  lastTokenMs: number | null,
  tokens: number,
): number | null {
  if (firstTokenMs === null || lastTokenMs === null || !(tokens > 1)) return null;
  return (lastTokenMs - firstTokenMs) / (tokens - 1);
}

/**
 * Best available output token count: the server's usage, else the injected tokenizer over the whole text,
 * else one token per content chunk (exact for servers that stream one token per chunk, an undercount otherwise).
 */
export function countOutputTokens(
  usageCompletionTokens: number | null,
  text: string,
  contentChunks: number,
  countTokens?: CountTokens,
): { tokens: number; source: TokenCountSource } {
  if (usageCompletionTokens !== null) return { tokens: usageCompletionTokens, source: 'usage' };
  if (countTokens) {
    try {
      const n = countTokens(text);
      if (Number.isInteger(n) && n >= 0) return { tokens: n, source: 'tokenizer' };
    } catch {
      // A failing tokenizer falls back to counting chunks, which the source field then says.
    }
  }
  return { tokens: contentChunks, source: 'chunks' };
}

/**
 * Spreads `total` tokens over chunks whose relative sizes are `weights` (token or character counts), so each token
 * gets an arrival time. With at least as many tokens as chunks every chunk gets one (it carried text, so it held
 * part of a token) and the rest go where the weights put more than one; otherwise the weights alone decide and
 * some chunks get none. Cumulative rounding keeps the sum exact.
 */
export function allocateTokens(total: number, weights: readonly number[]): number[] {
  const n = weights.length;
  if (n === 0) return [];
  const clean = weights.map((w) => (Number.isFinite(w) && w > 0 ? w : 0));
  const wsum = clean.reduce((a, b) => a + b, 0);
  const share = wsum > 0 ? clean.map((w) => (total * w) / wsum) : clean.map(() => total / n);
  const base = total >= n ? 1 : 0;
  const rest = total - base * n;
  let extra = share.map((s) => Math.max(s - base, 0));
  let esum = extra.reduce((a, b) => a + b, 0);
  if (esum <= 0) {
    extra = extra.map(() => 1);
    esum = n;
  }
  const out: number[] = [];
  let cum = 0;
  let given = 0;
  for (let i = 0; i < n; i++) {
    cum += extra[i]!;
    const upTo = i === n - 1 ? rest : Math.min(rest, Math.floor((rest * cum) / esum + 0.5));
    out.push(base + upTo - given);
    given = upTo;
  }
  return out;
}

/** Replaces every occurrence of a secret (a server could echo the key back in its text). */
export function scrub(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('[redacted]');
  return out;
}

/** Removes every secret from a message and keeps it to one short line. */
export function redact(text: string, secrets: readonly string[] = [], maxChars = 300): string {
  let out = scrub(text, secrets);
  out = out.replace(/\s+/g, ' ').trim();
  return out.length > maxChars ? `${out.slice(0, maxChars)}…` : out;
}

function causeOf(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    if (e instanceof Error) {
      const code = (e as { code?: unknown }).code;
      parts.push(typeof code === 'string' ? `${code}: ${e.message}` : e.message);
      e = (e as { cause?: unknown }).cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join(' <- ');
}

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

interface ChunkJson {
  error?: unknown;
  usage?: { completion_tokens?: unknown; prompt_tokens?: unknown } | null;
  choices?: unknown;
}

/** Generated text in one parsed chunk: completions `text`, chat `delta.content` (and reasoning deltas). */
function chunkText(chunk: ChunkJson): { text: string; finishReason: string | null } {
  let text = '';
  let finishReason: string | null = null;
  if (!Array.isArray(chunk.choices)) return { text, finishReason };
  for (const choice of chunk.choices as unknown[]) {
    if (!choice || typeof choice !== 'object') continue;
    const c = choice as { text?: unknown; delta?: unknown; finish_reason?: unknown };
    if (typeof c.text === 'string') text += c.text;
    if (c.delta && typeof c.delta === 'object') {
      const d = c.delta as { content?: unknown; reasoning_content?: unknown; reasoning?: unknown };
      // Reasoning models stream their thinking separately; those are generated tokens too.
      if (typeof d.reasoning_content === 'string') text += d.reasoning_content;
      else if (typeof d.reasoning === 'string') text += d.reasoning;
      if (typeof d.content === 'string') text += d.content;
    }
    if (typeof c.finish_reason === 'string') finishReason = c.finish_reason;
  }
  return { text, finishReason };
}

function errorMessageOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const m = (value as { message?: unknown }).message;
    if (typeof m === 'string') return m;
  }
  return JSON.stringify(value) ?? 'unknown error';
}

/**
 * Sends one streaming request and measures it. Never throws: failures come back as `state: 'errored'` with
 * whatever timings and text arrived before the failure.
 */
export async function streamRequest(spec: StreamRequestSpec): Promise<RequestMeasurement> {
  const now = spec.now ?? (() => performance.now());
  const doFetch = spec.fetch ?? fetch;
  const secrets = spec.secrets ?? [];

  const chunkTimes: number[] = [];
  const chunkTexts: string[] = [];
  let usageCompletion: number | null = null;
  let usagePrompt: number | null = null;
  let finishReason: string | null = null;
  let sendMs = now();
  let endMs = sendMs;

  const finish = (error: RequestError | null): RequestMeasurement => {
    endMs = now();
    const text = scrub(chunkTexts.join(''), secrets);
    const { tokens, source } = countOutputTokens(usageCompletion, text, chunkTexts.length, spec.countTokens);
    const weights =
      source === 'chunks'
        ? chunkTexts.map(() => 1)
        : chunkTexts.map((t) => {
            if (!spec.countTokens) return t.length;
            try {
              return spec.countTokens(t);
            } catch {
              return t.length;
            }
          });
    const perChunk = allocateTokens(tokens, weights);
    const chunks: ContentChunk[] = chunkTexts.map((t, i) => ({
      atMs: chunkTimes[i]!,
      text: scrub(t, secrets),
      tokens: perChunk[i]!,
    }));
    const firstTokenMs = chunkTimes.length > 0 ? chunkTimes[0]! : null;
    const lastTokenMs = chunkTimes.length > 0 ? chunkTimes[chunkTimes.length - 1]! : null;
    const timings: RequestTimings = {
      sendMs,
      firstTokenMs,
      endMs,
      ttftMs: firstTokenMs === null ? null : firstTokenMs - sendMs,
      itlMs: interTokenLatencyMs(firstTokenMs, lastTokenMs, tokens),
      e2eMs: endMs - sendMs,
      chunks,
      text,
      outputTokens: tokens,
      tokenCountSource: source,
      promptTokens: usagePrompt,
      finishReason,
    };
    if (error === null) return { state: 'completed', ...timings };
    return { state: 'errored', error: { ...error, message: redact(error.message, secrets) }, ...timings };
  };

  if (spec.signal?.aborted) return finish({ code: 'aborted', message: 'aborted before the request was sent' });

  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, spec.timeoutMs);
  const onAbort = (): void => controller.abort();
  spec.signal?.addEventListener('abort', onAbort, { once: true });
  const abortedError = (): RequestError | null => {
    if (timedOut) return { code: 'timeout', message: `no complete answer within ${spec.timeoutMs} ms` };
    if (spec.signal?.aborted) return { code: 'aborted', message: 'request aborted by the caller' };
    return null;
  };

  try {
    let response: Response;
    sendMs = now();
    try {
      response = await doFetch(spec.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...spec.headers },
        body: JSON.stringify(spec.body),
        signal: controller.signal,
      });
    } catch (err) {
      return finish(abortedError() ?? { code: 'connection', message: `cannot reach ${spec.url}: ${causeOf(err)}` });
    }

    if (response.status >= 400) {
      const excerpt = await readExcerpt(response);
      const aborted = abortedError();
      if (aborted) return finish(aborted);
      return finish({
        code: 'http-status',
        httpStatus: response.status,
        message: `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${excerpt ? `: ${redact(excerpt, secrets, 200)}` : ''}`,
      });
    }
    const contentType = response.headers.get('content-type') ?? '';
    if (contentType.includes('application/json')) {
      const excerpt = await readExcerpt(response);
      return finish({
        code: 'protocol',
        message: `expected an event stream, got ${contentType}: ${redact(excerpt, secrets, 200)}`,
      });
    }
    if (!response.body) return finish({ code: 'protocol', message: 'response has no body' });

    let received = 0;
    try {
      for await (const event of readSSE(response.body)) {
        const t = now();
        const data = event.data.trim();
        if (data === '[DONE]') return finish(null);
        received++;
        let parsed: unknown;
        try {
          parsed = JSON.parse(data);
        } catch {
          return finish({ code: 'malformed-json', message: `malformed JSON in stream chunk ${received}: ${redact(data, secrets, 120)}` });
        }
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
          return finish({ code: 'malformed-json', message: `stream chunk ${received} is not a JSON object: ${redact(data, secrets, 120)}` });
        }
        const chunk = parsed as ChunkJson;
        if (chunk.error !== undefined && chunk.error !== null) {
          return finish({ code: 'server-error', message: `server error in stream: ${errorMessageOf(chunk.error)}` });
        }
        if (chunk.usage && typeof chunk.usage === 'object') {
          const c = chunk.usage.completion_tokens;
          const p = chunk.usage.prompt_tokens;
          if (typeof c === 'number' && Number.isInteger(c) && c >= 0) usageCompletion = c;
          if (typeof p === 'number' && Number.isInteger(p) && p >= 0) usagePrompt = p;
        }
        const { text, finishReason: fr } = chunkText(chunk);
        if (fr !== null) finishReason = fr;
        if (text.length > 0) {
          chunkTimes.push(t);
          chunkTexts.push(text);
        }
      }
    } catch (err) {
      return finish(
        abortedError() ?? {
          code: 'stream-cut',
          message: `stream broke after ${received} chunks: ${causeOf(err)}`,
        },
      );
    }
    return finish(abortedError() ?? { code: 'stream-cut', message: `stream ended after ${received} chunks without [DONE]` });
  } finally {
    clearTimeout(timer);
    spec.signal?.removeEventListener('abort', onAbort);
  }
}
