/** Element conversions between the checkpoint dtypes (F32, F16, BF16) and the ONNX weight dtypes (fp32, fp16). */
import { at } from '../util/indexing.js';
import { f32BitsToF16Bits } from '../onnx/graph.js';

export type StDtype = 'F32' | 'F16' | 'BF16';
export type OnnxDtype = 'fp32' | 'fp16';

export const bytesPerElement: Record<StDtype, number> = { F32: 4, F16: 2, BF16: 2 };

export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Decodes raw little-endian checkpoint bytes into float32 values. */
export function toFloat32(raw: Uint8Array, dtype: StDtype): Float32Array {
  const n = raw.length / bytesPerElement[dtype];
  if (dtype === 'F32') {
    // Copy so the result is aligned and independent of the source buffer.
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  }
  const src = new Uint16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  const out = new Float32Array(n);
  if (dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    src.forEach((h, i) => (bits[i] = h << 16));
  } else {
    src.forEach((h, i) => (out[i] = f16BitsToF32(h)));
  }
  return out;
}

export function float32ToFloat16Array(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  bits.forEach((x, i) => (out[i] = f32BitsToF16Bits(x)));
  return out;
}

export function float32ToBf16Array(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  bits.forEach((x, i) => (out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16)); // round to nearest even
  return out;
}

/** Encodes float32 values as ONNX weight bytes. */
export function encodeWeights(values: Float32Array, dtype: OnnxDtype): Uint8Array {
  if (dtype === 'fp32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const h = float32ToFloat16Array(values);
  return new Uint8Array(h.buffer);
}

/** Row-major [rows, cols] -> [cols, rows]. HF Linear weights are [out, in]; MatMul wants [in, out]. */
export function transpose2d(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  const tile = 64;
  for (let r0 = 0; r0 < rows; r0 += tile) {
    for (let c0 = 0; c0 < cols; c0 += tile) {
      const r1 = Math.min(rows, r0 + tile);
      const c1 = Math.min(cols, c0 + tile);
      for (let r = r0; r < r1; r++) {
        const base = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = at(values, base + c);
      }
    }
  }
  return out;
}
