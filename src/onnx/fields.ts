/**
 * The one table of onnx.proto numbers this project writes (src/onnx/graph.ts) and reads (src/onnx/inspect.ts):
 * field numbers of the messages used, attribute types and tensor element types, named as in onnx/onnx.proto.
 */

/** Field numbers, per message. */
export const Field = {
  Model: { irVersion: 1, producerName: 2, graph: 7, opsetImport: 8, metadataProps: 14 },
  OperatorSetId: { domain: 1, version: 2 },
  StringStringEntry: { key: 1, value: 2 },
  Graph: { node: 1, name: 2, initializer: 5, input: 11, output: 12 },
  Node: { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 },
  Attribute: { name: 1, f: 2, i: 3, s: 4, t: 5, g: 6, floats: 7, ints: 8, type: 20 },
  Tensor: { dims: 1, dataType: 2, name: 8, rawData: 9, externalData: 13, dataLocation: 14 },
  ValueInfo: { name: 1, type: 2 },
  Type: { tensorType: 1 },
  TensorTypeProto: { elemType: 1, shape: 2 },
  TensorShape: { dim: 1 },
  Dimension: { dimValue: 1, dimParam: 2 },
} as const;

/** AttributeProto.AttributeType. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7 } as const;

/** TensorProto.DataLocation. */
export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;

/** TensorProto.DataType: the code and the short name this project prints (onnxruntime's tensor type names). */
const DATA_TYPES = {
  FLOAT: [1, 'float32'],
  UINT8: [2, 'uint8'],
  INT8: [3, 'int8'],
  INT32: [6, 'int32'],
  INT64: [7, 'int64'],
  BOOL: [9, 'bool'],
  FLOAT16: [10, 'float16'],
  DOUBLE: [11, 'float64'],
  UINT32: [12, 'uint32'],
  UINT64: [13, 'uint64'],
  BFLOAT16: [16, 'bfloat16'],
} as const;
type DataTypes = typeof DATA_TYPES;

export const DataType = Object.fromEntries(Object.entries(DATA_TYPES).map(([k, [code]]) => [k, code])) as {
  readonly [K in keyof DataTypes]: DataTypes[K][0];
};
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

const NAMES = new Map<number, string>(Object.values(DATA_TYPES));

/** "float32" for 1, ...; "type<N>" for a code this table does not name. */
export function dataTypeName(code: number): string {
  return NAMES.get(code) ?? `type${code}`;
}
