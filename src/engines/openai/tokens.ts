/** Token accounting for streamed answers: how many tokens, from which source, and when each one arrived. */
import type { CountTokens, TokenCountSource } from './measurement.js';
import { at } from '../../util/indexing.js';

/**
 * Inter-token latency: (last token time - first token time) / (tokens - 1).
 * null when tokens <= 1 (no interval exists) or no token time was seen. When every token arrived in one chunk,
 * the result is 0: the tokens really did become available together.
 */
export function interTokenLatencyMs(firstTokenMs: number | null, lastTokenMs: number | null, tokens: number): number | null {
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
    cum += at(extra, i, 'extra');
    const upTo = i === n - 1 ? rest : Math.min(rest, Math.floor((rest * cum) / esum + 0.5));
    out.push(base + upTo - given);
    given = upTo;
  }
  return out;
}

/** Per-chunk weights for allocateTokens: tokenizer counts when the total came from a tokenizer or usage, else 1 each. */
export function chunkWeights(texts: readonly string[], source: TokenCountSource, countTokens?: CountTokens): number[] {
  if (source === 'chunks') return texts.map(() => 1);
  return texts.map((t) => {
    if (!countTokens) return t.length;
    try {
      return countTokens(t);
    } catch {
      return t.length;
    }
  });
}
