/**
 * Open-loop load, as vLLM's benchmark_serving sends it: requests start at arrival times drawn in advance (Poisson:
 * exponential gaps of mean 1/rate, seeded; constant: equal gaps; rate 'inf': all at once), whether or not earlier
 * ones have finished, so a server slower than the offered rate builds a queue that shows in TTFT. Bounded: at most
 * `maxRequests` requests, none started after `durationMs`; requests still in flight `drainMs` after that are aborted
 * (cancelled, not errors). The caller's signal aborts the wait for the next arrival and every request in flight at once.
 */
import { performance } from 'node:perf_hooks';
import { mulberry32 } from '../../util/random.js';
import { type ClosedLoopCommon, type ClosedLoopResult, type LoadRequestRecord, type SendFn, loadResult, requestRecord, thrownRecord } from './load.js';
import type { OpenAIEngine } from './engine.js';
import { at } from '../../util/indexing.js';

export type ArrivalProcess = 'poisson' | 'constant';

/**
 * Start times (ms from the run's start) of `n` requests at `rate` requests/s. Poisson: cumulative exponential gaps
 * -ln(1 - u) / rate from a seeded generator (the first request waits its gap too, as in vLLM); constant: i / rate;
 * 'inf': all 0.
 */
export function arrivalTimesMs(n: number, rate: number | 'inf', process: ArrivalProcess, seed: number): number[] {
  if (rate === 'inf') return Array.from({ length: n }, () => 0);
  if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be a positive number or 'inf', got ${rate}`);
  const rand = mulberry32(seed);
  const out: number[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += process === 'constant' ? (i === 0 ? 0 : 1000 / rate) : (-Math.log(1 - rand()) / rate) * 1000;
    out.push(t);
  }
  return out;
}

/** The closed loop's limits and clock (load.ts), with arrivals in place of a worker count. */
export type OpenLoopOptions = Omit<ClosedLoopCommon, 'concurrency'> & {
  /** Requests per second, or 'inf'. */
  rate: number | 'inf';
  arrival: ArrivalProcess;
  seed: number;
  engine?: Pick<OpenAIEngine, 'send'>;
  send?: SendFn;
};

/** Runs the open loop; failed requests are records, never throws (RangeError for invalid arguments only). */
export async function runOpenLoop(o: OpenLoopOptions): Promise<ClosedLoopResult> {
  if (!Number.isInteger(o.maxRequests) || o.maxRequests < 1) throw new RangeError(`maxRequests must be a positive integer, got ${o.maxRequests}`);
  if (!Number.isInteger(o.genLength) || o.genLength < 1) throw new RangeError(`genLength must be a positive integer, got ${o.genLength}`);
  if (!(o.durationMs > 0)) throw new RangeError(`durationMs must be positive, got ${o.durationMs}`);
  if (o.prompts.length === 0) throw new RangeError('prompts must not be empty');
  const send: SendFn = o.send ?? ((p, g, opts) => o.engine!.send(p, g, opts));
  const clock = o.now ?? (() => performance.now());
  const maxErrorRate = o.maxErrorRate ?? 0.05;
  const arrivals = arrivalTimesMs(o.maxRequests, o.rate, o.arrival, o.seed).filter((t) => t <= o.durationMs);
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  if (o.signal?.aborted) stop.abort();
  const t0 = clock();
  const now = (): number => clock() - t0;
  /** Resolves at `ms` since the start, or at once when stopped. */
  const until = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const wait = ms - now();
      if (wait <= 0 || stop.signal.aborted) return resolve();
      const timer = setTimeout(done, wait);
      function done(): void {
        clearTimeout(timer);
        stop.signal.removeEventListener('abort', done);
        resolve();
      }
      stop.signal.addEventListener('abort', done, { once: true });
    });

  const records: LoadRequestRecord[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let lastEndMs = 0;
  const pending: Promise<void>[] = [];
  const one = async (index: number): Promise<void> => {
    const prompt = at(o.prompts, index % o.prompts.length, 'o.prompts');
    const startMs = now();
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let record: LoadRequestRecord;
    try {
      const m = await send(prompt, o.genLength, { signal: stop.signal, now });
      record = requestRecord(m, index, 0, startMs);
    } catch (err) {
      record = thrownRecord(err, index, 0, startMs, now());
    }
    inFlight--;
    lastEndMs = Math.max(lastEndMs, now());
    records.push(record);
  };
  let drainTimer: NodeJS.Timeout | undefined;
  try {
    for (let i = 0; i < arrivals.length; i++) {
      await until(at(arrivals, i, 'arrivals'));
      if (stop.signal.aborted) break;
      pending.push(one(i));
    }
    if (o.drainMs !== undefined && Number.isFinite(o.drainMs)) drainTimer = setTimeout(() => stop.abort(), o.drainMs);
    await Promise.all(pending);
  } finally {
    clearTimeout(drainTimer);
    o.signal?.removeEventListener('abort', onAbort);
  }
  return loadResult(records, { maxErrorRate, wallMs: lastEndMs, maxInFlight, stoppedBy: o.signal?.aborted ? 'signal' : arrivals.length < o.maxRequests ? 'duration' : 'max-requests' });
}
