/**
 * A hostile OpenAI-compatible server for tests (node:http, loopback only, port 0). It streams completions in
 * OpenAI's SSE chunk format for /v1/completions and /v1/chat/completions, with scripted faults: slow (known
 * delays), hung (no answer), HTTP errors (429 with Retry-After), socket destroyed midway, malformed chunks, a 200
 * that is HTML or JSON instead of an event stream, no usage chunk, no [DONE] after finish_reason, a clean close
 * before any finish_reason, bytes split across TCP writes mid-event and mid-UTF-8 character. Every response is
 * bounded in time (MAX_RESPONSE_MS): whatever the script, the server destroys a socket it still holds by then.
 * It records what it received, when it wrote each content chunk (performance.now, same clock as the client in the
 * same process) and how many requests were in flight at once.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** No response lives longer than this, so a test can never hang on the server. */
export const MAX_RESPONSE_MS = 10_000;

export interface StreamScript {
  /** Content pieces, one chunk each. */
  tokens?: string[];
  /** ms before the first content chunk (headers, and chat's role chunk, go out at once). */
  firstDelayMs?: number;
  /** ms between content chunks. */
  interDelayMs?: number;
  /** Send the usage chunk when the client asked for it (stream_options.include_usage). Default true. */
  usage?: boolean;
  /** usage.completion_tokens; default tokens.length. */
  usageCompletionTokens?: number;
  /** Answer with this HTTP status and errorBody instead of a stream. */
  status?: number;
  /** Retry-After header sent with `status` (e.g. '1' or an HTTP date). */
  retryAfter?: string;
  /** Hold the request without answering for this long (bounded by MAX_RESPONSE_MS), then destroy the socket. */
  hangMs?: number;
  /** Content type of a normal stream; default 'text/event-stream'. */
  streamContentType?: string;
  /** Answer 200 with this content type and `body` instead of a stream (e.g. an HTML error page from a proxy). */
  contentType?: string;
  body?: string;
  /** Error body; '{auth}' is replaced by the Authorization header received (a server that echoes keys). */
  errorBody?: string;
  /** Destroy the socket after this many content chunks. */
  cutAfter?: number;
  /** Send a malformed JSON data line after this many content chunks. */
  malformedAfter?: number;
  /** Send `{"error": {...}}` in the stream after this many content chunks. */
  streamErrorAfter?: number;
  /** After the finish_reason chunk (and usage), end the response cleanly without `data: [DONE]`. */
  omitDone?: boolean;
  /** End the response cleanly after the content chunks: no finish_reason, no usage, no [DONE]. */
  closeBeforeFinish?: boolean;
  /** Write each event in 5-byte pieces (or `pieceBytes`), with CRLF line ends and comment lines. */
  fragment?: boolean;
  /** Piece size of `fragment`; 1 splits every multi-byte character across writes. */
  pieceBytes?: number;
  /** Answer 200 with a JSON body instead of a stream. */
  jsonInsteadOfStream?: boolean;
}

export interface RecordedRequest {
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
  receivedMs: number;
  /** performance.now() right after each content chunk was written. */
  contentWrittenMs: number[];
}

export type ScriptSource = StreamScript | ((requestIndex: number, body: Record<string, unknown>) => StreamScript);

export interface HostileServer {
  /** e.g. http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  port: number;
  requests: RecordedRequest[];
  readonly inFlight: number;
  readonly maxInFlight: number;
  setScript(script: ScriptSource): void;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const DEFAULT_TOKENS = ['Hello', ' world', ',', ' fine', ' day'];

export async function startHostileServer(initial: ScriptSource = {}): Promise<HostileServer> {
  let script: ScriptSource = initial;
  const requests: RecordedRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const receivedMs = performance.now();
    if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/v1/models') {
      // The model list (doctor --url); not recorded, so request indices count completions only.
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'm', object: 'model' }] }));
      return;
    }
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const body = JSON.parse(raw || '{}') as Record<string, unknown>;
    const path = (req.url ?? '').split('?')[0]!;
    const record: RecordedRequest = { path, authorization: req.headers.authorization, body, receivedMs, contentWrittenMs: [] };
    const index = requests.length;
    requests.push(record);
    const s = typeof script === 'function' ? script(index, body) : script;

    let closed = false;
    res.on('close', () => {
      closed = true;
    });

    if (path !== '/v1/completions' && path !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    if (s.hangMs !== undefined) {
      // Ends early when the client gives up, so a hung request never outlives the test that made it.
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(s.hangMs!, MAX_RESPONSE_MS));
        res.once('close', () => {
          clearTimeout(t);
          resolve();
        });
      });
      res.destroy();
      return;
    }
    if (s.status !== undefined && s.status >= 400) {
      const text = (s.errorBody ?? `{"error":{"message":"scripted failure ${s.status}"}}`).replace(
        '{auth}',
        req.headers.authorization ?? '',
      );
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (s.retryAfter !== undefined) headers['retry-after'] = s.retryAfter;
      res.writeHead(s.status, headers).end(text);
      return;
    }
    if (s.contentType !== undefined) {
      res.writeHead(200, { 'content-type': s.contentType }).end(s.body ?? '');
      return;
    }
    if (s.jsonInsteadOfStream) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices":[{"text":"whole"}]}');
      return;
    }

    const chat = path === '/v1/chat/completions';
    const model = String(body.model ?? 'test-model');
    const tokens = s.tokens ?? DEFAULT_TOKENS;
    const base = { id: 'cmpl-test', object: chat ? 'chat.completion.chunk' : 'text_completion', created: 1_700_000_000, model };
    const choice = (text: string | null, finish: string | null, role = false): unknown =>
      chat
        ? { index: 0, delta: role ? { role: 'assistant', content: '' } : text === null ? {} : { content: text }, finish_reason: finish }
        : { index: 0, text: text ?? '', logprobs: null, finish_reason: finish };

    res.writeHead(200, { 'content-type': s.streamContentType ?? 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.socket?.setNoDelay(true);
    res.flushHeaders();

    const writeRaw = async (text: string): Promise<void> => {
      if (closed) return;
      if (!s.fragment) {
        res.write(text);
        return;
      }
      const bytes = Buffer.from(text.replace(/\n/g, '\r\n'));
      const step = s.pieceBytes ?? 5;
      for (let i = 0; i < bytes.length && !closed; i += step) {
        res.write(bytes.subarray(i, i + step));
        await new Promise((r) => setImmediate(r));
      }
    };
    const send = async (payload: unknown): Promise<void> => {
      await writeRaw(`${s.fragment ? ': keep-alive\n' : ''}data: ${JSON.stringify(payload)}\n\n`);
    };

    if (chat) await send({ ...base, choices: [choice(null, null, true)] });
    for (let i = 0; i < tokens.length; i++) {
      if (i === s.cutAfter) {
        await sleep(30); // let the chunks already written reach the client first
        res.socket?.destroy();
        return;
      }
      if (i === s.malformedAfter) {
        await writeRaw('data: {"choices": [{"text": "oops"\n\n');
        res.end();
        return;
      }
      if (i === s.streamErrorAfter) {
        await send({ error: { message: 'scripted in-stream error', type: 'server_error' } });
        res.end();
        return;
      }
      await sleep(i === 0 ? (s.firstDelayMs ?? 0) : (s.interDelayMs ?? 0));
      if (closed) return;
      await send({ ...base, choices: [choice(tokens[i]!, null)] });
      record.contentWrittenMs.push(performance.now());
    }
    if (s.cutAfter !== undefined && s.cutAfter >= tokens.length) {
      await sleep(30);
      res.socket?.destroy();
      return;
    }
    if (s.closeBeforeFinish) {
      res.end();
      return;
    }
    await send({ ...base, choices: [choice(chat ? null : '', 'length')] });
    const wantsUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    if (wantsUsage && s.usage !== false) {
      // Token ids count one each; text counts as a ~4-characters-per-token tokenizer would.
      const text = typeof body.prompt === 'string' ? body.prompt : Array.isArray(body.messages) ? (body.messages as { content?: unknown }[]).map((m) => String(m.content ?? '')).join('') : '';
      const promptTokens = Array.isArray(body.prompt) ? body.prompt.length : Math.max(1, Math.ceil(text.length / 4));
      const completion = s.usageCompletionTokens ?? tokens.length;
      await send({
        ...base,
        choices: [],
        usage: { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion },
      });
    }
    if (!s.omitDone) await writeRaw('data: [DONE]\n\n');
    res.end();
  };

  const server = createServer((req, res) => {
    const limit = setTimeout(() => res.destroy(), MAX_RESPONSE_MS);
    res.on('close', () => clearTimeout(limit));
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let counted = true;
    res.on('close', () => {
      if (counted) inFlight--;
      counted = false;
    });
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    setScript(next) {
      script = next;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
