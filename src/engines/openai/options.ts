/**
 * Configuration of the `openai` engine: the run config's HTTP block (src/config/http.ts, defined once) plus the
 * server's base URL, which the run config carries as the side's `model`.
 */
import { z } from 'zod';
import { HttpSide } from '../../config/http.js';

export const OpenAIEngineConfig = HttpSide.extend({
  /**
   * Base URL as the OpenAI SDKs take it, e.g. `http://127.0.0.1:8000/v1`. `/completions` or
   * `/chat/completions` is appended; a bare origin (`http://host:8000`) gets `/v1` first.
   */
  baseUrl: z.url({ protocol: /^https?$/ }).refine((u) => {
    // zod runs refinements even after the url check failed; that failure is already reported.
    if (!URL.canParse(u)) return true;
    const url = new URL(u);
    return url.username === '' && url.password === '';
  }, 'baseUrl must not carry credentials: put the key in an environment variable and name it in apiKeyEnv'),
}).strict();

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
