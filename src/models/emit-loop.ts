/**
 * The ar-loop graph: the whole greedy generation in one onnxruntime call. An ONNX Loop runs the cached decoder step
 * (the same decoder stack as the causal model graph, emitted by emitDecoderStack into the Loop body) with the KV
 * cache as loop-carried state; each iteration's argmax is a scan output, so the ids are appended on the device and
 * only they come back. In natural mode the loop exits early once every row has produced an EOS id.
 *
 * The same graph serves the prefill: called with the prompt, an empty cache and max_new_tokens = 1, it returns the
 * first token and the prompt's cache (present.*); the engine then calls it again with that cache, the first token
 * and max_new_tokens = n - 1, fetching only `tokens`.
 */
import { DataType, type DataTypeCode, Graph } from '../onnx/graph.js';
import type { OnnxDtype } from './dtype.js';
import { IO, attentionImpl, emitDecoderStack, headWeight, weightSource } from './emit.js';
import type { SafetensorsReader } from './safetensors.js';
import type { TransformerSpec } from './spec.js';
import { at } from '../util/indexing.js';

/** Graph input/output names of the loop graph beyond the causal graph's (IO). */
export const LOOP_IO = {
  maxNewTokens: 'max_new_tokens',
  stopAtEos: 'stop_at_eos',
  eosIds: 'eos_ids',
  finished: 'finished',
  tokens: 'tokens',
} as const;

export function emitDecodeLoop(spec: TransformerSpec, weights: SafetensorsReader, opts: { dtype: OnnxDtype; attention?: 'auto' | 'plain' }): Graph {
  const g = new Graph('llama_decode_loop');
  const dt: DataTypeCode = opts.dtype === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  const { numLayers: L, numKvHeads: KV, headDim: hd } = spec;
  const impl = attentionImpl(spec, 'causal', opts.attention);

  // ---- outer inputs
  g.input(IO.inputIds, DataType.INT64, ['batch_size', 'sequence_length']);
  g.input(IO.attentionMask, DataType.INT64, ['batch_size', 'total_sequence_length']);
  g.input(IO.positionIds, DataType.INT64, ['batch_size', 'sequence_length']);
  for (let i = 0; i < L; i++) {
    g.input(IO.pastKey(i), dt, ['batch_size', KV, 'past_sequence_length', hd]);
    g.input(IO.pastValue(i), dt, ['batch_size', KV, 'past_sequence_length', hd]);
  }
  g.input(LOOP_IO.maxNewTokens, DataType.INT64, []);
  g.input(LOOP_IO.stopAtEos, DataType.BOOL, []);
  g.input(LOOP_IO.eosIds, DataType.INT64, ['num_eos']);
  g.input(LOOP_IO.finished, DataType.BOOL, ['batch_size']);
  const w = weightSource(g, spec, weights, opts.dtype);
  const head = headWeight(w, spec);

  // ---- the body: one cached decoder step. Inputs (iteration, condition, carried...), outputs (condition,
  // carried..., scan). Carried: ids [B,S], mask [B,T], positions [B,S], finished [B], past K/V per layer.
  const b = new Graph('decode_step', 'step_');
  const v = (name: string) => `step_${name}`;
  b.input(v('iter'), DataType.INT64, []);
  b.input(v('cond'), DataType.BOOL, []);
  const ids = b.input(v('ids'), DataType.INT64, ['batch_size', 'sequence_length']);
  const mask = b.input(v('mask'), DataType.INT64, ['batch_size', 'total_sequence_length']);
  const pos = b.input(v('pos'), DataType.INT64, ['batch_size', 'sequence_length']);
  const finished = b.input(v('finished'), DataType.BOOL, ['batch_size']);
  const cache = {
    pastKey: (i: number) => v(`past_${i}_key`),
    pastValue: (i: number) => v(`past_${i}_value`),
    presentKey: (i: number) => v(`present_${i}_key`),
    presentValue: (i: number) => v(`present_${i}_value`),
  };
  for (let i = 0; i < L; i++) {
    b.input(cache.pastKey(i), dt, ['batch_size', KV, 'past_sequence_length', hd]);
    b.input(cache.pastValue(i), dt, ['batch_size', KV, 'past_sequence_length', hd]);
  }
  const hidden = emitDecoderStack(b, w, spec, 'causal', impl, opts.dtype, { ids, mask, pos, cache });

  // Greedy next token from the last position (first maximum on ties, as the host-side argmax).
  const last = b.op('Slice', [hidden, b.constI64([-1]), b.constI64([2 ** 53]), b.constI64([1])]); // [B,1,d]
  const logits = b.op('Cast', [b.op('Squeeze', [b.op('MatMul', [last, head]), b.constI64([1])])], { to: DataType.FLOAT }); // [B,V]
  const next = at(b.node('ArgMax', [logits], { axis: -1, keepdims: 0 }, { outputs: [v('next')] }), 0, 'node outputs'); // [B]

  // EOS bookkeeping: a row is finished once it has produced any of eos_ids; natural mode stops when all are.
  const hits = b.op('Equal', [b.op('Unsqueeze', [next, b.constI64([1])]), LOOP_IO.eosIds]); // [B,E]
  const isEos = b.op('Greater', [b.op('ReduceMax', [b.op('Cast', [hits], { to: DataType.INT64 }), b.constI64([1])], { keepdims: 0 }), b.constI64([0], [])]);
  const finishedOut = at(b.node('Or', [finished, isEos], {}, { outputs: [v('finished_out')] }), 0, 'node outputs');
  const anyLeft = b.op('Greater', [b.op('ReduceMax', [b.op('Cast', [b.op('Not', [finishedOut])], { to: DataType.INT64 })], { keepdims: 0 }), b.constI64([0], [])]);
  const condOut = at(b.node('Or', [b.op('Not', [LOOP_IO.stopAtEos]), anyLeft], {}, { outputs: [v('cond_out')] }), 0, 'node outputs');

  // Next step's inputs: the new token, the mask one column longer, positions one further.
  const batch = b.op('Shape', [ids], { start: 0, end: 1 });
  const col = b.op('Concat', [batch, b.constI64([1])], { axis: 0 }); // [2] = (B, 1)
  const idsOut = at(b.node('Reshape', [next, col], {}, { outputs: [v('ids_out')] }), 0, 'node outputs');
  const maskOut = at(b.node('Concat', [mask, b.op('Expand', [b.constI64([1], [1, 1]), col])], { axis: 1 }, { outputs: [v('mask_out')] }), 0, 'node outputs');
  const lastPos = b.op('Slice', [pos, b.constI64([-1]), b.constI64([2 ** 53]), b.constI64([1])]); // [B,1]
  const posOut = at(b.node('Add', [lastPos, b.constI64([1], [])], {}, { outputs: [v('pos_out')] }), 0, 'node outputs');
  const scanOut = at(b.node('Identity', [next], {}, { outputs: [v('scan_next')] }), 0, 'node outputs');

  b.output(condOut, DataType.BOOL, []);
  b.output(idsOut, DataType.INT64, ['batch_size', 1]);
  b.output(maskOut, DataType.INT64, ['batch_size', 'next_total_length']);
  b.output(posOut, DataType.INT64, ['batch_size', 1]);
  b.output(finishedOut, DataType.BOOL, ['batch_size']);
  for (let i = 0; i < L; i++) {
    b.output(cache.presentKey(i), dt, ['batch_size', KV, 'total_sequence_length', hd]);
    b.output(cache.presentValue(i), dt, ['batch_size', KV, 'total_sequence_length', hd]);
  }
  b.output(scanOut, DataType.INT64, ['batch_size']);

  // ---- the Loop: trip count max_new_tokens, always entered; final cache and the scanned ids are the outputs.
  const condInit = g.op('Cast', [g.constI64([1], [])], { to: DataType.BOOL });
  const carriedIn = [IO.inputIds, IO.attentionMask, IO.positionIds, LOOP_IO.finished, ...Array.from({ length: L }, (_, i) => [IO.pastKey(i), IO.pastValue(i)]).flat()];
  const carriedOut = ['loop_ids', 'loop_mask', 'loop_pos', 'loop_finished', ...Array.from({ length: L }, (_, i) => [IO.presentKey(i), IO.presentValue(i)]).flat()];
  g.node('Loop', [LOOP_IO.maxNewTokens, condInit, ...carriedIn], { body: b }, { outputs: [...carriedOut, LOOP_IO.tokens] });
  for (let i = 0; i < L; i++) {
    g.output(IO.presentKey(i), dt, ['batch_size', KV, 'total_sequence_length', hd]);
    g.output(IO.presentValue(i), dt, ['batch_size', KV, 'total_sequence_length', hd]);
  }
  g.output(LOOP_IO.tokens, DataType.INT64, ['new_tokens', 'batch_size']);
  return g;
}
