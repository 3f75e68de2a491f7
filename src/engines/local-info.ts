import { at } from '../util/indexing.js';
import type { ModelFolder } from '../models/folder.js';
import type { DeviceChoice } from './device.js';
import type { HandicapCode } from '../config/kinds.js';
import type { EngineInfo, EngineKind } from './types.js';

/** A disclosed handicap: its code (what readers judge) and its prose (what people read). */
export interface Handicap {
  code: HandicapCode;
  text: string;
}

/** EngineInfo of an in-process engine over a model folder: what results record as the case's conditions. */
export function localEngineInfo(kind: EngineKind, model: string, folder: ModelFolder, choice: DeviceChoice, handicaps: Handicap[] = []): EngineInfo {
  const spec = folder.meta.spec;
  return {
    kind,
    model,
    family: folder.meta.family,
    device: choice.device,
    executionProvider: at(choice.executionProviders, 0, 'choice.executionProviders'),
    dtype: folder.meta.dtype,
    synthetic: folder.meta.synthetic !== null,
    handicaps: handicaps.map((h) => h.text),
    handicapCodes: handicaps.map((h) => h.code),
    parameters: folder.meta.parameters,
    deviceNote: choice.note,
    eosTokenIds: spec.eosTokenIds,
    maxPositions: spec.maxPositions,
    attention: folder.meta.attention,
  };
}
