/**
 * Closed-loop load: `concurrency` workers, each sending its next request as soon as its previous one finished,
 * until `maxRequests` were sent or `durationMs` passed, whichever comes first. This is how serving benchmarks
 * measure a server at a fixed number of users; throughput is output tokens over the wall time of the whole run.
 */
import { performance } from 'node:perf_hooks';
import type { OpenAIEngine, OpenAIPrompt } from './engine.js';
import type { RequestError, RequestMeasurement, RequestNote, TokenCountSource } from './measurement.js';
import { at } from '../../util/indexing.js';

export type LoadPrompt = OpenAIPrompt;

/** Sends one request and measures it; must not throw (a throw is recorded as an 'internal' error). */
export type SendFn = (
  prompt: LoadPrompt,
  genLength: number,
  options: { signal: AbortSignal; now: () => number },
) => Promise<RequestMeasurement>;

export interface ClosedLoopCommon {
  /** Request i uses prompts[i % prompts.length]. */
  prompts: LoadPrompt[];
  /** Workers, i.e. requests in flight at once. */
  concurrency: number;
  /** Upper bound on requests sent. */
  maxRequests: number;
  /** No request is started after this many ms since the start. */
  durationMs: number;
  /** max_tokens of every request. */
  genLength: number;
  /** The run is `failed` when errors / requests exceeds this. Default 0.05. */
  maxErrorRate?: number;
  /**
   * How long requests still in flight at the duration limit may take before they are aborted (and counted as
   * cancelled, not as errors). Default: unlimited, i.e. each is bounded only by its own request timeout, so the
   * run ends by durationMs + that timeout.
   */
  drainMs?: number;
  /** Stops the run early (Ctrl-C); in-flight requests are aborted and counted as cancelled. */
  signal?: AbortSignal;
  /** Clock in ms; default performance.now. */
  now?: () => number;
}

export type ClosedLoopOptions = ClosedLoopCommon &
  ({ send: SendFn; engine?: never } | { engine: Pick<OpenAIEngine, 'send'>; send?: never });

export interface LoadRequestRecord {
  /** Order in which requests were started (0-based). */
  index: number;
  /** Worker that sent it (0..concurrency-1). */
  worker: number;
  /** ms since the start of the run. */
  startMs: number;
  ttftMs: number | null;
  itlMs: number | null;
  /** Gaps between consecutive content chunks' arrivals (vLLM's ITL values), ms. */
  chunkGapsMs: number[];
  e2eMs: number;
  outputTokens: number;
  tokenCountSource: TokenCountSource;
  /** usage.prompt_tokens when the server reported it. */
  promptTokens: number | null;
  /** What a successful request should be reported with (e.g. 'no-done'). */
  notes: RequestNote[];
  /** Present when the request failed; code 'aborted' means cancelled by the run (drain limit or signal). */
  error?: RequestError;
}

export interface ClosedLoopSummary {
  /** Requests that finished, successfully or not (cancelled ones excluded). */
  requests: number;
  completed: number;
  errors: number;
  /** Aborted by the drain limit or the caller's signal; not counted as requests or errors. */
  cancelled: number;
  /** errors / requests; 0 when no request finished. */
  errorRate: number;
  maxErrorRate: number;
  /** errorRate > maxErrorRate. */
  failed: boolean;
  /** Output tokens of completed requests. */
  outputTokens: number;
  /** From the run's start to the end of its last request. */
  wallMs: number;
  outputTokensPerSec: number;
  /** Most requests in flight at once, as the client saw it. */
  maxInFlight: number;
  stoppedBy: 'max-requests' | 'duration' | 'signal';
}

export interface ClosedLoopResult {
  records: LoadRequestRecord[];
  summary: ClosedLoopSummary;
}

function checkArgs(o: ClosedLoopCommon): void {
  const posInt = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  };
  posInt('concurrency', o.concurrency);
  posInt('maxRequests', o.maxRequests);
  posInt('genLength', o.genLength);
  if (!(o.durationMs > 0) || !Number.isFinite(o.durationMs)) {
    throw new RangeError(`durationMs must be a positive finite number, got ${o.durationMs}`);
  }
  if (o.prompts.length === 0) throw new RangeError('prompts must not be empty');
  const rate = o.maxErrorRate ?? 0.05;
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`maxErrorRate must be in 0..1, got ${rate}`);
  if (o.drainMs !== undefined && !(o.drainMs >= 0)) throw new RangeError(`drainMs must be >= 0, got ${o.drainMs}`);
}

/**
 * Runs the closed loop. Failed requests are records, never throws; throws RangeError only for invalid arguments
 * (the config layer validates them first).
 */

/** The records in index order and their summary (open and closed loops alike): aborted requests are cancelled, not errors. */
export function loadResult(
  records: LoadRequestRecord[],
  o: { maxErrorRate: number; wallMs: number; maxInFlight: number; stoppedBy: ClosedLoopSummary['stoppedBy'] },
): ClosedLoopResult {
  records.sort((a, b) => a.index - b.index);
  const cancelled = records.filter((r) => r.error?.code === 'aborted').length;
  const finished = records.filter((r) => r.error?.code !== 'aborted');
  const errors = finished.filter((r) => r.error !== undefined).length;
  const outputTokens = finished.reduce((sum, r) => sum + (r.error ? 0 : r.outputTokens), 0);
  const errorRate = finished.length > 0 ? errors / finished.length : 0;
  return {
    records,
    summary: {
      requests: finished.length,
      completed: finished.length - errors,
      errors,
      cancelled,
      errorRate,
      maxErrorRate: o.maxErrorRate,
      failed: errorRate > o.maxErrorRate,
      outputTokens,
      wallMs: o.wallMs,
      outputTokensPerSec: o.wallMs > 0 ? outputTokens / (o.wallMs / 1000) : 0,
      maxInFlight: o.maxInFlight,
      stoppedBy: o.stoppedBy,
    },
  };
}

/** One request's record from its measurement (open and closed loops alike). */
export function requestRecord(m: RequestMeasurement, index: number, worker: number, startMs: number): LoadRequestRecord {
  return {
    index,
    worker,
    startMs,
    ttftMs: m.ttftMs,
    itlMs: m.itlMs,
    chunkGapsMs: m.chunks.slice(1).map((c, i) => c.atMs - at(m.chunks, i, 'm.chunks').atMs),
    e2eMs: m.e2eMs,
    outputTokens: m.outputTokens,
    tokenCountSource: m.tokenCountSource,
    promptTokens: m.promptTokens,
    notes: m.notes,
    ...(m.state === 'errored' ? { error: m.error } : {}),
  };
}

/** The record of a request whose send threw (a bug, not a server fault): no tokens, its wall time, the message. */
export function thrownRecord(thrown: unknown, index: number, worker: number, startMs: number, endMs: number): LoadRequestRecord {
  return {
    index,
    worker,
    startMs,
    ttftMs: null,
    itlMs: null,
    chunkGapsMs: [],
    e2eMs: endMs - startMs,
    outputTokens: 0,
    tokenCountSource: 'chunks',
    promptTokens: null,
    notes: [],
    error: { code: 'internal', message: `send threw: ${thrown instanceof Error ? thrown.message : String(thrown)}` },
  };
}

export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  checkArgs(options);
  const clock = options.now ?? (() => performance.now());
  const send: SendFn = options.send ?? ((prompt, genLength, o) => options.engine!.send(prompt, genLength, o));
  const maxErrorRate = options.maxErrorRate ?? 0.05;
  const t0 = clock();
  const now = (): number => clock() - t0;

  const stop = new AbortController();
  const onCallerAbort = (): void => stop.abort();
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  let drainTimer: NodeJS.Timeout | undefined;
  const durationTimer = setTimeout(() => {
    if (options.drainMs !== undefined && Number.isFinite(options.drainMs)) {
      drainTimer = setTimeout(() => stop.abort(), options.drainMs);
    }
  }, options.durationMs);

  const records: LoadRequestRecord[] = [];
  let started = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let lastEndMs = 0;

  const worker = async (w: number): Promise<void> => {
    while (started < options.maxRequests && now() < options.durationMs && !stop.signal.aborted) {
      const index = started++;
      const prompt = at(options.prompts, index % options.prompts.length, 'options.prompts');
      const startMs = now();
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      let m: RequestMeasurement | null = null;
      let thrown: unknown = null;
      try {
        m = await send(prompt, options.genLength, { signal: stop.signal, now });
      } catch (err) {
        thrown = err;
      }
      inFlight--;
      const endMs = now();
      lastEndMs = Math.max(lastEndMs, endMs);
      records.push(m === null ? thrownRecord(thrown, index, w, startMs, endMs) : requestRecord(m, index, w, startMs));
    }
  };

  try {
    await Promise.all(Array.from({ length: options.concurrency }, (_, w) => worker(w)));
  } finally {
    clearTimeout(durationTimer);
    clearTimeout(drainTimer);
    options.signal?.removeEventListener('abort', onCallerAbort);
  }
  return loadResult(records, { maxErrorRate, wallMs: lastEndMs, maxInFlight, stoppedBy: options.signal?.aborted ? 'signal' : started >= options.maxRequests ? 'max-requests' : 'duration' });
}
