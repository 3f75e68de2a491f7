/**
 * What one streamed request yields: its timings, the text and token count that arrived, and, when it failed, a
 * typed error. Every failure is a value (never a throw), so callers can keep each one with its code and message.
 */

/** Where a request's output token count came from, best first. */
export type TokenCountSource = 'usage' | 'tokenizer' | 'chunks';

export type RequestErrorCode =
  /** The per-request timeout fired. */
  | 'timeout'
  /** The caller's AbortSignal fired (Ctrl-C, end of a load run). */
  | 'aborted'
  /** No HTTP response: refused, DNS, TLS, reset before headers. */
  | 'connection'
  /** HTTP status >= 400, e.g. `http-500`; `http-429` once the retry policy is exhausted. */
  | `http-${number}`
  /** The server answered 200, but not with an event stream (the message names the content type it got). */
  | 'protocol'
  /** A `data:` line was not JSON, or not the shape of a completion chunk. */
  | 'malformed-chunk'
  /** The stream carried an `{"error": ...}` object. */
  | 'server-error'
  /** The stream broke, or closed before any chunk with a finish_reason (and without `data: [DONE]`). */
  | 'stream-cut'
  /** The request could not be built (bad options, missing API key variable). */
  | 'invalid-request'
  /** A caller-supplied send function threw instead of returning a measurement (a bug, recorded not rethrown). */
  | 'internal';

export interface RequestError {
  code: RequestErrorCode;
  /** One line, at most a few hundred characters; never contains the API key. */
  message: string;
}

/** Something about a request that succeeded but that a reader should know. */
export type RequestNote =
  /** The stream closed cleanly after a finish_reason without `data: [DONE]` (older llama.cpp servers, some forks). */
  'no-done';

/** One chunk that carried generated text. */
export interface ContentChunk {
  /** Arrival time on the caller's clock (ms). */
  atMs: number;
  text: string;
  /** Output tokens attributed to this chunk (see allocateTokens); they sum to outputTokens when chunks exist. */
  tokens: number;
}

export interface RequestTimings {
  /** Caller's clock (ms) just before the first attempt was sent (waits for a 429's Retry-After count in e2e). */
  sendMs: number;
  /** Caller's clock at the first chunk with generated text; null when none arrived. */
  firstTokenMs: number | null;
  /** Caller's clock when the request ended ([DONE], clean close after finish_reason, or failure). */
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
  /** 429 answers retried before this outcome (see RETRY_POLICY). */
  retries: number;
  notes: RequestNote[];
}

export type RequestMeasurement =
  | ({ state: 'completed' } & RequestTimings)
  | ({ state: 'errored'; error: RequestError } & RequestTimings);

export type CountTokens = (text: string) => number;
