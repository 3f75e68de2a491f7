/**
 * A small graph DSL over onnx.proto: declare inputs, initializers and nodes, then write a model file whose large
 * tensors are streamed one at a time (inline, or to an external data file for models over the 2 GB protobuf limit).
 */
import { first } from '../util/indexing.js';
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { AttributeType, DataLocation, DataType, type DataTypeCode, Field } from './fields.js';
import { ProtoWriter } from './proto.js';

export { DataType, type DataTypeCode };

/** Float attribute marker (plain numbers become INT attributes). */
export interface FloatAttr {
  f: number;
}
export type AttrValue = number | number[] | string | FloatAttr | { floats: number[] } | Graph | TensorInit;
export const f = (value: number): FloatAttr => ({ f: value });

export interface TensorInit {
  name: string;
  dtype: DataTypeCode;
  dims: number[];
  /** Raw little-endian bytes, or a function that produces them when the model is written (streaming). */
  data: Uint8Array | (() => Uint8Array);
}

interface NodeDef {
  op: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

interface ValueInfo {
  name: string;
  dtype: DataTypeCode;
  dims: (number | string)[] | null;
}

export class Graph {
  readonly nodes: NodeDef[] = [];
  readonly initializers: TensorInit[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  private counter = 0;

  constructor(
    readonly name: string,
    /** Prefix for generated names; subgraphs use their own so names stay unique across scopes. */
    private readonly prefix = '',
  ) {}

  fresh(hint: string): string {
    return `${this.prefix}${hint}_${this.counter++}`;
  }

  input(name: string, dtype: DataTypeCode, dims: (number | string)[]): string {
    this.inputs.push({ name, dtype, dims });
    return name;
  }

  output(name: string, dtype: DataTypeCode, dims: (number | string)[] | null = null): void {
    this.outputs.push({ name, dtype, dims });
  }

  init(t: TensorInit): string {
    this.initializers.push(t);
    return t.name;
  }

  constI64(values: number[], dims: number[] = [values.length]): string {
    const buf = new BigInt64Array(values.map((v) => BigInt(v)));
    return this.init({ name: this.fresh('c_i64'), dtype: DataType.INT64, dims, data: new Uint8Array(buf.buffer) });
  }

  constF32(values: number[], dims: number[] = [values.length]): string {
    return this.init({ name: this.fresh('c_f32'), dtype: DataType.FLOAT, dims, data: new Uint8Array(new Float32Array(values).buffer) });
  }

  constOfType(value: number, dtype: DataTypeCode): string {
    if (dtype === DataType.FLOAT16) {
      const b = new Uint16Array([float32ToFloat16Bits(value)]);
      return this.init({ name: this.fresh('c_f16'), dtype, dims: [], data: new Uint8Array(b.buffer) });
    }
    return this.init({ name: this.fresh('c_f32'), dtype: DataType.FLOAT, dims: [], data: new Uint8Array(new Float32Array([value]).buffer) });
  }

  node(
    op: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    opts: { outputs?: number | string[]; domain?: string; name?: string } = {},
  ): string[] {
    const name = opts.name ?? this.fresh(op);
    const outs = Array.isArray(opts.outputs)
      ? opts.outputs
      : Array.from({ length: opts.outputs ?? 1 }, (_, i) => (i === 0 ? `${name}_out` : `${name}_out${i}`));
    this.nodes.push({ op, domain: opts.domain ?? '', name, inputs, outputs: outs, attrs });
    return outs;
  }

  /** One-output node. */
  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, domain?: string): string {
    return first(this.node(op, inputs, attrs, { domain }), `${op} outputs`);
  }
}

/** IEEE 754 half from a float32 value, round to nearest even. */
function float32ToFloat16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const x = first(new Uint32Array(f32.buffer));
  return f32BitsToF16Bits(x);
}

export function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  return sign | half;
}

// ---- serialization -------------------------------------------------------------------------------------------

interface ExternalSink {
  fd: number;
  fileName: string;
  offset: number;
  index: ExternalIndex;
}

const entry = (k: string, v: string) => new ProtoWriter().string(Field.StringStringEntry.key, k).string(Field.StringStringEntry.value, v);

/**
 * Where each tensor of an external data file lies, by initializer name. A second model over the same weights (the
 * ar-loop graph) passes the first model's index and file: tensors of the same name, type and shape are referenced,
 * not written again, so one copy of the weights serves both graphs on disk.
 */
export type ExternalIndex = Map<string, { offset: number; length: number; dtype: DataTypeCode; dims: number[] }>;

function tensorProto(t: TensorInit, sink: ExternalSink | null): ProtoWriter {
  const w = new ProtoWriter();
  const T = Field.Tensor;
  w.packedInts(T.dims, t.dims);
  w.int(T.dataType, t.dtype);
  w.string(T.name, t.name);
  const reference = (offset: number, length: number) => {
    w.message(T.externalData, entry('location', sink!.fileName));
    w.message(T.externalData, entry('offset', String(offset)));
    w.message(T.externalData, entry('length', String(length)));
    w.int(T.dataLocation, DataLocation.EXTERNAL);
  };
  const known = sink?.index.get(t.name);
  if (known && known.dtype === t.dtype && known.dims.join() === t.dims.join()) {
    reference(known.offset, known.length);
    return w;
  }
  const data = typeof t.data === 'function' ? t.data() : t.data;
  if (sink && data.length >= 1024) {
    // Page-align each tensor so the runtime can mmap it.
    const pad = (4096 - (sink.offset % 4096)) % 4096;
    if (pad) writeSync(sink.fd, new Uint8Array(pad));
    sink.offset += pad;
    writeAll(sink.fd, data);
    reference(sink.offset, data.length);
    sink.index.set(t.name, { offset: sink.offset, length: data.length, dtype: t.dtype, dims: [...t.dims] });
    sink.offset += data.length;
  } else {
    w.bytes(T.rawData, data);
  }
  return w;
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, Math.min(data.length - off, 1 << 30));
}

function valueInfo(v: ValueInfo): ProtoWriter {
  const { TensorTypeProto: TT, Dimension: D } = Field;
  const tensorType = new ProtoWriter().int(TT.elemType, v.dtype);
  if (v.dims) {
    const shape = new ProtoWriter();
    for (const d of v.dims) {
      shape.message(Field.TensorShape.dim, typeof d === 'number' ? new ProtoWriter().int(D.dimValue, d) : new ProtoWriter().string(D.dimParam, d));
    }
    tensorType.message(TT.shape, shape);
  }
  const type = new ProtoWriter().message(Field.Type.tensorType, tensorType);
  return new ProtoWriter().string(Field.ValueInfo.name, v.name).message(Field.ValueInfo.type, type);
}

function attribute(name: string, value: AttrValue, sink: ExternalSink | null): ProtoWriter {
  const A = Field.Attribute;
  const w = new ProtoWriter().string(A.name, name);
  if (typeof value === 'number') return w.int(A.i, value).int(A.type, AttributeType.INT);
  if (typeof value === 'string') return w.string(A.s, value).int(A.type, AttributeType.STRING);
  if (Array.isArray(value)) return w.packedInts(A.ints, value).int(A.type, AttributeType.INTS);
  if (value instanceof Graph) return w.message(A.g, graphProto(value, sink)).int(A.type, AttributeType.GRAPH);
  if ('f' in value) return w.float(A.f, value.f).int(A.type, AttributeType.FLOAT);
  if ('floats' in value) return w.packedFloats(A.floats, value.floats).int(A.type, AttributeType.FLOATS);
  return w.message(A.t, tensorProto(value, null)).int(A.type, AttributeType.TENSOR);
}

function graphProto(g: Graph, sink: ExternalSink | null): ProtoWriter {
  const { Graph: G, Node: N } = Field;
  const w = new ProtoWriter();
  for (const n of g.nodes) {
    const nw = new ProtoWriter();
    for (const i of n.inputs) nw.string(N.input, i);
    for (const o of n.outputs) nw.string(N.output, o);
    nw.string(N.name, n.name).string(N.opType, n.op);
    for (const [k, v] of Object.entries(n.attrs)) nw.message(N.attribute, attribute(k, v, sink));
    if (n.domain) nw.string(N.domain, n.domain);
    w.message(G.node, nw);
  }
  w.string(G.name, g.name);
  for (const t of g.initializers) w.message(G.initializer, tensorProto(t, sink));
  for (const i of g.inputs) w.message(G.input, valueInfo(i));
  for (const o of g.outputs) w.message(G.output, valueInfo(o));
  return w;
}

export interface WriteModelOptions {
  opsets: [domain: string, version: number][];
  producer?: string;
  metadata?: Record<string, string>;
  /** Path of an external data file (same folder as the model) or null to keep every tensor inline. */
  externalDataPath?: string | null;
  /** The index of an existing externalDataPath written by an earlier writeModel: reuse its tensors, append the rest. */
  externalIndex?: ExternalIndex;
}

/** Writes the model; tensors are materialised one at a time, so peak memory is about one tensor. */
export function writeModel(path: string, g: Graph, opts: WriteModelOptions): { bytes: number; externalBytes: number; index: ExternalIndex } {
  let sink: ExternalSink | null = null;
  if (opts.externalDataPath) {
    const fd = openSync(opts.externalDataPath, opts.externalIndex ? 'a' : 'w');
    const start = opts.externalIndex ? fstatSync(fd).size : 0;
    sink = { fd, fileName: basename(opts.externalDataPath), offset: start, index: opts.externalIndex ?? new Map() };
  }
  const startOffset = sink?.offset ?? 0;
  try {
    const m = new ProtoWriter();
    const { Model: M, OperatorSetId: O } = Field;
    m.int(M.irVersion, 8); // IR version 8 (opset 18 era)
    m.string(M.producerName, opts.producer ?? 'dllm-bench');
    m.message(M.graph, graphProto(g, sink));
    for (const [domain, version] of opts.opsets) {
      m.message(M.opsetImport, new ProtoWriter().string(O.domain, domain).int(O.version, version));
    }
    for (const [k, v] of Object.entries(opts.metadata ?? {})) m.message(M.metadataProps, entry(k, v));
    const fd = openSync(path, 'w');
    let bytes = 0;
    try {
      for (const chunk of m.finish()) {
        writeAll(fd, chunk);
        bytes += chunk.length;
      }
    } finally {
      closeSync(fd);
    }
    return { bytes, externalBytes: (sink?.offset ?? 0) - startOffset, index: sink?.index ?? new Map() };
  } finally {
    if (sink) closeSync(sink.fd);
  }
}
