/**
 * Hugging Face hub ids for the transformers.js baseline (`--model onnx-community/Llama-3.2-1B-Instruct-ONNX`): when
 * a reference is not a local folder but looks like owner/name, the config comes from the hub (network permitting)
 * and transformers.js loads the model's own ONNX export. Only the `ar` engine can use it: the other engines need
 * the graphs this project builds.
 */
import { existsSync } from 'node:fs';
import { UserError, errorMessage } from '../util/errors.js';
import { describeFamilies, familyOf, specFromConfig } from './families.js';
import { MODEL_FORMAT_VERSION, type ModelFolder, loadModelFolder } from './folder.js';
import { parseHubRef } from './hf-cache.js';
import { parameterCount } from './spec.js';

export function isHubId(ref: string): boolean {
  return !existsSync(ref) && parseHubRef(ref) !== null;
}

/** A local model folder, or (for an owner/name id that is not a path) a hub model described by its config. */
export async function openModel(ref: string): Promise<ModelFolder> {
  if (!isHubId(ref)) return loadModelFolder(ref);
  const tf = await import('@huggingface/transformers');
  tf.env.allowRemoteModels = true;
  let config: Record<string, unknown>;
  try {
    config = (await tf.AutoConfig.from_pretrained(ref)) as unknown as Record<string, unknown>;
  } catch (err) {
    throw new UserError(`${ref}: not a local model folder, and loading it from the Hugging Face hub failed (${errorMessage(err)}); build or convert a local model folder instead`);
  }
  const spec = specFromConfig(config, `${ref} (config.json)`);
  if (familyOf(spec.family).role !== 'ar') throw new UserError(`${ref}: a ${spec.family} model; hub models are only supported for the transformers.js engine, which runs ${describeFamilies('ar')}`);
  return {
    dir: ref,
    hubId: ref,
    onnxPath: '',
    config,
    meta: {
      formatVersion: MODEL_FORMAT_VERSION,
      family: spec.family,
      graph: 'causal',
      attention: 'unknown',
      dtype: 'fp32',
      onnxFile: '',
      loopOnnxFile: null,
      entriesOnnxFile: null,
      externalData: false,
      onnxBytes: 0,
      parameters: parameterCount(spec),
      synthetic: null,
      source: `hf://${ref}`,
      hasTokenizer: true,
      spec,
    },
  };
}
