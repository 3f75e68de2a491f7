/**
 * Runs an engine in a worker thread: onnxruntime's session.run blocks its thread, so the main thread keeps the
 * spinner, the telemetry sampler and Ctrl-C handling alive. A crashed worker turns pending calls into error values.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UserError } from '../../util/errors.js';
import { packageRoot } from '../../util/version.js';
import type { EngineOptions, LocalEngineKind, LocalEngineSpec, StepEvent, WireOptions } from '../options.js';
import type { Engine, EngineInfo, EngineResult, GenerateRequest } from '../types.js';
import type { FromWorker, ToWorker } from './protocol.js';

function hostPath(): string {
  const here = fileURLToPath(new URL('./host.js', import.meta.url));
  // Under vitest this module is the .ts source; the worker needs the compiled file (npm test builds first).
  return existsSync(here) ? here : join(packageRoot, 'dist', 'engines', 'worker', 'host.js');
}

export interface Abortable {
  /** Ctrl-C: the running generate stops at its next forward pass and resolves as 'aborted'; later calls too. */
  abort(): void;
}

export interface WorkerEngine<K extends LocalEngineKind> extends Engine<EngineOptions<K>>, Abortable {}

/** The options' plain data for the worker, and the step callback that stays on this side. */
function splitHooks(options: EngineOptions<LocalEngineKind>): { wire: WireOptions<LocalEngineKind>; onStep?: (e: StepEvent) => void } {
  if ('onStep' in options) {
    const { onStep, shouldStop: _stop, ...wire } = options;
    return { wire, onStep };
  }
  const { shouldStop: _stop, ...wire } = options;
  return { wire };
}

export async function spawnEngine<K extends LocalEngineKind>(spec: LocalEngineSpec<K>): Promise<WorkerEngine<K>> {
  const worker = new Worker(hostPath());
  const stopBuffer = new SharedArrayBuffer(4);
  const stopFlag = new Int32Array(stopBuffer);
  const pending = new Map<number, { resolve: (r: EngineResult) => void; onStep?: (e: StepEvent) => void }>();
  let nextId = 1;
  let dead: string | null = null;
  let disposing = false;

  const failAll = (code: 'runtime' | 'aborted', message: string) => {
    for (const [id, p] of pending) {
      pending.delete(id);
      p.resolve({ ok: false, error: { code, message } });
    }
  };

  const info = await new Promise<EngineInfo>((resolve, reject) => {
    const onMessage = (m: FromWorker) => {
      if (m.type === 'ready') resolve(m.info);
      else if (m.type === 'init-error') {
        void worker.terminate();
        reject(m.userError ? new UserError(m.message, m.exitCode) : new Error(m.message));
      }
    };
    worker.on('message', onMessage);
    worker.once('error', (err) => reject(err));
    worker.once('exit', (code) => reject(new Error(`engine worker exited (code ${code}) while loading`)));
    worker.postMessage({ type: 'init', spec, stopFlag: stopBuffer } satisfies ToWorker);
  });
  worker.removeAllListeners('error');
  worker.removeAllListeners('exit');

  worker.on('message', (m: FromWorker) => {
    if (m.type === 'step') pending.get(m.id)?.onStep?.(m.event);
    else if (m.type === 'result') {
      const p = pending.get(m.id);
      pending.delete(m.id);
      p?.resolve(m.result);
    }
  });
  worker.on('error', (err) => {
    dead = `engine worker crashed: ${err.message}`;
    failAll('runtime', dead);
  });
  worker.on('exit', (code) => {
    dead ??= disposing ? 'engine disposed' : `engine worker exited unexpectedly (code ${code})`;
    failAll(disposing ? 'aborted' : 'runtime', dead);
  });

  return {
    info,
    generate(request: GenerateRequest, options: EngineOptions<K>): Promise<EngineResult> {
      if (dead) return Promise.resolve({ ok: false, error: { code: 'runtime', message: dead } });
      const { wire, onStep } = splitHooks(options);
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, { resolve, onStep });
        worker.postMessage({ type: 'generate', id, request, options: wire, wantSteps: Boolean(onStep) } satisfies ToWorker);
      });
    },
    async dispose() {
      if (dead) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => resolve(), 5000);
        worker.on('message', (m: FromWorker) => {
          if (m.type === 'disposed') {
            clearTimeout(timer);
            resolve();
          }
        });
        worker.postMessage({ type: 'dispose' } satisfies ToWorker);
      });
      disposing = true;
      await worker.terminate();
    },
    abort() {
      Atomics.store(stopFlag, 0, 1);
    },
  };
}

/** A worker engine beside its kind, as a union by kind (what callers holding a kind from a config need). */
export type TaggedWorkerEngine<K extends LocalEngineKind = LocalEngineKind> = { [P in K]: { kind: P; engine: WorkerEngine<P> } }[K];

export async function spawnTagged<K extends LocalEngineKind>(spec: LocalEngineSpec<K>): Promise<TaggedWorkerEngine<K>> {
  const engine: WorkerEngine<K> = await spawnEngine(spec);
  return { kind: spec.kind, engine };
}
