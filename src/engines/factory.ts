/**
 * LocalEngineSpec -> Engine, in the current thread. Local engines are normally created through spawnEngine
 * (src/engines/worker/client.ts) so that session.run never blocks the main event loop; the `openai` engine does
 * no blocking work and is created directly (createOpenAIEngine).
 */
import type { EngineLocation, EngineOptions, LocalEngineKind, LocalEngineSpec } from './options.js';
import type { Engine } from './types.js';

type Factories = { [K in LocalEngineKind]: (location: EngineLocation) => Promise<Engine<EngineOptions<K>>> };

/** One entry per local engine kind; each module is imported only when its engine is created. */
const FACTORIES: Factories = {
  llada: async (location) => (await import('./llada/engine.js')).createLladaEngine(location),
  ar: async (location) => (await import('./transformers/engine.js')).createTransformersEngine(location),
  'ar-ort': async (location) => (await import('./ar-ort/engine.js')).createOrtArEngine(location),
  'ar-loop': async (location) => (await import('./ar-loop/engine.js')).createArLoopEngine(location),
};

export function createEngine<K extends LocalEngineKind>(spec: LocalEngineSpec<K>): Promise<Engine<EngineOptions<K>>> {
  const create: Factories[K] = FACTORIES[spec.kind];
  return create(spec);
}
