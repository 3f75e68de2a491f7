/**
 * One session over a model with several entry points (src/models/compose.ts): each entry runs through the same
 * session, so the weights are in memory once. A call feeds `entry` plus the entry's own inputs; every other input of
 * the composed model gets an empty tensor of its type and rank (the branch that would read it does not run).
 */
import ort from 'onnxruntime-node';
import { ENTRY_INPUT } from '../models/compose.js';

/** What the decoding paths need of a session: run (optionally fetching a subset of outputs) and output types. */
export interface EntrySession {
  readonly outputMetadata: ort.InferenceSession['outputMetadata'];
  run(feeds: Record<string, ort.Tensor>, fetches?: string[]): Promise<ort.InferenceSession.OnnxValueMapType>;
}

function emptyTensor(type: ort.Tensor.Type, rank: number): ort.Tensor {
  const dims = new Array<number>(rank).fill(0);
  switch (type) {
    case 'int64':
      return new ort.Tensor('int64', new BigInt64Array(0), dims);
    case 'float16':
      return new ort.Tensor('float16', new Uint16Array(0), dims);
    case 'bool':
      return new ort.Tensor('bool', new Uint8Array(0), dims);
    case 'int32':
      return new ort.Tensor('int32', new Int32Array(0), dims);
    default:
      return new ort.Tensor('float32', new Float32Array(0), dims);
  }
}

/** The entry `index` of a composed session, as a session of its own. */
export function entrySession(session: ort.InferenceSession, index: number): EntrySession {
  const entry = new ort.Tensor('int64', BigInt64Array.from([BigInt(index)]), [1]);
  const fillers: Record<string, ort.Tensor> = {};
  for (const m of session.inputMetadata) {
    if (m.name !== ENTRY_INPUT && m.isTensor) fillers[m.name] = emptyTensor(m.type, m.shape.length);
  }
  return {
    outputMetadata: session.outputMetadata,
    run: (feeds, fetches) => {
      const all = { ...fillers, ...feeds, [ENTRY_INPUT]: entry };
      return fetches ? session.run(all, fetches) : session.run(all);
    },
  };
}
