/** Keeping API keys out of everything a request leaves behind, and errors to one short line. */

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

/** An error and its causes on one line (undici wraps the socket error: "fetch failed <- ECONNREFUSED: ..."). */
export function causeOf(err: unknown): string {
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
