/**
 * Configuration of the `openai` engine: any server that speaks OpenAI's streaming completions or chat API
 * (vLLM, SGLang, llama.cpp server, TGI, Mercury). The API key is never part of the config: only the NAME of the
 * environment variable that holds it, so configs and results.json can be shared without leaking it.
 */
import { z } from 'zod';

export const OpenAIEngineConfig = z
  .object({
    /**
     * Base URL as the OpenAI SDKs take it, e.g. `http://127.0.0.1:8000/v1`. `/completions` or
     * `/chat/completions` is appended; a bare origin (`http://host:8000`) gets `/v1` first.
     */
    baseUrl: z
      .url({ protocol: /^https?$/ })
      .refine((u) => {
        // zod runs refinements even after the url check failed; that failure is already reported.
        if (!URL.canParse(u)) return true;
        const url = new URL(u);
        return url.username === '' && url.password === '';
      }, 'baseUrl must not carry credentials: put the key in an environment variable and name it in apiKeyEnv'),
    /** Model name the server knows (the request's `model` field). */
    model: z.string().min(1),
    endpoint: z.enum(['completions', 'chat']).default('completions'),
    /** NAME of the environment variable holding the API key (sent as `Authorization: Bearer <key>`). */
    apiKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'apiKeyEnv is the name of an environment variable, not the key itself')
      .optional(),
    /** Per request, connect to last byte. */
    timeoutMs: z.number().int().positive().default(60_000),
    /** A load run whose failed-request share exceeds this is marked failed. */
    maxErrorRate: z.number().min(0).max(1).default(0.05),
    /**
     * Extra request body fields (e.g. `top_p`, vendor knobs). They may override `temperature` but never the fields
     * the measurement depends on (model, prompt/messages, max_tokens, stream, stream_options, ignore_eos, min_tokens).
     */
    extraBody: z.record(z.string(), z.unknown()).optional(),
    /**
     * Fixed-length generation: send `ignore_eos: true` and `min_tokens = max_tokens` (vLLM and SGLang honour them),
     * so the server generates exactly genLength tokens like the local AR engine in fixed mode.
     */
    ignoreEos: z.boolean().default(false),
  })
  .strict();

/** The resolved config (defaults applied). */
export type OpenAIEngineConfig = z.output<typeof OpenAIEngineConfig>;
/** What a user or config file may write (defaults optional). */
export type OpenAIEngineConfigInput = z.input<typeof OpenAIEngineConfig>;

/** Per-call options of `generate()`. */
export interface OpenAIGenerateOptions {
  /** Aborts every request of the call (e.g. Ctrl-C); aborted requests are recorded with code 'aborted'. */
  signal?: AbortSignal;
  /** Overrides the config's ignoreEos for this call. */
  ignoreEos?: boolean;
}

/** The URL requests go to for an endpoint. */
export function endpointUrl(baseUrl: string, endpoint: OpenAIEngineConfig['endpoint']): string {
  const url = new URL(baseUrl);
  let path = url.pathname.replace(/\/+$/, '');
  if (path === '') path = '/v1';
  url.pathname = `${path}${endpoint === 'chat' ? '/chat/completions' : '/completions'}`;
  return url.toString();
}
