import type { Command } from 'commander';
import { byteSize } from '../../util/format.js';
import { WeightDtype } from '../../config/schema.js';
import { nonNegativeInt, oneOf } from '../parse.js';
import { FAMILY_NAMES, describeFamilies } from '../../models/families.js';
import { PRESETS } from '../../models/presets.js';
import type { Family } from '../../models/spec.js';

const DTYPES = WeightDtype.options;

export function register(program: Command): void {
  const models = program.command('models').description('build, convert and inspect ONNX model folders');

  models
    .command('build')
    .description('build a synthetic preset (seeded random weights) in a family\'s native layout, then convert it')
    .requiredOption('--preset <name>', Object.keys(PRESETS).join(' | '))
    .requiredOption('--family <family>', describeFamilies(), oneOf(FAMILY_NAMES))
    .requiredOption('--out <dir>', 'output model folder')
    .option('--seed <n>', 'weight seed', nonNegativeInt, 0)
    .option('--dtype <dtype>', DTYPES.join(' | '), oneOf(DTYPES), 'fp32')
    .action(async (o: { preset: string; family: Family; out: string; seed: number; dtype: (typeof DTYPES)[number] }) => {
      const { buildPreset } = await import('../../models/build.js');
      const { getPreset } = await import('../../models/presets.js');
      const { assertWritableDir } = await import('../../util/fs.js');
      getPreset(o.preset); // unknown names fail before anything is written
      assertWritableDir(o.out);
      const r = buildPreset(o.out, { preset: o.preset, family: o.family, seed: o.seed, dtype: o.dtype });
      process.stderr.write(
        `built ${o.preset} (${o.family}, ${o.dtype}, seed ${o.seed}): ${(r.meta.parameters / 1e6).toFixed(1)}M parameters, ${byteSize(r.meta.onnxBytes)} in ${r.seconds.toFixed(1)} s -> ${o.out}\n`,
      );
    });

  models
    .command('convert')
    .description('convert a checkpoint folder (config.json + *.safetensors, native HF layout) or a hub id to an ONNX model folder')
    .argument('<checkpoint>', 'checkpoint folder, or owner/name[@revision] (fetched through the Hugging Face cache)')
    .requiredOption('--out <dir>', 'output model folder')
    .option('--dtype <dtype>', DTYPES.join(' | '), oneOf(DTYPES), 'fp32')
    .action(async (checkpoint: string, o: { out: string; dtype: (typeof DTYPES)[number] }) => {
      const { convertCheckpoint } = await import('../../models/build.js');
      const { assertWritableDir } = await import('../../util/fs.js');
      const { isHubId } = await import('../../models/hub.js');
      assertWritableDir(o.out);
      let source = checkpoint;
      if (isHubId(checkpoint)) {
        const { ensureSnapshot } = await import('../../models/hub-download.js');
        const { parseHubRef } = await import('../../models/hf-cache.js');
        const snap = await ensureSnapshot(parseHubRef(checkpoint)!, {
          onProgress: (p) => {
            if (p.done) process.stderr.write(`downloaded ${checkpoint} ${p.file}: ${byteSize(p.bytes)}, ${byteSize(p.bytesPerSecond)}/s\n`);
          },
        });
        source = snap.dir;
      }
      const r = convertCheckpoint(source, o.out, { dtype: o.dtype });
      for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
      process.stderr.write(
        `converted ${checkpoint} (${r.meta.family}, ${o.dtype}): ${(r.meta.parameters / 1e6).toFixed(1)}M parameters, ${byteSize(r.meta.onnxBytes)} in ${r.seconds.toFixed(1)} s -> ${o.out}\n`,
      );
    });

  models
    .command('inspect')
    .description('family, parameters, dimensions, file sizes, graph inputs and outputs of a model folder')
    .argument('<dir>', 'model folder')
    .option('--json', 'print JSON on stdout')
    .action(async (dir: string, o: { json?: boolean }) => {
      const { inspectModel } = await import('../../models/inspect.js');
      const info = inspectModel(dir);
      if (o.json) {
        process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
        return;
      }
      const s = info.spec;
      const lines = [
        `${info.dir}`,
        `  family       ${info.family} (${info.graph} graph), ${info.dtype}${info.synthetic ? `, synthetic preset ${info.synthetic.preset} seed ${info.synthetic.seed}` : ''}`,
        `  attention    ${info.attention} (${info.attentionOp})`,
        `  parameters   ${(info.parameters / 1e6).toFixed(2)}M`,
        `  dimensions   d=${s.hiddenSize} layers=${s.numLayers} heads=${s.numHeads} kv=${s.numKvHeads} head_dim=${s.headDim} mlp=${s.intermediateSize} vocab=${s.vocabSize} max_len=${s.maxPositions}`,
        `  tokens       eos=${s.eosTokenIds.join(',')}${s.maskTokenId !== null ? ` mask=${s.maskTokenId}` : ''}${info.hasTokenizer ? '' : ' (no tokenizer files)'}`,
        `  files        ${info.files.map((f) => `${f.path} ${byteSize(f.bytes)}`).join(', ')}`,
        `  inputs       ${info.inputs.map((i) => `${i.name} ${i.elemType}[${i.shape.join(',')}]`).join('; ')}`,
        `  outputs      ${info.outputs.map((i) => `${i.name} ${i.elemType}[${i.shape.join(',')}]`).join('; ')}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
