/**
 * Both sides of a comparison should run the same class of attention kernel, so that each side runs at its best
 * (README, "How each verdict is decided": AR at its best).
 * Fused MultiHeadAttention and fused GroupQueryAttention are the same class (the fused op for each head layout);
 * an unfused (MatMul/Softmax) graph against a fused one, or an external export whose kernel is not recorded, is a
 * difference that results must list as a handicap of that engine.
 */
import type { Handicap } from './local-info.js';
import type { EngineInfo } from './types.js';

type Role = 'diffusion' | 'ar';
type Attention = NonNullable<EngineInfo['attention']>;

export const GQA_PADDING_NOTE = 'left-padded batches (rows of different lengths) run MatMul/Softmax attention: GroupQueryAttention takes no attention bias on CUDA';

const isFused = (a: Attention) => a === 'fused-mha' || a === 'fused-gqa';

/** The extra handicap of each engine (same order as the input), or null where its attention matches the other side. */
export function attentionHandicaps(engines: readonly { role: Role; kind: string; attention?: Attention }[]): (Handicap | null)[] {
  return engines.map((e) => {
    if (!e.attention) return null;
    // The GQA graph's fused op cannot hide left padding on CUDA (no attention bias there): padded batches branch.
    if (e.attention === 'fused-gqa') return { code: 'gqa-padding', text: GQA_PADDING_NOTE };
    const others = engines.filter((o) => o.role !== e.role && o.attention);
    const fusedOther = others.find((o) => isFused(o.attention!));
    if (!fusedOther) return null;
    if (e.attention === 'unfused') return { code: 'attention-unfused', text: `attention unfused (MatMul/Softmax) while ${fusedOther.kind} uses fused ${fusedOther.attention}` };
    if (e.attention === 'unknown') return { code: 'attention-unknown', text: `attention kernel not recorded (external ONNX export) while ${fusedOther.kind} uses fused ${fusedOther.attention}` };
    return null;
  });
}

/** Engine infos with the attention handicaps appended (new objects; the inputs are not changed). */
export function withAttentionParity<T extends { role: Role; kind: string; info: EngineInfo }>(handles: T[]): T[] {
  const extra = attentionHandicaps(handles.map((h) => ({ role: h.role, kind: h.kind, attention: h.info.attention })));
  return handles.map((h, i) => {
    const x = extra[i];
    return x ? { ...h, info: { ...h.info, handicaps: [...h.info.handicaps, x.text], handicapCodes: [...h.info.handicapCodes, x.code] } } : h;
  });
}
