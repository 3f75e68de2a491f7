/**
 * EngineSpec -> Engine, in the current thread. In-process engines that call onnxruntime are normally created
 * through spawnEngine (src/engines/worker/client.ts) so that session.run never blocks the main event loop.
 */
import type { SessionTuning } from './session.js';
import type { DeviceRequest, Engine } from './types.js';
import type { OpenAIEngineConfigInput } from './openai/options.js';

export type LocalEngineKind = 'llada' | 'ar' | 'ar-ort' | 'ar-loop';

export type EngineSpec =
  | { kind: LocalEngineKind; modelDir: string; device: DeviceRequest; session?: SessionTuning }
  | { kind: 'openai'; config: OpenAIEngineConfigInput };

export async function createEngine(spec: EngineSpec): Promise<Engine<any>> {
  switch (spec.kind) {
    case 'llada': {
      const { createLladaEngine } = await import('./llada/engine.js');
      return createLladaEngine(spec);
    }
    case 'ar': {
      const { createTransformersEngine } = await import('./transformers/engine.js');
      return createTransformersEngine(spec);
    }
    case 'ar-ort': {
      const { createOrtArEngine } = await import('./ar-ort/engine.js');
      return createOrtArEngine(spec);
    }
    case 'ar-loop': {
      const { createArLoopEngine } = await import('./ar-loop/engine.js');
      return createArLoopEngine(spec);
    }
    case 'openai': {
      const { createOpenAIEngine } = await import('./openai/engine.js');
      return createOpenAIEngine(spec.config);
    }
  }
}
