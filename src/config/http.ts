/**
 * The HTTP block of a side whose model is a URL (an OpenAI-compatible server: vLLM, SGLang, llama.cpp server, TGI,
 * Mercury), defined once: the run config embeds it and the `openai` engine extends it. The API key is never part
 * of it, only the NAME of the environment variable that holds it, so configs and results.json can be shared.
 */
import { z } from 'zod';

/** chat: /chat/completions with one user turn; completions: /completions with the prompt (token ids when known). */
export const HttpEndpoint = z.enum(['completions', 'chat']);

export const HttpSide = z
  .object({
    model: z.string().min(1).describe('model name sent in requests'),
    endpoint: HttpEndpoint.default('completions'),
    apiKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'apiKeyEnv is the name of an environment variable, not the key itself')
      .optional()
      .describe('NAME of the environment variable holding the API key (sent as Authorization: Bearer; the key is never written)'),
    timeoutMs: z.number().int().positive().default(60_000).describe('per request attempt, connect to last byte'),
    ignoreEos: z
      .boolean()
      .default(true)
      .describe('fixed-length output, the same work as the local AR engines: sends ignore_eos and min_tokens = max_tokens (vLLM, SGLang); set false for servers that reject them'),
    extraBody: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('extra request fields (top_p, vendor knobs); they may override temperature but never model, prompt/messages, max_tokens, stream, stream_options, ignore_eos, min_tokens'),
  })
  .strict();

export type HttpSide = z.output<typeof HttpSide>;
export type HttpSideInput = z.input<typeof HttpSide>;
