/**
 * The engine contract by kind: which per-call options each engine kind takes, and where a local engine's model is.
 * Adding an engine kind is one member of EngineOptionsByKind (plus one case in factory.ts for a local engine).
 * This module imports only leaf modules (the pure sampler, the zod HTTP options), so every engine can import it.
 */
import type { EngineKind } from '../config/kinds.js';
import type { Device } from '../config/schema.js';
import type { LladaOptions } from './llada/sampler.js';
import type { OpenAIGenerateOptions } from './openai/options.js';
import type { SessionTuning } from './session.js';

/** The --device choices, listed once in the config schema. */
export type DeviceRequest = Device;

/**
 * Cooperative cancellation, checked between forward passes. onnxruntime cannot be interrupted inside session.run,
 * and terminating a worker thread during one aborts the process, so Ctrl-C asks engines to stop at the next step.
 */
export interface Cancellable {
  shouldStop?: () => boolean;
}

/** One LLaDA step as the live view sees it. */
export interface StepEvent {
  /** Global step index (0-based) and the block it belongs to. */
  step: number;
  block: number;
  /** Generated region of every row after this step (mask id where still masked). */
  tokens: number[][];
  committed: number;
  maskId: number;
}

export interface LladaGenerateOptions extends LladaOptions, Cancellable {
  /** Called after every step (the CLI's live view). Keep it cheap: it runs on the hot path. */
  onStep?: (event: StepEvent) => void;
  /** Tests only: with a cache mode, rebuild the cache at every call (must reproduce the uncached tokens). */
  freshCache?: boolean;
  /**
   * With a cache mode: 'device' (default) runs each block in one onnxruntime call (an ONNX Loop, the cache stays on
   * the device); 'host' drives every call from here, the readable reference. Random remasking is host-only.
   */
  cacheLoop?: 'device' | 'host';
}

export interface ArGenerateOptions extends Cancellable {
  /** fixed: exactly genLength tokens per row, EOS ignored (throughput runs); natural: stop at EOS. */
  mode: 'fixed' | 'natural';
}

/** Per-call options of each engine kind. */
export interface EngineOptionsByKind {
  llada: LladaGenerateOptions;
  ar: ArGenerateOptions;
  'ar-ort': ArGenerateOptions;
  'ar-loop': ArGenerateOptions;
  openai: OpenAIGenerateOptions;
}

/** The kinds are the zod enum in config/kinds.ts; this fails to compile when the table above lists other kinds. */
export type { EngineKind };
export type EngineOptionsCoverEveryKind = Assert<Same<keyof EngineOptionsByKind, EngineKind>>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
/** Engines that run in this process (in a worker thread) over a model folder. */
export type LocalEngineKind = Exclude<EngineKind, 'openai'>;
export type EngineOptions<K extends EngineKind> = EngineOptionsByKind[K];

/** Options as they cross to a worker thread: plain data, the callbacks stay on the calling side. */
export type WireOptions<K extends LocalEngineKind> = K extends LocalEngineKind ? Omit<EngineOptions<K>, 'shouldStop' | 'onStep'> : never;

/** Where a local engine's model is and how its session runs: the same for every local kind. */
export interface EngineLocation {
  /** Model folder (or, for `ar`, a Hugging Face hub id). */
  modelDir: string;
  device: DeviceRequest;
  session?: SessionTuning;
}

export interface LocalEngineSpec<K extends LocalEngineKind = LocalEngineKind> extends EngineLocation {
  kind: K;
}
