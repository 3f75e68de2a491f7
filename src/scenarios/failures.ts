/**
 * Every failed HTTP request of a case, whatever the error rate: the first MAX_KEPT_FAILURES with their code and
 * message, the rest counted, so a case that failed 10,000 requests stays readable. Also collects the notes of
 * requests that succeeded (a stream closed without [DONE]) so the run can warn once per case.
 */
import type { RequestError, RequestMeasurement, RequestNote } from '../engines/openai/measurement.js';
import type { RequestFailure, RequestFailures, Warning } from '../results/types.js';

export const MAX_KEPT_FAILURES = 50;

/** The per-request measurements an engine result carries: HTTP engines attach them to outputs and errors. */
export function requestsOf(result: { ok: true; value: object } | { ok: false; error: object }): RequestMeasurement[] {
  const holder: object = result.ok ? result.value : result.error;
  const requests = (holder as { requests?: unknown }).requests;
  return Array.isArray(requests) ? (requests as RequestMeasurement[]) : [];
}

export class FailureLog {
  private readonly kept: RequestFailure[] = [];
  private count = 0;
  private readonly noted = new Map<RequestNote, number>();

  /** One failed request; `repetition` null for warmups. Aborted requests (Ctrl-C, end of a load run) are not failures. */
  add(error: RequestError, repetition: number | null): void {
    if (error.code === 'aborted') return;
    this.count++;
    if (this.kept.length < MAX_KEPT_FAILURES) this.kept.push({ code: error.code, message: error.message, repetition });
  }

  addMeasurements(requests: readonly RequestMeasurement[], repetition: number | null): void {
    for (const r of requests) {
      if (r.state === 'errored') this.add(r.error, repetition);
      for (const note of r.notes) this.noted.set(note, (this.noted.get(note) ?? 0) + 1);
    }
  }

  addNotes(notes: readonly RequestNote[]): void {
    for (const note of notes) this.noted.set(note, (this.noted.get(note) ?? 0) + 1);
  }

  /** The case's `requestFailures` field; undefined when nothing failed. */
  summary(): RequestFailures | undefined {
    if (this.count === 0) return undefined;
    return { count: this.count, kept: [...this.kept], dropped: this.count - this.kept.length };
  }

  /** Warnings for what succeeded but deserves a word, e.g. streams that closed without [DONE]. */
  warnings(caseId: string): Warning[] {
    const n = this.noted.get('no-done') ?? 0;
    if (n === 0) return [];
    return [{ code: 'http-no-done', message: `${caseId}: ${n} stream(s) closed cleanly after a finish_reason without data: [DONE]; counted as complete` }];
  }
}
