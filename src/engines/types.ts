/**
 * The one interface every engine (LLaDA diffusion, autoregressive, HTTP) implements.
 * Engines take token ids, never text: tokenization and chat templates happen once, outside, so both sides of a
 * comparison see exactly the same prompt tokens.
 */

import type { AttentionKind, DiffusionSampler, HandicapCode } from '../config/kinds.js';
import type { Family } from '../models/spec.js';
import type { EngineKind } from './options.js';

export type { Cancellable, DeviceRequest, EngineKind, EngineOptions, LocalEngineKind } from './options.js';
export type ResolvedDevice = 'cpu' | 'cuda' | 'webgpu' | 'remote';

/** One forward pass (or, for HTTP engines, one streamed chunk) as seen by the host. */
export interface ForwardTrace {
  /** ms since the start of generate(). */
  startMs: number;
  durationMs: number;
  /** Tokens (summed over batch rows) that this forward committed to the output. */
  tokensCommitted: number;
}

/** Options shared by every engine. Engine-specific knobs live in the engine's own options type. */
export interface GenerateRequest {
  /** Unpadded prompt token ids, one array per batch row. */
  prompts: number[][];
  /** New tokens per row: diffusion fills exactly this many positions; AR in fixed mode produces exactly this many. */
  genLength: number;
  /** The user text each row came from, before any chat template (HTTP chat endpoints send this). */
  promptTexts?: string[];
}

export interface GenerateOutput {
  /** Generated token ids per row (prompt excluded); empty rows over HTTP, where ids never come back. */
  tokens: number[][];
  /** Per row: generated tokens (= the row's length in `tokens` for local engines). Every count reported uses this. */
  generatedTokenCounts: number[];
  /**
   * The rows whose request failed while others succeeded (HTTP), with the engine's code and message; such a row
   * counts 0 generated tokens. Empty for local engines, which fail the whole call instead.
   */
  failures: RowFailure[];
  /** Per row: how many generated tokens are useful (up to, not including, the first EOS/EoT). */
  usefulTokens: number[];
  /** Forward passes in order. NFE = trace.length. */
  trace: ForwardTrace[];
  /** Wall time of the whole call, ms. */
  totalMs: number;
  /** AR only: per row, ms since start at which each generated token became available. */
  tokenTimesMs?: number[][];
  /** Bytes copied between host and device per forward (0 on CPU); disclosed as a handicap where it applies. */
  hostDeviceBytesPerForward?: number;
  /** Sum of time spent inside session.run (ms); totalMs - forwardMs is host overhead. */
  forwardMs: number;
}

/** One failed request of a call. */
export interface RowFailure {
  row: number;
  /** The engine's own code, e.g. 'stream-cut', 'http-status', 'timeout'. */
  code: string;
  /** One line. */
  message: string;
}

export interface EngineError {
  code: 'invalid-options' | 'model' | 'device' | 'runtime' | 'http' | 'timeout' | 'aborted';
  message: string;
}

export type EngineResult = { ok: true; value: GenerateOutput } | { ok: false; error: EngineError };

/** What an engine tells about itself; goes into results as the comparison's conditions. */
export interface EngineInfo {
  kind: EngineKind;
  /** Model folder, preset or URL. */
  model: string;
  family: Family | 'remote';
  device: ResolvedDevice;
  /** Execution provider actually used, e.g. 'cpu', 'cuda', 'webgpu', or 'http'. */
  executionProvider: string;
  dtype: 'fp32' | 'fp16' | 'unknown';
  /** True when weights are synthetic (seeded random): speed is real, text is gibberish. */
  synthetic: boolean;
  /** Things that make this engine slower than it could be, stated so readers can judge fairness. */
  handicaps: string[];
  /** One code per entry of `handicaps`, same order: what readers judge fairness on (never the prose). */
  handicapCodes: HandicapCode[];
  /** Parameter count of the model (local engines; unknown over HTTP). */
  parameters?: number;
  /** Why the device was chosen (e.g. "auto: CUDA provider not installed, using CPU"). */
  deviceNote?: string;
  eosTokenIds: number[];
  maxPositions?: number;
  /** Attention kernel of the graph a local engine runs; a difference between the two sides is a listed handicap. */
  attention?: AttentionKind;
  /** How per-token times are obtained when they are not observed token by token (ar-loop). */
  timingNote?: string;
  /** Diffusion engines: the sampler that decodes the model (its family adapter's choice). */
  sampler?: DiffusionSampler;
}

export const ABORTED: EngineResult = { ok: false, error: { code: 'aborted', message: 'interrupted' } };

/** An engine taking `Options` per call; `Engine<EngineOptions<K>>` is the engine of kind K. */
export interface Engine<Options> {
  readonly info: EngineInfo;
  generate(request: GenerateRequest, options: Options): Promise<EngineResult>;
  dispose(): Promise<void>;
}

/** A runtime failure as an error value, first line only (native messages can run to pages). */
export function runtimeError(source: string, err: unknown): EngineResult {
  return { ok: false, error: { code: 'runtime', message: `${source}: ${err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)}` } };
}

/** What a local engine adds to its forwards' timing (see ForwardTimer) when it completes. */
export type LocalOutputExtras = Pick<GenerateOutput, 'tokenTimesMs' | 'hostDeviceBytesPerForward'>;

/**
 * A local engine's successful result: every row's ids are its generated tokens, useful tokens are counted up to
 * the first stop id of each row, and nothing failed (a local failure fails the whole call).
 */
export function completed(
  tokens: number[][],
  stopIds: readonly number[],
  timing: Pick<GenerateOutput, 'trace' | 'totalMs' | 'forwardMs'>,
  extras: LocalOutputExtras = {},
): EngineResult {
  return {
    ok: true,
    value: {
      tokens,
      generatedTokenCounts: tokens.map((t) => t.length),
      failures: [],
      usefulTokens: tokens.map((t) => firstStopIndex(t, stopIds)),
      ...timing,
      ...extras,
    },
  };
}

export function firstStopIndex(tokens: number[], stopIds: readonly number[]): number {
  const i = tokens.findIndex((t) => stopIds.includes(t));
  return i < 0 ? tokens.length : i;
}
