/**
 * Text <-> token ids with the model folder's own tokenizer and chat template (transformers.js, offline). Engines
 * only ever see ids, so both sides of a comparison get exactly the same prompt tokens.
 */
import { basename, dirname } from 'node:path';
import { UserError } from '../util/errors.js';
import type { ModelFolder } from './folder.js';

export interface PromptTokenizer {
  /** Applies the chat template (when the tokenizer has one and chat is true) and encodes without extra specials. */
  encode(text: string, chat: boolean): number[];
  decode(ids: number[]): string;
  /** Token count of plain text (no template), e.g. for HTTP output counting. */
  count(text: string): number;
  hasChatTemplate: boolean;
}

export async function loadTokenizer(folder: ModelFolder): Promise<PromptTokenizer> {
  if (!folder.meta.hasTokenizer) {
    throw new UserError(`${folder.dir}: the model folder has no tokenizer files; pass token ids with --prompt-ids instead of text`);
  }
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = Boolean(folder.hubId);
  env.localModelPath = `${dirname(folder.dir)}/`;
  const tok = await AutoTokenizer.from_pretrained(folder.hubId ?? basename(folder.dir));
  const hasChatTemplate = Boolean((tok as unknown as { chat_template?: unknown }).chat_template);
  const ids = (text: string) => Array.from((tok(text, { add_special_tokens: false }).input_ids as { data: ArrayLike<bigint | number> }).data, Number);
  return {
    hasChatTemplate,
    encode(text, chat) {
      if (chat && hasChatTemplate) {
        const templated = tok.apply_chat_template([{ role: 'user', content: text }], { tokenize: false, add_generation_prompt: true }) as string;
        return ids(templated);
      }
      return ids(text);
    },
    // An empty answer (EOS first) decodes to no text; transformers.js refuses an empty id list.
    decode: (t) => (t.length ? tok.decode(t, { skip_special_tokens: false }) : ''),
    count: (text) => ids(text).length,
  };
}
