import { describe, expect, it } from 'vitest';
import { GQA_PADDING_NOTE, attentionHandicaps, withAttentionParity } from '../../src/engines/attention-parity.js';
import type { EngineInfo } from '../../src/engines/types.js';

describe('attention parity between the two sides', () => {
  it('fused MHA against fused GQA is the same class; the GQA side lists only its padded-batch branch', () => {
    expect(attentionHandicaps([
      { role: 'diffusion', kind: 'llada', attention: 'fused-mha' },
      { role: 'ar', kind: 'ar-ort', attention: 'fused-gqa' },
    ])).toEqual([null, { code: 'gqa-padding', text: GQA_PADDING_NOTE }]);
  });

  it('an unfused side against a fused one is listed on the unfused side, whichever it is', () => {
    expect(attentionHandicaps([
      { role: 'diffusion', kind: 'llada', attention: 'fused-mha' },
      { role: 'ar', kind: 'ar-ort', attention: 'unfused' },
      { role: 'ar', kind: 'ar', attention: 'unknown' },
    ])).toEqual([
      null,
      { code: 'attention-unfused', text: 'attention unfused (MatMul/Softmax) while llada uses fused fused-mha' },
      { code: 'attention-unknown', text: 'attention kernel not recorded (external ONNX export) while llada uses fused fused-mha' },
    ]);
    expect(attentionHandicaps([
      { role: 'diffusion', kind: 'llada', attention: 'unfused' },
      { role: 'ar', kind: 'ar-loop', attention: 'fused-gqa' },
    ])[0]?.text).toMatch(/^attention unfused .* ar-loop uses fused fused-gqa$/);
  });

  it('both unfused, or an HTTP side without a recorded kernel, is no difference to list', () => {
    expect(attentionHandicaps([
      { role: 'diffusion', kind: 'llada', attention: 'unfused' },
      { role: 'ar', kind: 'ar-ort', attention: 'unfused' },
      { role: 'ar', kind: 'openai' },
    ])).toEqual([null, null, null]);
  });

  it('withAttentionParity appends to copies of the engine infos', () => {
    const info = (attention: EngineInfo['attention']): EngineInfo => ({ kind: 'ar-ort', model: 'm', family: 'llama', device: 'cpu', executionProvider: 'cpu', dtype: 'fp32', synthetic: true, handicaps: ['h'], handicapCodes: ['kv-round-trip'], eosTokenIds: [], attention });
    const handles = [
      { role: 'diffusion' as const, kind: 'llada', info: { ...info('fused-mha'), kind: 'llada' as const } },
      { role: 'ar' as const, kind: 'ar-ort', info: info('unfused') },
    ];
    const out = withAttentionParity(handles);
    expect(out[0]).toBe(handles[0]);
    expect(out[1]!.info.handicaps).toEqual(['h', 'attention unfused (MatMul/Softmax) while llada uses fused fused-mha']);
    expect(out[1]!.info.handicapCodes).toEqual(['kv-round-trip', 'attention-unfused']);
    expect(handles[1]!.info.handicaps).toEqual(['h']);
  });
});
