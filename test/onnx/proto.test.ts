/**
 * The writer and the inspector share one field table (src/onnx/fields.ts): a model written by the graph DSL is
 * read back by the inspector and run by onnxruntime, which parses onnx.proto with its own, independent definitions.
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DataType, dataTypeName } from '../../src/onnx/fields.js';
import { Graph, f, writeModel } from '../../src/onnx/graph.js';
import { readGraphIo } from '../../src/onnx/inspect.js';
import { tempDir } from '../helpers/models.js';

function writeScaleModel(path: string): void {
  const g = new Graph('scale');
  const x = g.input('x', DataType.FLOAT, ['batch', 3]);
  const bias = g.constF32([1, 2, 3], [3]);
  const shifted = g.op('Add', [x, bias]);
  const scaled = g.op('Mul', [shifted, g.constF32([2], [])]);
  g.node('LeakyRelu', [scaled], { alpha: f(0.5) }, { outputs: ['y'] });
  g.node('Cast', ['y'], { to: DataType.INT64 }, { outputs: ['y_int'] });
  g.output('y', DataType.FLOAT, ['batch', 3]);
  g.output('y_int', DataType.INT64, ['batch', 3]);
  writeModel(path, g, { opsets: [['', 18]], producer: 'proto test', metadata: { purpose: 'test' } });
}

describe('onnx field table', () => {
  it('names element types once', () => {
    expect(dataTypeName(DataType.FLOAT)).toBe('float32');
    expect(dataTypeName(DataType.FLOAT16)).toBe('float16');
    expect(dataTypeName(DataType.INT64)).toBe('int64');
    expect(dataTypeName(99)).toBe('type99');
  });

  it('a written model reads back through the inspector and runs in onnxruntime', async () => {
    const path = join(tempDir(), 'scale.onnx');
    writeScaleModel(path);
    const io = readGraphIo(path);
    expect(io.inputs).toEqual([{ name: 'x', elemType: 'float32', shape: ['batch', 3] }]);
    expect(io.outputs).toEqual([
      { name: 'y', elemType: 'float32', shape: ['batch', 3] },
      { name: 'y_int', elemType: 'int64', shape: ['batch', 3] },
    ]);
    expect(io.nodes).toBe(4);
    expect(io.opsets).toEqual({ 'ai.onnx': 18 });

    const session = await ort.InferenceSession.create(path);
    try {
      expect(session.inputNames).toEqual(['x']);
      expect(session.outputNames).toEqual(['y', 'y_int']);
      const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([0, 1, -5, -1, 0, 1]), [2, 3]) });
      // (x + [1, 2, 3]) * 2, then LeakyRelu(alpha 0.5): [2, 6, -4 * 0.5, 0, 4, 8]
      expect(Array.from(out.y!.data as Float32Array)).toEqual([2, 6, -2, 0, 4, 8]);
      expect(Array.from(out.y_int!.data as BigInt64Array)).toEqual([2n, 6n, -2n, 0n, 4n, 8n]);
    } finally {
      await session.release();
    }
  });
});
