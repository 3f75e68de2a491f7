/**
 * safetensors reading (single file or sharded index) and writing, one tensor at a time so an 8B checkpoint never
 * sits in memory whole. Format: 8-byte little-endian header length, JSON header, then the raw tensor bytes.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../util/errors.js';
import { bytesPerElement, type StDtype } from './dtype.js';

export interface TensorEntry {
  name: string;
  dtype: StDtype;
  shape: number[];
  file: string;
  /** Absolute byte offset of the data in the file. */
  offset: number;
  byteLength: number;
}

const SUPPORTED = new Set<string>(['F32', 'F16', 'BF16']);

function readHeader(file: string): TensorEntry[] {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    throw new UserError(`cannot read ${file}: file not found or not readable`);
  }
  try {
    const size = fstatSync(fd).size;
    const lenBuf = Buffer.alloc(8);
    if (size < 8 || readSync(fd, lenBuf, 0, 8, 0) !== 8) throw new UserError(`${file}: not a safetensors file (too short)`);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen <= 0 || headerLen > 100_000_000 || 8 + headerLen > size) {
      throw new UserError(`${file}: not a safetensors file (bad header length ${headerLen})`);
    }
    const hb = Buffer.alloc(headerLen);
    readSync(fd, hb, 0, headerLen, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(hb.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new UserError(`${file}: corrupt safetensors header (not JSON)`);
    }
    const dataStart = 8 + headerLen;
    const entries: TensorEntry[] = [];
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const t = raw as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
      if (!t || typeof t.dtype !== 'string' || !Array.isArray(t.shape) || !Array.isArray(t.data_offsets)) {
        throw new UserError(`${file}: corrupt safetensors header entry for tensor ${name}`);
      }
      if (!SUPPORTED.has(t.dtype)) throw new UserError(`${file}: tensor ${name} has dtype ${t.dtype}; supported: F32, F16, BF16`);
      const [b, e] = t.data_offsets;
      const expected = t.shape.reduce((a, d) => a * d, 1) * bytesPerElement[t.dtype as StDtype];
      if (e - b !== expected || dataStart + e > size) {
        throw new UserError(`${file}: tensor ${name} data is truncated or inconsistent with its shape [${t.shape.join(', ')}]`);
      }
      entries.push({ name, dtype: t.dtype as StDtype, shape: t.shape, file, offset: dataStart + b, byteLength: e - b });
    }
    return entries;
  } finally {
    closeSync(fd);
  }
}

/** Opens model.safetensors or model.safetensors.index.json (sharded) in a checkpoint folder. */
export class SafetensorsReader {
  readonly tensors = new Map<string, TensorEntry>();

  constructor(readonly dir: string) {
    const index = join(dir, 'model.safetensors.index.json');
    const single = join(dir, 'model.safetensors');
    if (existsSync(index)) {
      let map: Record<string, string>;
      try {
        map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map;
        if (!map || typeof map !== 'object') throw new Error();
      } catch {
        throw new UserError(`${index}: not a valid safetensors index (expected a weight_map object)`);
      }
      for (const shard of new Set(Object.values(map))) {
        for (const t of readHeader(join(dirname(index), shard))) this.tensors.set(t.name, t);
      }
    } else if (existsSync(single)) {
      for (const t of readHeader(single)) this.tensors.set(t.name, t);
    } else {
      throw new UserError(`${dir}: no model.safetensors or model.safetensors.index.json`);
    }
  }

  entry(name: string, expectedShape?: number[]): TensorEntry {
    const t = this.tensors.get(name);
    if (!t) throw new UserError(`${this.dir}: missing tensor ${name}`);
    if (expectedShape && (t.shape.length !== expectedShape.length || t.shape.some((d, i) => d !== expectedShape[i]))) {
      throw new UserError(
        `${t.file}: tensor ${name} has shape [${t.shape.join(', ')}], expected [${expectedShape.join(', ')}] from config.json`,
      );
    }
    return t;
  }

  read(name: string): Uint8Array {
    const t = this.entry(name);
    const buf = Buffer.allocUnsafe(t.byteLength);
    const fd = openSync(t.file, 'r');
    try {
      let off = 0;
      while (off < t.byteLength) {
        const n = readSync(fd, buf, off, Math.min(t.byteLength - off, 1 << 30), t.offset + off);
        if (n <= 0) throw new UserError(`${t.file}: unexpected end of file reading tensor ${name}`);
        off += n;
      }
    } finally {
      closeSync(fd);
    }
    return buf;
  }
}

export interface TensorToWrite {
  name: string;
  dtype: StDtype;
  shape: number[];
  /** Produces the bytes when it is this tensor's turn (streaming). */
  data: () => Uint8Array;
}

/** Writes one safetensors file, materialising one tensor at a time. */
export function writeSafetensors(file: string, tensors: TensorToWrite[], metadata: Record<string, string> = {}): void {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const len = t.shape.reduce((a, d) => a * d, 1) * bytesPerElement[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + len] };
    offset += len;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const hb = Buffer.from(json, 'utf8');
  const lenBuf = Buffer.alloc(8);
  lenBuf.writeBigUInt64LE(BigInt(hb.length));
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, lenBuf);
    writeSync(fd, hb);
    for (const t of tensors) {
      const d = t.data();
      let off = 0;
      while (off < d.length) off += writeSync(fd, d, off, Math.min(d.length - off, 1 << 30));
    }
  } finally {
    closeSync(fd);
  }
}
