/**
 * The run's engines, one resident at a time: each side's model folder and tokenizer are read up front (no session),
 * then every engine is opened when its first case starts and closed (worker ended, sessions released) before the
 * next one opens. Local engines come first (the diffusion side, then the AR side in config order), HTTP engines last.
 */
import type { RunConfig } from '../config/schema.js';
import { attentionHandicaps } from '../engines/attention-parity.js';
import type { HandicapCode } from '../config/kinds.js';
import type { Handicap } from '../engines/local-info.js';
import { createOpenAIEngine } from '../engines/openai/engine.js';
import type { EngineKind } from '../engines/types.js';
import { type Abortable, spawnTagged } from '../engines/worker/client.js';
import type { ModelFolder } from '../models/folder.js';
import { openModel } from '../models/hub.js';
import { type PromptTokenizer, loadTokenizer } from '../models/tokenize.js';
import type { EngineHandle } from '../scenarios/measure.js';

export interface SideModel {
  role: 'diffusion' | 'ar';
  kinds: EngineKind[];
  ref: string;
  /** Model folder (or hub id); null for an HTTP side. */
  dir: string | null;
}

/** An engine before it is opened: what planning, prompts and results need, without a session. */
export interface EngineSlot {
  role: 'diffusion' | 'ar';
  kind: EngineKind;
  ref: string;
  dir: string | null;
  folder: ModelFolder | null;
  tokenizer: PromptTokenizer | null;
  /** Attention-parity handicap against the other side (from the model folders), appended when it opens. */
  extraHandicap: Handicap | null;
}

/** The slots in the order the run opens them. Reads folders and tokenizers; starts no engine. */
export async function engineSlots(sides: SideModel[]): Promise<EngineSlot[]> {
  const slots: EngineSlot[] = [];
  for (const side of sides) {
    const folder = side.dir ? await openModel(side.dir) : null;
    const tokenizer = folder ? await loadTokenizer(folder) : null;
    for (const kind of side.kinds) slots.push({ role: side.role, kind, ref: side.ref, dir: side.dir, folder, tokenizer, extraHandicap: null });
  }
  const ordered = [...slots.filter((s) => s.kind !== 'openai'), ...slots.filter((s) => s.kind === 'openai')];
  const extra = attentionHandicaps(ordered.map((s) => ({ role: s.role, kind: s.kind, attention: s.folder?.meta.attention })));
  return ordered.map((s, i) => ({ ...s, extraHandicap: extra[i] ?? null }));
}

/** Opens one slot's engine (a worker thread for local engines). */
export async function openSlot(c: RunConfig, slot: EngineSlot, anyTokenizer: PromptTokenizer | null, onWorker?: (w: Abortable) => void): Promise<EngineHandle> {
  const extra = slot.extraHandicap;
  const withExtra = <T extends { handicaps: string[]; handicapCodes: HandicapCode[] }>(info: T): T =>
    extra ? { ...info, handicaps: [...info.handicaps, extra.text], handicapCodes: [...info.handicapCodes, extra.code] } : info;
  if (slot.kind === 'openai') {
    const http = c[slot.role].http!;
    const engine = createOpenAIEngine({ ...http, baseUrl: slot.ref }, anyTokenizer ? { countTokens: (t) => anyTokenizer.count(t) } : {});
    // Completions with a local tokenizer: the served model gets the local side's exact prompt token ids.
    const promptAs = http.endpoint === 'completions' && anyTokenizer ? 'ids' : 'text';
    return { kind: 'openai', role: slot.role, engine, info: withExtra(engine.info), spec: null, tokenizer: anyTokenizer, model: slot.ref, promptAs };
  }
  const tagged = await spawnTagged({ kind: slot.kind, modelDir: slot.dir!, device: c.device, session: c.session });
  onWorker?.(tagged.engine);
  return { ...tagged, role: slot.role, info: withExtra(tagged.engine.info), spec: slot.folder!.meta.spec, tokenizer: slot.tokenizer, model: slot.ref };
}
