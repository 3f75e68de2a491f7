/**
 * The `openai` engine: any OpenAI-compatible server (vLLM, SGLang, llama.cpp server, TGI, Mercury) measured over
 * HTTP. One batch row = one streamed request; the rows of one generate() call run concurrently, so batch B means
 * B requests in flight. Token ids never come back over HTTP: `tokens` rows stay empty and the counts live in
 * `generatedTokenCounts` (OpenAIGenerateOutput).
 */
import { performance } from 'node:perf_hooks';
import { UserError } from '../../util/errors.js';
import type { Engine, EngineError, EngineInfo, ForwardTrace, GenerateOutput, GenerateRequest } from '../types.js';
import {
  OpenAIEngineConfig,
  endpointUrl,
  type OpenAIEngineConfigInput,
  type OpenAIGenerateOptions,
} from './options.js';
import type { CountTokens, RequestError, RequestMeasurement, TokenCountSource } from './measurement.js';
import { streamRequest } from './request.js';
import { at } from '../../util/indexing.js';

export interface OpenAIEngineDeps {
  /** Where apiKeyEnv is looked up; default process.env. Read at every request, never stored. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Output token count when the server sends no usage (see TokenCountSource). */
  countTokens?: CountTokens;
  fetch?: typeof fetch;
  /** Clock in ms; default performance.now. */
  now?: () => number;
}

/**
 * GenerateOutput plus what only an HTTP engine knows. Assignable to GenerateOutput, so generic code keeps working.
 * Rows whose request failed count 0 generated tokens, have no token times and no trace entries; their partial
 * measurement (and error) stays in `requests`.
 */
export interface OpenAIGenerateOutput extends GenerateOutput {
  // Inherited fields, as this engine fills them:
  //  tokens: one empty array per row (ids never come over HTTP).
  //  usefulTokens: = generatedTokenCounts (the server stops at EOS itself unless ignoreEos).
  //  tokenTimesMs: per row, one arrival time per generated token; a chunk's time is repeated for each token it
  //    carried (see allocateTokens), so length = the row's count whenever content arrived.
  //  trace: one entry per content chunk of the successful rows (role-only, finish and usage chunks carry no
  //    token and are left out, so tokens/forward reads as tokens per chunk); startMs = the row's previous chunk
  //    (or its send time), sorted by arrival.
  //  totalMs = forwardMs: the whole call; the server's compute cannot be separated from the network here.
  /** Per row: generated tokens (ids are unknown over HTTP, so `tokens[i]` is empty). Equals usefulTokens. */
  generatedTokenCounts: number[];
  /** Per row: where the count came from. */
  tokenCountSources: TokenCountSource[];
  /** Per row: the request's full measurement (times on the generate() clock: ms since its start). */
  requests: RequestMeasurement[];
  /** Rows whose request failed (at least one row succeeded, else generate() returns ok: false). */
  failedRequests: number;
}

/** EngineError plus the per-request measurements, when requests were sent. */
export interface OpenAIEngineError extends EngineError {
  requests?: RequestMeasurement[];
}

export type OpenAIEngineResult = { ok: true; value: OpenAIGenerateOutput } | { ok: false; error: OpenAIEngineError };

/** One prompt for a single request: text when there is one, else token ids (completions only). */
export interface OpenAIPrompt {
  text?: string;
  ids?: number[];
}

export interface OpenAISendOptions extends OpenAIGenerateOptions {
  /** Clock for this request's times; default the engine's clock. */
  now?: () => number;
}

export interface OpenAIEngine extends Engine<OpenAIGenerateOptions> {
  generate(request: GenerateRequest, options?: OpenAIGenerateOptions): Promise<OpenAIEngineResult>;
  /** One streamed request, measured; never throws. Used by the closed-loop load runner. */
  send(prompt: OpenAIPrompt, genLength: number, options?: OpenAISendOptions): Promise<RequestMeasurement>;
}

/** Generated token counts of any engine's output: the HTTP counts when present, else the id rows' lengths. */
export function generatedTokenCounts(output: GenerateOutput & { generatedTokenCounts?: number[] }): number[] {
  return output.generatedTokenCounts ?? output.tokens.map((row) => row.length);
}

/** The engine-level error of a call whose rows all failed; the request's own code leads the message. */
function engineError(error: RequestError, rows: number): Pick<EngineError, 'code' | 'message'> {
  const prefix = rows > 1 ? `all ${rows} requests failed; row 0: ` : '';
  switch (error.code) {
    case 'timeout':
      return { code: 'timeout', message: `${prefix}${error.message}` };
    case 'aborted':
      return { code: 'aborted', message: `${prefix}${error.message}` };
    case 'invalid-request':
      return { code: 'invalid-options', message: `${prefix}${error.message}` };
    default:
      return { code: 'http', message: `${prefix}${error.code}: ${error.message}` };
  }
}

function invalidRequest(message: string, now: number): RequestMeasurement {
  return {
    state: 'errored',
    error: { code: 'invalid-request', message },
    sendMs: now,
    firstTokenMs: null,
    endMs: now,
    ttftMs: null,
    itlMs: null,
    e2eMs: 0,
    chunks: [],
    text: '',
    outputTokens: 0,
    tokenCountSource: 'chunks',
    promptTokens: null,
    finishReason: null,
    retries: 0,
    notes: [],
  };
}

export function createOpenAIEngine(config: OpenAIEngineConfigInput, deps: OpenAIEngineDeps = {}): OpenAIEngine {
  const parsed = OpenAIEngineConfig.safeParse(config);
  const clock = deps.now ?? (() => performance.now());
  const env = deps.env ?? process.env;
  const disposed = new AbortController();
  const cfg = parsed.success ? parsed.data : null;
  const configError = parsed.success
    ? null
    : `invalid openai engine config: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`;
  // Refused once, here, rather than failing every request of every case later.
  if (configError) throw new UserError(configError);

  const info: EngineInfo = {
    kind: 'openai',
    model: cfg?.model ?? (typeof config.model === 'string' ? config.model : 'unknown'),
    family: 'remote',
    device: 'remote',
    executionProvider: 'http',
    dtype: 'unknown',
    synthetic: false,
    handicaps: ['measured over HTTP: times include the network, server queueing and SSE framing'],
    handicapCodes: ['over-http'],
    eosTokenIds: [],
    ...(cfg ? { deviceNote: `${cfg.endpoint} endpoint at ${new URL(cfg.baseUrl).origin}` } : {}),
  };

  /** The key, read from the environment at call time; returns an error message naming the variable if unset. */
  const apiKey = (): { key: string | null } | { error: string } => {
    if (!cfg?.apiKeyEnv) return { key: null };
    const key = env[cfg.apiKeyEnv];
    if (key === undefined || key === '') return { error: `environment variable ${cfg.apiKeyEnv} (apiKeyEnv) is not set` };
    return { key };
  };

  const buildBody = (prompt: OpenAIPrompt, genLength: number, ignoreEos: boolean): unknown => {
    const c = cfg!;
    const input =
      c.endpoint === 'chat'
        ? { messages: [{ role: 'user', content: prompt.text }] }
        : { prompt: prompt.text !== undefined ? prompt.text : prompt.ids };
    return {
      temperature: 0,
      ...(c.extraBody ?? {}),
      model: c.model,
      ...input,
      max_tokens: genLength,
      stream: true,
      stream_options: { include_usage: true },
      ...(ignoreEos ? { ignore_eos: true, min_tokens: genLength } : {}),
    };
  };

  const send = async (
    prompt: OpenAIPrompt,
    genLength: number,
    options: OpenAISendOptions = {},
  ): Promise<RequestMeasurement> => {
    const now = options.now ?? clock;
    if (!cfg) return invalidRequest(configError!, now());
    if (!Number.isInteger(genLength) || genLength < 1) {
      return invalidRequest(`genLength must be a positive integer, got ${genLength}`, now());
    }
    if (cfg.endpoint === 'chat' && typeof prompt.text !== 'string') {
      return invalidRequest('the chat endpoint needs prompt text (promptTexts), not token ids', now());
    }
    if (typeof prompt.text !== 'string' && !(Array.isArray(prompt.ids) && prompt.ids.length > 0)) {
      return invalidRequest('a prompt needs text or token ids', now());
    }
    const key = apiKey();
    if ('error' in key) return invalidRequest(key.error, now());
    const signal = options.signal ? AbortSignal.any([options.signal, disposed.signal]) : disposed.signal;
    return streamRequest({
      url: endpointUrl(cfg.baseUrl, cfg.endpoint),
      headers: key.key !== null ? { authorization: `Bearer ${key.key}` } : {},
      body: buildBody(prompt, genLength, options.ignoreEos ?? cfg.ignoreEos),
      timeoutMs: cfg.timeoutMs,
      signal,
      now,
      ...(deps.countTokens ? { countTokens: deps.countTokens } : {}),
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
      secrets: key.key !== null ? [key.key] : [],
    });
  };

  const generate = async (
    request: GenerateRequest,
    options: OpenAIGenerateOptions = {},
  ): Promise<OpenAIEngineResult> => {
    if (!cfg) return { ok: false, error: { code: 'invalid-options', message: configError! } };
    const rows = request.prompts.length;
    if (rows === 0) return { ok: false, error: { code: 'invalid-options', message: 'no prompts to send' } };
    if (request.promptTexts && request.promptTexts.length !== rows) {
      return {
        ok: false,
        error: {
          code: 'invalid-options',
          message: `promptTexts has ${request.promptTexts.length} rows but prompts has ${rows}`,
        },
      };
    }
    const t0 = clock();
    const now = (): number => clock() - t0;
    const requests = await Promise.all(
      request.prompts.map((ids, i) => {
        const text = request.promptTexts?.[i];
        return send(text !== undefined ? { text } : { ids }, request.genLength, { ...options, now });
      }),
    );
    const totalMs = now();

    const failed = requests.filter((r) => r.state === 'errored');
    if (failed.length === rows) {
      const first = at(failed, 0, 'failed');
      const error = first.state === 'errored' ? first.error : { code: 'stream-cut' as const, message: '' };
      return { ok: false, error: { ...engineError(error, rows), requests } };
    }

    const ok = requests.map((r) => r.state === 'completed');
    const counts = requests.map((r, i) => (ok[i] ? r.outputTokens : 0));
    const tokenTimesMs = requests.map((r, i) =>
      ok[i] ? r.chunks.flatMap((c) => Array.from({ length: c.tokens }, () => c.atMs)) : [],
    );
    const trace: ForwardTrace[] = [];
    requests.forEach((r, i) => {
      if (!ok[i]) return;
      let prev = r.sendMs;
      for (const c of r.chunks) {
        trace.push({ startMs: prev, durationMs: c.atMs - prev, tokensCommitted: c.tokens });
        prev = c.atMs;
      }
    });
    trace.sort((a, b) => a.startMs + a.durationMs - (b.startMs + b.durationMs));

    return {
      ok: true,
      value: {
        tokens: requests.map(() => []),
        usefulTokens: counts,
        generatedTokenCounts: counts,
        tokenCountSources: requests.map((r) => r.tokenCountSource),
        trace,
        totalMs,
        tokenTimesMs,
        forwardMs: totalMs,
        requests,
        failedRequests: failed.length,
        failures: requests.flatMap((r, row) => (r.state === 'errored' ? [{ row, code: r.error.code, message: r.error.message }] : [])),
      },
    };
  };

  return {
    info,
    generate,
    send,
    async dispose() {
      disposed.abort();
    },
  };
}
