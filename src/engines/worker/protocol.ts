/** Messages between the main thread and an engine worker. Options cross as plain data (no functions). */
import type { LocalEngineKind, LocalEngineSpec, StepEvent, WireOptions } from '../options.js';
import type { EngineInfo, EngineResult, GenerateRequest } from '../types.js';

export type ToWorker =
  | { type: 'init'; spec: LocalEngineSpec; stopFlag: SharedArrayBuffer }
  | { type: 'generate'; id: number; request: GenerateRequest; options: WireOptions<LocalEngineKind>; wantSteps: boolean }
  | { type: 'dispose' };

export type FromWorker =
  | { type: 'ready'; info: EngineInfo }
  | { type: 'init-error'; message: string; userError: boolean; exitCode: number }
  | { type: 'step'; id: number; event: StepEvent }
  | { type: 'result'; id: number; result: EngineResult }
  | { type: 'disposed' };
