/**
 * One block of Fast-dLLM cached decoding in ONE onnxruntime call, so that nothing but token ids crosses the bus
 * (onnxruntime-node has no IO binding: a host-driven loop would copy every layer's K/V at every step on a GPU).
 *
 *   block start: the cached forward with no cache over all L positions -> x0, confidence, every layer's K/V
 *   commit (first schedule entry, or the threshold)
 *   Loop, while the block still holds a mask and steps remain:
 *     block-only forward over the window [s, window_end) (prefix: L, dual: the block's end) attending to the
 *     block-start K/V (rows of the window replaced by fresh ones: see spliceCache in emit.ts)
 *     commit
 *
 * The forward is the graph emitCachedDiffusion emits, inlined twice (once in the main graph, once in the Loop
 * body; the weights are stored once and read from the outer scope). The commit rule is written in ONNX ops: a
 * position's rank among the block's masked positions (higher confidence first, ties: lower position first) is
 * compared with the step's budget k, or (threshold mode) rank 0 or confidence >= threshold commits.
 */
import { field } from '../util/indexing.js';
import { DataType, type DataTypeCode, Graph } from '../onnx/graph.js';
import type { OnnxDtype } from './dtype.js';
import { IO, emitCachedDiffusion } from './emit.js';
import type { SafetensorsReader } from './safetensors.js';
import type { TransformerSpec } from './spec.js';

/** Graph inputs and outputs of the block-loop graph (shared with the engine). */
export const LOOP_IO = {
  inputIds: IO.inputIds, // [rows, L] the canvas before the block
  attentionMask: IO.attentionMask, // [rows, L]
  blockStart: 'block_start', // [1] absolute position s of the block
  blockLength: 'block_length', // [1]
  windowEnd: 'window_end', // [1] L (prefix cache) or s + block_length (dual cache)
  schedule: 'schedule', // [n] tokens to commit per call (fixed schedule); n - 1 bounds the block-only calls
  threshold: 'threshold', // [1] > 0: threshold decoding (schedule entries then ignored)
  cfgScale: IO.cfgScale,
  temperature: IO.temperature,
  seed: 'seed', // [1] user seed
  stepBase: 'step_base', // [1] global index of the block's first call (noise seeds as the host path)
  blockIds: 'block_ids', // out [B, block_length] the block after decoding
  firstCommitted: 'first_committed', // out [1] tokens committed by the block-start call
  loopCommitted: 'loop_committed', // out [calls - 1] tokens committed by each block-only call
} as const;

type Node = Graph['nodes'][number];

/**
 * Copies `src` into `dst`, its inputs wired to `inputs`; every other name gets `prefix` (names are unique in an
 * ONNX model, subgraphs included). Initializers go to `root` once, under their own names. Returns src's outputs.
 */
function inline(src: Graph, dst: Graph, root: Graph, inputs: Record<string, string>, prefix: string): Record<string, string> {
  const inits = new Set(src.initializers.map((t) => t.name));
  const have = new Set(root.initializers.map((t) => t.name));
  for (const t of src.initializers) if (!have.has(t.name)) root.init(t);
  const rename = (n: string): string => (n === '' || inits.has(n) ? n : (inputs[n] ?? `${prefix}${n}`));
  const copySub = (g: Graph): Graph => {
    const c = new Graph(`${prefix}${g.name}`);
    for (const t of g.initializers) c.init({ ...t, name: rename(t.name) });
    for (const i of g.inputs) c.input(rename(i.name), i.dtype, i.dims ?? []);
    for (const o of g.outputs) c.output(rename(o.name), o.dtype, o.dims);
    for (const n of g.nodes) c.nodes.push(copyNode(n));
    return c;
  };
  const copyNode = (n: Node): Node => ({
    ...n,
    name: `${prefix}${n.name}`,
    inputs: n.inputs.map(rename),
    outputs: n.outputs.map(rename),
    attrs: Object.fromEntries(Object.entries(n.attrs).map(([k, v]) => [k, v instanceof Graph ? copySub(v) : v])),
  });
  for (const i of src.inputs) if (!(i.name in inputs)) throw new Error(`inline: input ${i.name} is not wired`);
  for (const n of src.nodes) dst.nodes.push(copyNode(n));
  return Object.fromEntries(src.outputs.map((o) => [o.name, rename(o.name)]));
}

export function emitBlockLoop(spec: TransformerSpec, weights: SafetensorsReader, opts: { dtype: OnnxDtype; attention?: 'auto' | 'plain' }): Graph {
  if (spec.maskTokenId === null) throw new Error('block loop: the model has no mask token id');
  const fwd = emitCachedDiffusion(spec, weights, opts);
  const dt: DataTypeCode = opts.dtype === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  const root = new Graph('llada_block_loop', 'loop_');
  const g = root;
  const ids = g.input(LOOP_IO.inputIds, DataType.INT64, ['rows', 'total_sequence_length']);
  const mask = g.input(LOOP_IO.attentionMask, DataType.INT64, ['rows', 'total_sequence_length']);
  const start = g.input(LOOP_IO.blockStart, DataType.INT64, [1]);
  const blockLength = g.input(LOOP_IO.blockLength, DataType.INT64, [1]);
  const windowEnd = g.input(LOOP_IO.windowEnd, DataType.INT64, [1]);
  const schedule = g.input(LOOP_IO.schedule, DataType.INT64, ['calls']);
  const threshold = g.input(LOOP_IO.threshold, DataType.FLOAT, [1]);
  const cfg = g.input(LOOP_IO.cfgScale, DataType.FLOAT, [1]);
  const temperature = g.input(LOOP_IO.temperature, DataType.FLOAT, [1]);
  const seed = g.input(LOOP_IO.seed, DataType.INT64, [1]);
  const stepBase = g.input(LOOP_IO.stepBase, DataType.INT64, [1]);
  const end = g.op('Add', [start, blockLength]);
  const rowsDim = g.op('Shape', [ids], { start: 0, end: 1 });
  const L = g.op('Shape', [ids], { start: 1, end: 2 });
  const scalar = (h: Graph, x: string) => h.op('Squeeze', [x, h.constI64([0])]);

  /** Position ids [rows, to - from] for absolute positions from..to-1. */
  const positions = (h: Graph, from: string, to: string) => {
    const r = h.op('Unsqueeze', [h.op('Range', [scalar(h, from), scalar(h, to), h.constI64([1], [])]), h.constI64([0])]);
    return h.op('Expand', [r, h.op('Concat', [rowsDim, h.op('Shape', [r], { start: 1, end: 2 })], { axis: 0 })]);
  };
  /** The host path's noise seed for global step `step` ([1]): (seed * 1000003 + step * 7919 + 1) mod (2^31 - 1). */
  const noiseSeed = (h: Graph, step: string) =>
    h.op('Mod', [h.op('Add', [h.op('Add', [h.op('Mul', [seed, h.constI64([1_000_003])]), h.op('Mul', [step, h.constI64([7919])])]), h.constI64([1])]), h.constI64([2_147_483_647])]);

  /** Commit rule: returns the new canvas [rows, L], the committed count [1] and whether a mask is left (bool []). */
  const commit = (h: Graph, canvas: string, x0: string, conf: string, k: string) => {
    const B = h.op('Shape', [x0], { start: 0, end: 1 });
    const cond = h.op('Slice', [canvas, h.constI64([0, 0]), h.op('Concat', [B, end], { axis: 0 }), h.constI64([0, 1])]);
    const block = h.op('Slice', [cond, start, end, h.constI64([1])]); // [B, blk]
    const masked = h.op('Equal', [block, h.constI64([spec.maskTokenId!], [])]);
    const c = h.op('Where', [masked, conf, h.constF32([-1], [])]); // confidences are >= 0
    const blkLen = scalar(h, blockLength);
    const idx = h.op('Range', [h.constI64([0], []), blkLen, h.constI64([1], [])]);
    const pIdx = h.op('Unsqueeze', [idx, h.constI64([0, 2])]); // [1, blk, 1]
    const qIdx = h.op('Unsqueeze', [idx, h.constI64([0, 1])]); // [1, 1, blk]
    const cp = h.op('Unsqueeze', [c, h.constI64([2])]);
    const cq = h.op('Unsqueeze', [c, h.constI64([1])]);
    const beats = h.op('Or', [h.op('Greater', [cq, cp]), h.op('And', [h.op('Equal', [cq, cp]), h.op('Less', [qIdx, pIdx])])]);
    const rank = h.op('ReduceSum', [h.op('Cast', [beats], { to: DataType.INT64 }), h.constI64([2])], { keepdims: 0 }); // [B, blk]
    const byThreshold = h.op('Or', [h.op('Equal', [rank, h.constI64([0], [])]), h.op('GreaterOrEqual', [conf, threshold])]);
    const bySchedule = h.op('Less', [rank, k]);
    const useThreshold = h.op('Greater', [threshold, h.constF32([0])]);
    // (no boolean Where kernel on the CPU provider: select with And/Or)
    const rule = h.op('Or', [h.op('And', [useThreshold, byThreshold]), h.op('And', [h.op('Not', [useThreshold]), bySchedule])]);
    const select = h.op('And', [masked, rule]);
    const newBlock = h.op('Where', [select, x0, block]);
    const committed = h.op('ReduceSum', [h.op('Cast', [select], { to: DataType.INT64 }), h.constI64([0, 1])], { keepdims: 0 });
    const all = h.op('Tile', [newBlock, h.op('Concat', [h.op('Div', [rowsDim, B]), h.constI64([1])], { axis: 0 })]); // CFG rows too
    const head = h.op('Slice', [canvas, h.constI64([0]), start, h.constI64([1])]);
    const tail = h.op('Slice', [canvas, end, h.constI64([2 ** 53]), h.constI64([1])]);
    const next = h.op('Concat', [head, all, tail], { axis: 1 });
    const left = h.op('Greater', [h.op('ReduceMax', [h.op('Cast', [h.op('Equal', [newBlock, h.constI64([spec.maskTokenId!], [])])], { to: DataType.INT64 })], { keepdims: 0 }), h.constI64([0], [])]);
    return { next, newBlock, committed: h.op('Unsqueeze', [committed, h.constI64([0])]), left };
  };

  const wiring = (h: Graph, canvasWindow: string, from: string, to: string, past: (name: string) => string, logitsStart: string, step: string) => {
    const w: Record<string, string> = {
      [IO.inputIds]: canvasWindow,
      [IO.attentionMask]: mask,
      [IO.positionIds]: positions(h, from, to),
      [IO.cacheOffset]: from,
      [IO.logitsStart]: logitsStart,
      [IO.logitsLength]: blockLength,
      [IO.cfgScale]: cfg,
      [IO.temperature]: temperature,
      [IO.noiseSeed]: noiseSeed(h, step),
    };
    for (let i = 0; i < spec.numLayers; i++) {
      w[IO.pastKey(i)] = past(IO.pastKey(i));
      w[IO.pastValue(i)] = past(IO.pastValue(i));
    }
    return w;
  };

  // ---- block start: no cache (an empty [rows, KV, 0, hd] past), all L positions.
  const emptyShape = g.op('Concat', [rowsDim, g.constI64([spec.numKvHeads, 0, spec.headDim])], { axis: 0 });
  const empty = g.op('ConstantOfShape', [emptyShape], { value: { name: 'zero', dtype: dt, dims: [1], data: new Uint8Array(dt === DataType.FLOAT16 ? 2 : 4) } });
  const zero = g.constI64([0]);
  const first = inline(fwd, g, root, wiring(g, ids, zero, L, () => empty, start, stepBase), 'start_');
  const k0 = g.op('Gather', [schedule, g.constI64([0], [])]);
  const c0 = commit(g, ids, field(first, IO.x0, 'first'), field(first, IO.confidence, 'first'), k0);

  // ---- block-only calls: a Loop body over (iteration, condition, canvas) with the block-start K/V from the outer scope.
  const body = new Graph('block_step', 'body_');
  const iter = body.input('body_iter', DataType.INT64, []);
  body.input('body_cond_in', DataType.BOOL, []);
  const canvasIn = body.input('body_canvas_in', DataType.INT64, ['rows', 'total_sequence_length']);
  const callIndex = body.op('Add', [iter, body.constI64([1], [])]);
  const window = body.op('Slice', [canvasIn, start, windowEnd, body.constI64([1])]);
  const step = body.op('Add', [stepBase, body.op('Unsqueeze', [callIndex, body.constI64([0])])]);
  const pastOf = (name: string) => field(first, name.replace('past_key_values', 'present'), 'first');
  const outs = inline(fwd, body, root, wiring(body, window, start, windowEnd, pastOf, body.constI64([0]), step), 'step_');
  const kI = body.op('Gather', [schedule, callIndex]);
  const ci = commit(body, canvasIn, field(outs, IO.x0, 'outs'), field(outs, IO.confidence, 'outs'), kI);
  body.node('Identity', [ci.left], {}, { outputs: ['body_cond_out'] });
  body.node('Identity', [ci.next], {}, { outputs: ['body_canvas_out'] });
  body.node('Identity', [ci.committed], {}, { outputs: ['body_committed'] });
  body.output('body_cond_out', DataType.BOOL, []);
  body.output('body_canvas_out', DataType.INT64, ['rows', 'total_sequence_length']);
  body.output('body_committed', DataType.INT64, [1]);

  const trips = g.op('Sub', [scalar(g, g.op('Shape', [schedule])), g.constI64([1], [])]);
  const [finalCanvas, committed] = g.node('Loop', [trips, c0.left, c0.next], { body }, { outputs: 2 });
  const B = g.op('Shape', [field(first, IO.x0, 'first')], { start: 0, end: 1 });
  const cond = g.op('Slice', [finalCanvas!, g.constI64([0, 0]), g.op('Concat', [B, end], { axis: 0 }), g.constI64([0, 1])]);
  g.node('Slice', [cond, start, end, g.constI64([1])], {}, { outputs: [LOOP_IO.blockIds] });
  g.node('Identity', [c0.committed], {}, { outputs: [LOOP_IO.firstCommitted] });
  g.node('Identity', [committed!], {}, { outputs: [LOOP_IO.loopCommitted] });
  g.output(LOOP_IO.blockIds, DataType.INT64, ['batch_size', 'block_length']);
  g.output(LOOP_IO.firstCommitted, DataType.INT64, [1]);
  g.output(LOOP_IO.loopCommitted, DataType.INT64, ['calls']);
  return root;
}
