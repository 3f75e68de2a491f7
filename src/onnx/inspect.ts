/**
 * Reads a model file's graph inputs and outputs (names, element types, shapes) without loading the weights into
 * a session: a minimal protobuf reader that walks ModelProto.graph and skips everything else.
 */
import { readFileSync } from 'node:fs';
import { Field, dataTypeName } from './fields.js';

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
        const sub = new Reader(this.buf, this.pos + len);
        sub.pos = this.pos;
        this.pos += len;
        yield [field, wire, sub];
      } else if (wire === 1) this.pos += 8;
      else if (wire === 5) this.pos += 4;
      else throw new Error(`unsupported protobuf wire type ${wire}`);
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

export function readGraphIo(file: string): { inputs: IoInfo[]; outputs: IoInfo[]; nodes: number; opsets: Record<string, number> } {
  const { Model: M, OperatorSetId: O, Graph: G } = Field;
  const model = new Reader(readFileSync(file));
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
