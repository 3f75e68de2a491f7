/**
 * The retry policy for 429 Too Many Requests, the one status a benchmark should wait out rather than count:
 * at most RETRY_POLICY.maxRetries retries, waiting what Retry-After asks (seconds or an HTTP date; 1 s when absent),
 * and at most maxTotalWaitMs of waiting per request in all. A wait that would pass that budget is not started: the
 * request fails at once as `http-429`. Waits end early when the caller aborts. Every other status fails at once.
 */

export const RETRY_POLICY = { maxRetries: 3, maxTotalWaitMs: 10_000, defaultWaitMs: 1_000 } as const;

/** Retry-After as ms to wait: delta-seconds or an HTTP date (RFC 9110 10.2.3); null when absent or unreadable. */
export function retryAfterMs(header: string | null, nowEpochMs: number = Date.now()): number | null {
  if (header === null) return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - nowEpochMs);
}

/** The next wait, or why there is none. `waitedMs` is what this request already waited. */
export function nextWait(
  retries: number,
  waitedMs: number,
  header: string | null,
  nowEpochMs: number = Date.now(),
): { waitMs: number } | { giveUp: string } {
  if (retries >= RETRY_POLICY.maxRetries) return { giveUp: `still 429 after ${retries} retries` };
  const waitMs = retryAfterMs(header, nowEpochMs) ?? RETRY_POLICY.defaultWaitMs;
  if (waitedMs + waitMs > RETRY_POLICY.maxTotalWaitMs) {
    return { giveUp: `Retry-After asks ${(waitMs / 1000).toFixed(1)} s, past the ${RETRY_POLICY.maxTotalWaitMs / 1000} s retry budget (${(waitedMs / 1000).toFixed(1)} s used)` };
  }
  return { waitMs };
}

/** Sleeps ms; resolves false at once when the signal aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
