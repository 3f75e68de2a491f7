/**
 * One `data:` payload of an OpenAI-style stream, validated: completions chunks carry `choices[].text`, chat chunks
 * `choices[].delta.content` (reasoning models also `reasoning_content` / `reasoning`); the final chunk may carry
 * `usage`; a failing server may send `{"error": ...}`. Unknown fields are allowed (every server adds its own).
 */
import { z } from 'zod';
import { at } from '../../util/indexing.js';

const count = z.number().int().nonnegative();

const Choice = z.looseObject({
  text: z.string().nullish(),
  delta: z
    .looseObject({
      content: z.string().nullish(),
      reasoning_content: z.string().nullish(),
      reasoning: z.string().nullish(),
    })
    .nullish(),
  finish_reason: z.string().nullish(),
});

export const StreamChunk = z.looseObject({
  choices: z.array(Choice).optional(),
  usage: z.looseObject({ completion_tokens: count.nullish(), prompt_tokens: count.nullish() }).nullish(),
  error: z.unknown().optional(),
});
export type StreamChunk = z.output<typeof StreamChunk>;

export type ParsedChunk =
  | { kind: 'chunk'; text: string; finishReason: string | null; completionTokens: number | null; promptTokens: number | null }
  | { kind: 'error'; message: string }
  | { kind: 'malformed'; message: string };

function errorMessageOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const m = (value as { message?: unknown }).message;
    if (typeof m === 'string') return m;
  }
  return JSON.stringify(value) ?? 'unknown error';
}

/** Parses and validates one data payload (not `[DONE]`). */
export function parseChunk(data: string): ParsedChunk {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { kind: 'malformed', message: 'not JSON' };
  }
  const parsed = StreamChunk.safeParse(json);
  if (!parsed.success) {
    const issue = at(parsed.error.issues, 0, 'parsed.error.issues');
    return { kind: 'malformed', message: `${issue.path.join('.') || '(root)'}: ${issue.message}` };
  }
  const chunk = parsed.data;
  if (chunk.error !== undefined && chunk.error !== null) return { kind: 'error', message: errorMessageOf(chunk.error) };
  let text = '';
  let finishReason: string | null = null;
  for (const c of chunk.choices ?? []) {
    if (c.text) text += c.text;
    // Reasoning models stream their thinking separately; those are generated tokens too.
    const d = c.delta;
    if (d) text += (d.reasoning_content ?? d.reasoning ?? '') + (d.content ?? '');
    if (c.finish_reason) finishReason = c.finish_reason;
  }
  return {
    kind: 'chunk',
    text,
    finishReason,
    completionTokens: chunk.usage?.completion_tokens ?? null,
    promptTokens: chunk.usage?.prompt_tokens ?? null,
  };
}
