/**
 * The one place local engines time their forward passes: every session.run becomes a ForwardTrace entry, and
 * forwardMs is their sum, so totalMs - forwardMs is the host's own overhead.
 */
import type { ForwardTrace, GenerateOutput } from './types.js';

export class ForwardTimer {
  /** performance.now() at the start of generate(); trace times are relative to it. */
  readonly t0 = performance.now();
  readonly trace: ForwardTrace[] = [];
  forwardMs = 0;

  /**
   * Runs one forward and times it. The entry is recorded by `commit` once the caller knows how many tokens the
   * forward committed (its outputs have to be read first).
   */
  async time<T>(run: () => Promise<T>): Promise<{ out: T; commit: (tokensCommitted: number) => void }> {
    const start = performance.now();
    const out = await run();
    const end = performance.now();
    return { out, commit: (tokens) => this.record(start, end, tokens) };
  }

  /** Records a forward timed elsewhere (e.g. from inside transformers.js); absolute performance.now() times. */
  record(start: number, end: number, tokensCommitted: number): void {
    this.forwardMs += end - start;
    this.trace.push({ startMs: start - this.t0, durationMs: end - start, tokensCommitted });
  }

  /** ms since t0. */
  elapsedMs(): number {
    return performance.now() - this.t0;
  }

  /** The timing part of a GenerateOutput, with totalMs measured now. */
  timing(): Pick<GenerateOutput, 'trace' | 'totalMs' | 'forwardMs'> {
    return { trace: this.trace, totalMs: this.elapsedMs(), forwardMs: this.forwardMs };
  }
}
