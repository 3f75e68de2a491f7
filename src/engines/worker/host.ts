/** Worker-thread entry: owns one engine and its onnxruntime session. */
import { parentPort } from 'node:worker_threads';
import { UserError } from '../../util/errors.js';
import { createEngine } from '../factory.js';
import type { EngineOptions, LocalEngineKind, StepEvent } from '../options.js';
import type { Engine } from '../types.js';
import type { FromWorker, ToWorker } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('engine host must run in a worker thread');
const send = (m: FromWorker) => port.postMessage(m);

// Fault injection for robustness tests: DLLM_BENCH_FAULT=worker-crash:KIND:N makes the worker of engine KIND
// (llada, ar, ar-ort) die on its Nth generate call.
const fault = /^worker-crash:([\w-]+):(\d+)$/.exec(process.env.DLLM_BENCH_FAULT ?? '');
let kind = '';
let generates = 0;
// The client sends options of its spec's kind (WorkerEngine<K> is typed by it), so this engine takes them.
let engine: Engine<EngineOptions<LocalEngineKind>> | null = null;
let stopFlag: Int32Array | null = null;
const shouldStop = () => stopFlag !== null && Atomics.load(stopFlag, 0) === 1;

port.on('message', async (msg: ToWorker) => {
  switch (msg.type) {
    case 'init':
      try {
        kind = msg.spec.kind;
        stopFlag = new Int32Array(msg.stopFlag);
        engine = await createEngine(msg.spec);
        send({ type: 'ready', info: engine.info });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        // onnxruntime refusing the file is a damaged model folder (bad input, exit 2), not an internal error.
        const damaged = !(err instanceof UserError) && /Protobuf parsing failed|ModelProto|Load model from .* failed/i.test(message);
        const userError = err instanceof UserError || damaged;
        send({
          type: 'init-error',
          message: damaged ? `model folder ${msg.spec.modelDir}: an ONNX file is damaged or truncated (onnxruntime: ${message.split('\n')[0]}); rebuild it` : message,
          userError,
          exitCode: err instanceof UserError ? err.exitCode : userError ? 2 : 1,
        });
      }
      return;
    case 'generate': {
      generates++;
      if (fault && fault[1] === kind && generates >= Number(fault[2])) process.exit(70);
      const onStep = msg.wantSteps ? (event: StepEvent) => send({ type: 'step', id: msg.id, event }) : undefined;
      const options = { ...msg.options, shouldStop, onStep };
      let result;
      try {
        result = await engine!.generate(msg.request, options);
      } catch (err) {
        result = { ok: false as const, error: { code: 'runtime' as const, message: err instanceof Error ? err.message : String(err) } };
      }
      send({ type: 'result', id: msg.id, result });
      return;
    }
    case 'dispose':
      await engine?.dispose();
      send({ type: 'disposed' });
      port.close();
      return;
  }
});
