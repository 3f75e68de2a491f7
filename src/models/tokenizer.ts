/**
 * Synthetic tokenizer files (tokenizer.json + tokenizer_config.json) in the Hugging Face format that
 * transformers.js loads: byte-level BPE over the 256 byte symbols, the family's special tokens at the family's
 * ids, and the family's chat template (both from its adapter). Any text round-trips (as bytes); the remaining ids are pronounceable filler
 * words (" kalo", " temi") so that what random weights generate is readable noise.
 */
import { at } from '../util/indexing.js';
import type { FamilyAdapter } from './families.js';

export interface SpecialTokens {
  bos: number;
  eos: number;
  eot: number;
  startHeader: number;
  endHeader: number;
  /** LLaDA only. */
  mask: number | null;
}

/** GPT-2's reversible byte -> printable unicode mapping used by byte-level BPE. */
export function byteSymbols(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const symbols = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    symbols[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  }
  return symbols;
}

const CONSONANTS = 'bdfghklmnprstvz';
const VOWELS = 'aeiou';

/** Filler word for id i: 1-3 consonant-vowel syllables after a byte-level space ('Ġ'). Unique per i. */
export function fillerWord(i: number): string {
  const n = CONSONANTS.length * VOWELS.length;
  let word = '';
  let k = i;
  do {
    const s = k % n;
    word += at(CONSONANTS, Math.floor(s / VOWELS.length)) + at(VOWELS, s % VOWELS.length);
    k = Math.floor(k / n);
  } while (k > 0);
  return `\u0120${word}`;
}

export function buildTokenizerFiles(
  family: Pick<FamilyAdapter, 'tokens' | 'chatTemplate'>,
  vocabSize: number,
  special: SpecialTokens,
  maxLength: number,
): { tokenizer: object; tokenizerConfig: object } {
  const names = family.tokens;
  const specials = new Map<number, string>();
  for (const key of Object.keys(names) as (keyof SpecialTokens)[]) {
    const id = special[key];
    const name = names[key];
    if (id !== null && id !== undefined && name !== undefined) specials.set(id, name);
  }
  const vocab: Record<string, number> = {};
  const symbols = byteSymbols();
  symbols.forEach((s, i) => (vocab[s] = i));
  for (let id = 256; id < vocabSize; id++) vocab[specials.get(id) ?? fillerWord(id - 256)] = id;
  const addedTokens = [...specials.entries()].map(([id, content]) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
  const tokenizerConfig = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: names.bos ?? null,
    eos_token: names.eos,
    pad_token: names.eos,
    ...(special.mask !== null && names.mask !== undefined ? { mask_token: names.mask } : {}),
    add_bos_token: false,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: maxLength,
    chat_template: family.chatTemplate,
  };
  return { tokenizer, tokenizerConfig };
}
