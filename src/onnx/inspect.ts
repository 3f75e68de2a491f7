/**
 * Reads a model file's graph inputs and outputs (names, element types, shapes) without loading the weights into
 * a session: a minimal protobuf reader that walks ModelProto.graph and skips everything else.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import { Field, dataTypeName } from './fields.js';

/** The bytes end (or a length points) past the end of the message being read: a cut or damaged file. */
export class TruncatedProtobufError extends Error {}

export interface IoInfo {
  name: string;
  elemType: string;
  shape: (number | string)[];
}

class Reader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly end = buf.length,
  ) {}
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      // Every read is bounded by the message's end, so a cut file ends in an error, never in an endless loop.
      if (this.pos >= this.end) throw new TruncatedProtobufError(`varint runs past the end at byte ${this.pos}`);
      if (shift > 63) throw new TruncatedProtobufError(`varint longer than 10 bytes at byte ${this.pos}`);
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
    }
  }
  /** Yields [field, wire, sub-reader or value] for each field of the current message. */
  *fields(): Generator<[number, number, Reader | number]> {
    while (this.pos < this.end) {
      const tag = this.varint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (wire === 0) yield [field, wire, this.varint()];
      else if (wire === 2) {
        const len = this.varint();
        if (this.pos + len > this.end) throw new TruncatedProtobufError(`field ${field} of ${len} bytes at byte ${this.pos} runs past the end (${this.end})`);
        const sub = new Reader(this.buf, this.pos + len);
        sub.pos = this.pos;
        this.pos += len;
        yield [field, wire, sub];
      } else if (wire === 1 || wire === 5) {
        this.pos += wire === 1 ? 8 : 4;
        if (this.pos > this.end) throw new TruncatedProtobufError(`fixed-width field ${field} runs past the end (${this.end})`);
      } else throw new TruncatedProtobufError(`unsupported protobuf wire type ${wire} at byte ${this.pos}`);
    }
  }
  string(): string {
    return new TextDecoder().decode(this.buf.subarray(this.pos, this.end));
  }
}

function valueInfo(r: Reader): IoInfo {
  const { ValueInfo: V, Type: T, TensorTypeProto: TT, TensorShape: S, Dimension: D } = Field;
  const info: IoInfo = { name: '', elemType: 'unknown', shape: [] };
  for (const [f, , v] of r.fields()) {
    if (f === V.name && v instanceof Reader) info.name = v.string();
    if (f !== V.type || !(v instanceof Reader)) continue;
    for (const [tf, , tv] of v.fields()) {
      if (tf !== T.tensorType || !(tv instanceof Reader)) continue;
      for (const [ttf, , ttv] of tv.fields()) {
        if (ttf === TT.elemType && typeof ttv === 'number') info.elemType = dataTypeName(ttv);
        if (ttf !== TT.shape || !(ttv instanceof Reader)) continue;
        for (const [sf, , dim] of ttv.fields()) {
          if (sf !== S.dim || !(dim instanceof Reader)) continue;
          for (const [df, , dv] of dim.fields()) {
            if (df === D.dimValue && typeof dv === 'number') info.shape.push(dv);
            if (df === D.dimParam && dv instanceof Reader) info.shape.push(dv.string());
          }
        }
      }
    }
  }
  return info;
}

export type GraphIo = { inputs: IoInfo[]; outputs: IoInfo[]; nodes: number; opsets: Record<string, number> };

/** A cut or damaged file is one UserError naming it. */
export function readGraphIo(file: string): GraphIo {
  try {
    return readGraphIoBytes(readFileSync(file));
  } catch (err) {
    if (err instanceof TruncatedProtobufError) throw new UserError(`${file}: not a valid ONNX file, truncated or damaged (${err.message}); rebuild it`);
    throw err;
  }
}

export function readGraphIoBytes(bytes: Uint8Array): GraphIo {
  const { Model: M, OperatorSetId: O, Graph: G } = Field;
  const model = new Reader(bytes);
  const inputs: IoInfo[] = [];
  const outputs: IoInfo[] = [];
  const opsets: Record<string, number> = {};
  let nodes = 0;
  for (const [f, , v] of model.fields()) {
    if (f === M.opsetImport && v instanceof Reader) {
      let domain = '';
      let version = 0;
      for (const [of, , ov] of v.fields()) {
        if (of === O.domain && ov instanceof Reader) domain = ov.string();
        if (of === O.version && typeof ov === 'number') version = ov;
      }
      opsets[domain || 'ai.onnx'] = version;
    }
    if (f !== M.graph || !(v instanceof Reader)) continue;
    for (const [gf, , gv] of v.fields()) {
      if (gf === G.node) nodes++;
      if (gf === G.input && gv instanceof Reader) inputs.push(valueInfo(gv));
      if (gf === G.output && gv instanceof Reader) outputs.push(valueInfo(gv));
    }
  }
  return { inputs, outputs, nodes, opsets };
}
