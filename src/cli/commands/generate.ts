import type { Command } from 'commander';
import { ArEngine, CacheMode, Device, Remasking } from '../../config/schema.js';
import { FAMILY_NAMES } from '../../models/families.js';
import { idList, nonNegativeFloat, nonNegativeInt, oneOf, positiveInt, probability } from '../parse.js';

const SIDES_OR_FAMILIES = ['diffusion', 'ar', ...FAMILY_NAMES] as const;

export function register(program: Command): void {
  program
    .command('generate')
    .description('decode prompts (one batch, left-padded) with the engine the model folder implies (llada: diffusion, llama: autoregressive)')
    .requiredOption('--model <dir>', 'model folder (built by "models build" or "models convert"), a preset run accepts (twins, tiny, ...), or a Hugging Face hub id owner/name[@revision]')
    .option('--family <family>', `with a preset: which of its models, by side or family: ${SIDES_OR_FAMILIES.join(' | ')} (default diffusion)`, oneOf(SIDES_OR_FAMILIES))
    .option('--prompt <text>', 'prompt text (wrapped in the model\'s chat template unless --raw); repeat for a batch', (v: string, prev: string[] = []) => [...prev, v])
    .option('--prompt-ids <ids>', 'prompt token ids, e.g. 1,2,3; repeat for a batch', (v: string, prev: number[][] = []) => [...prev, idList(v)])
    .option('--prompts-file <file>', 'a JSON array of prompts, each a text or an array of token ids')
    .option('--raw', 'do not apply the chat template')
    .option('--gen-length <n>', 'diffusion: generated positions', positiveInt, 32)
    .option('--steps <n>', 'diffusion: denoising steps', positiveInt)
    .option('--block-length <n>', 'diffusion: block length (semi-autoregressive)', positiveInt)
    .option('--temperature <t>', 'diffusion: Gumbel temperature (0 = greedy)', nonNegativeFloat, 0)
    .option('--cfg <s>', 'diffusion: classifier-free guidance scale', nonNegativeFloat, 0)
    .option('--remasking <mode>', `diffusion: ${Remasking.options.join(' | ')}`, oneOf(Remasking.options), 'low_confidence')
    .option('--threshold <x>', 'diffusion: Fast-dLLM parallel decoding threshold in (0, 1]', probability)
    .option('--cache <mode>', 'diffusion: Fast-dLLM KV cache: none | prefix | dual', oneOf(CacheMode.options), 'none')
    .option('--seed <n>', 'sampling seed', nonNegativeInt, 0)
    .option('--max-new-tokens <n>', 'autoregressive: new tokens', positiveInt)
    .option('--mode <mode>', 'autoregressive: fixed (exactly N tokens) | natural (stop at EOS)', oneOf(['fixed', 'natural'] as const), 'natural')
    .option('--engine <engine>', 'autoregressive engine: ar (transformers.js) | ar-ort (direct onnxruntime) | ar-loop (decode loop in one onnxruntime call)', oneOf(ArEngine.options), 'ar')
    .option('--device <device>', Device.options.join(' | '), oneOf(Device.options), 'auto')
    .option('--threads <n>', 'onnxruntime intra-op threads', positiveInt)
    .option('--json', 'print one JSON object on stdout')
    .action(async (o) => {
      const { generateCommand } = await import('../../run/generate.js');
      process.exitCode = await generateCommand(o);
    });
}
