/** Test fixtures: tiny seeded checkpoints and built model folders in temp dirs (no binaries in git). */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertCheckpoint } from '../../src/models/build.js';
import { configFromSpec } from '../../src/models/families.js';
import type { Family, TransformerSpec } from '../../src/models/spec.js';
import { writeSyntheticCheckpoint } from '../../src/models/synthetic.js';
import type { RefSpec } from './reference-forward.js';

export function tempDir(prefix = 'dllm-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function microSpec(family: Family, over: Partial<TransformerSpec> = {}): TransformerSpec {
  return {
    family,
    vocabSize: 96,
    hiddenSize: 32,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 4,
    headDim: 8,
    intermediateSize: 48,
    ropeTheta: 10000,
    rmsNormEps: 1e-5,
    maxPositions: 128,
    tieWordEmbeddings: false,
    maskTokenId: family === 'llada' ? 95 : null,
    eosTokenIds: [92, 94],
    bosTokenId: 90,
    padTokenId: 92,
    ...over,
  };
}

export function toRefSpec(s: TransformerSpec): RefSpec {
  return {
    family: s.family,
    vocab: s.vocabSize,
    d: s.hiddenSize,
    layers: s.numLayers,
    heads: s.numHeads,
    kvHeads: s.numKvHeads,
    headDim: s.headDim,
    mlp: s.intermediateSize,
    theta: s.ropeTheta,
    eps: s.rmsNormEps,
    tied: s.tieWordEmbeddings,
  };
}

/** Writes a seeded checkpoint for the spec and converts it; returns both folders. */
export function buildMicroModel(spec: TransformerSpec, seed = 1, dtype: 'fp32' | 'fp16' = 'fp32') {
  const root = tempDir();
  const ckpt = join(root, 'checkpoint');
  mkdirSync(ckpt);
  writeFileSync(join(ckpt, 'config.json'), JSON.stringify(configFromSpec(spec)));
  writeSyntheticCheckpoint(spec, join(ckpt, 'model.safetensors'), seed);
  const out = join(root, 'model');
  const result = convertCheckpoint(ckpt, out, { dtype });
  return { root, ckpt, out, result };
}
