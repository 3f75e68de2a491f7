/** Messages between the main thread and an engine worker. Options cross as plain data (no functions). */
import type { EngineSpec } from '../factory.js';
import type { EngineInfo, EngineResult, GenerateRequest } from '../types.js';

export type ToWorker =
  | { type: 'init'; spec: EngineSpec; stopFlag: SharedArrayBuffer }
  | { type: 'generate'; id: number; request: GenerateRequest; options: unknown; wantSteps: boolean }
  | { type: 'dispose' };

export type FromWorker =
  | { type: 'ready'; info: EngineInfo }
  | { type: 'init-error'; message: string; userError: boolean; exitCode: number }
  | { type: 'step'; id: number; event: unknown }
  | { type: 'result'; id: number; result: EngineResult }
  | { type: 'disposed' };
