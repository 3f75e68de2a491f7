/**
 * The package as users get it: `npm pack`, install the tarball into an empty folder (dependencies from the npm
 * registry), then run the installed CLI with npx. Catches what the in-repo tests cannot: files missing from the
 * `files` list, dist not built into the tarball, paths that only resolve inside the repository.
 *
 * Slow (a real dependency install over the network); DLLM_BENCH_SKIP_PACK=1 skips it.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultsFile } from '../../src/results/types.js';
import { type CliResult, cli, root, run as spawnRun } from '../helpers/cli.js';
import { tempDir } from '../helpers/models.js';

const skip = process.env.DLLM_BENCH_SKIP_PACK === '1';
const title = `npm pack -> npm install <tarball> -> npx dllm-bench${skip ? ' (skipped: DLLM_BENCH_SKIP_PACK=1)' : ''}`;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/**
 * No colour, no spinner; skip onnxruntime-node's CUDA download (the repo's .npmrc does not apply to the temp folder)
 * through the variable its install script reads first: npm 11 warns about an unknown npm_config_* variable.
 */
const baseEnv = { ...process.env, NO_COLOR: '1', CI: '1', ONNXRUNTIME_NODE_INSTALL: 'skip' };

/** `--no`: never fetch a package of that name from the registry; `--`: the rest is the CLI's, not npx's (--help). */
const installed = ['--no', '--', 'dllm-bench'];

function run(cmd: string, args: string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv = baseEnv): Promise<CliResult> {
  return spawnRun(cmd, args, { cwd, env, timeoutMs });
}

function must(r: CliResult, what: string): string {
  if (r.code !== 0) throw new Error(`${what} exited with ${r.code}:\n${`${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-25).join('\n')}`);
  return r.stdout;
}

/** The `Commands:` section of commander's help: one name per line. */
function commandNames(help: string): string[] {
  const section = help.split(/^Commands:\s*$/m)[1] ?? '';
  return section
    .split('\n')
    .map((l) => /^ {2}(\S+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined && n !== 'help');
}

describe.skipIf(skip)(title, () => {
  let work: string;
  let app: string;
  let tarball: string;
  let packed: string[];
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

  beforeAll(async () => {
    work = tempDir('dllm-pack-');
    app = join(work, 'app');
    // prepare is not run for tarball installs: dist must already be in the tarball. The suite's global setup has
    // checked that dist/ is up to date (rebuilding here would race the worker tests that load dist/).
    // --ignore-scripts: prepare would only repeat the build.
    const out = must(await run(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', work], root, 120_000), 'npm pack');
    const info = (JSON.parse(out) as { filename: string; files: { path: string }[] }[])[0]!;
    tarball = join(work, info.filename);
    packed = info.files.map((f) => f.path);
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'dllm-bench-pack-test', version: '0.0.0', private: true }));
    must(await run(npm, ['install', '--no-audit', '--no-fund', '--loglevel', 'error', tarball], app, 280_000), `npm install ${tarball}`);
  }, 300_000);

  // The install is a few hundred MB of node_modules.
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the tarball holds the CLI entry, the built code and the built-in configs; no sources or tests', () => {
    expect(packed).toEqual(expect.arrayContaining(['package.json', 'bin/dllm-bench.js', 'dist/cli/main.js', 'configs/default.json', 'configs/prompts/default.json']));
    expect(packed.filter((p) => p.startsWith('src/') || p.startsWith('test/'))).toEqual([]);
    // GSM8K ships with its license and attribution beside it, and the exemplar indices the prompts need.
    expect(packed).toEqual(expect.arrayContaining(['data/gsm8k/test.jsonl', 'data/gsm8k/train.jsonl', 'data/gsm8k/fewshot.json', 'data/gsm8k/LICENSE', 'data/gsm8k/README.md']));
    expect(existsSync(join(app, 'node_modules', '.bin', 'dllm-bench'))).toBe(true);
  });

  it('npx dllm-bench --help works from the install and lists the same commands as this checkout', async () => {
    const r = await run(npx, [...installed, '--help'], app, 60_000);
    expect(r.stderr).not.toMatch(/internal error|Cannot find module|ERR_MODULE_NOT_FOUND/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: dllm-bench /);
    const names = commandNames(r.stdout);
    expect(names).toEqual(expect.arrayContaining(['run', 'generate', 'models']));
    expect(names).toEqual(commandNames((await cli(['--help'])).stdout));
    const v = await run(npx, [...installed, '--version'], app, 60_000);
    expect(v.stdout.trim()).toBe(version);
  });

  it('the default run (throughput only) completes from the install and writes results.json', async () => {
    const out = join(work, 'results');
    const env = { ...baseEnv, DLLM_BENCH_CACHE: join(work, 'cache') };
    const r = await run(npx, [...installed, 'run', '--out', out, '--repetitions', '1', '--min-time', '0', '--warmup', '0', '--scenarios', 'throughput'], app, 280_000, env);
    expect(r.stderr).not.toMatch(/internal error|Cannot find module|ERR_MODULE_NOT_FOUND/);
    expect(r.code, `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-20).join('\n')).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
    expect(results.complete).toBe(true);
    expect(results.scenarios.map((s) => s.kind)).toEqual(['throughput']);
  }, 300_000);
});
