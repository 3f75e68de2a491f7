/**
 * doctor: the pure formatter and aggregation; each probe against this machine (and stand-ins where a machine
 * like this cannot show the other outcome); the built CLI end to end.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import chalk from 'chalk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUDA_INSTALL_FIX, cudaProviderInstalled } from '../../src/engines/device.js';
import { buildPreset } from '../../src/models/build.js';
import { cacheEntryName, parseCacheEntryName } from '../../src/models/cache.js';
import { MODEL_FORMAT_VERSION } from '../../src/models/folder.js';
import { type CheckResult, countByStatus, doctorReport, overallOk, runProbe, runProbes } from '../../src/doctor/checks.js';
import { collectChecks } from '../../src/doctor/doctor.js';
import { formatChecks, formatJson, tally } from '../../src/doctor/format.js';
import {
  checkCache,
  checkCpu,
  checkCuda,
  checkModel,
  checkNode,
  checkNvidiaSmi,
  findExecutable,
  missingLibrary,
  splitFix,
} from '../../src/doctor/probes.js';
import { probeSession, tempAddModel } from '../../src/doctor/session-probe.js';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/models.js';

const sample: CheckResult[] = [
  { id: 'node', status: 'ok', summary: 'Node 20.1.0' },
  { id: 'cuda', status: 'warn', summary: 'not installed', detail: 'looked in /x\nand /y', fix: 'install it' },
  { id: 'nvidia-smi', status: 'skip', summary: 'not found' },
  { id: 'model:/a/very/long/folder', status: 'fail', summary: 'no config.json' },
];

describe('formatting (pure)', () => {
  let level: typeof chalk.level;
  beforeAll(() => {
    level = chalk.level;
    chalk.level = 0;
  });
  afterAll(() => {
    chalk.level = level;
  });

  it('prints one aligned, marked line per check, detail and fix indented under the summary, then a tally', () => {
    expect(formatChecks(sample)).toBe(
      [
        '✓ node            Node 20.1.0',
        '! cuda            not installed',
        '                  looked in /x',
        '                  and /y',
        '                  fix: install it',
        '- nvidia-smi      not found',
        '✗ model:/a/very/long/folder  no config.json',
        '',
        '1 ok, 1 warning, 1 failed, 1 skipped: fix the failed checks above',
        '',
      ].join('\n'),
    );
  });

  it('aligns to the longest id when ids are short', () => {
    const out = formatChecks([
      { id: 'cpu', status: 'ok', summary: 'a' },
      { id: 'webgpu', status: 'warn', summary: 'b' },
    ]);
    expect(out.split('\n').slice(0, 2)).toEqual(['✓ cpu     a', '! webgpu  b']);
  });

  it('colours marks only when chalk is told to', () => {
    chalk.level = 1;
    try {
      expect(formatChecks(sample)).toContain('\u001b[');
    } finally {
      chalk.level = 0;
    }
    expect(formatChecks(sample)).not.toContain('\u001b[');
  });

  it('--json: schemaVersion 1, the checks as given, ok false when any failed', () => {
    const doc = JSON.parse(formatJson(sample));
    expect(doc).toEqual({ schemaVersion: 1, checks: sample, ok: false });
    expect(JSON.parse(formatJson(sample.slice(0, 3))).ok).toBe(true);
  });

  it('tally says warnings in the singular and plural', () => {
    expect(tally([])).toBe('0 ok, 0 warnings, 0 failed, 0 skipped');
    expect(tally(sample.slice(0, 2))).toBe('1 ok, 1 warning, 0 failed, 0 skipped');
  });

});

describe('aggregation (pure)', () => {
  it('only a failed check makes the report not ok; warnings and skips do not', () => {
    expect(overallOk([])).toBe(true);
    expect(overallOk(sample.filter((c) => c.status !== 'fail'))).toBe(true);
    expect(overallOk(sample)).toBe(false);
    expect(doctorReport(sample).ok).toBe(false);
    expect(countByStatus(sample)).toEqual({ ok: 1, warn: 1, fail: 1, skip: 1 });
  });

  it('a probe that throws (sync or async) becomes a failed check; the others still run, in order', async () => {
    const results = await runProbes([
      { id: 'a', run: () => ({ id: 'a', status: 'ok', summary: 'fine' }) },
      {
        id: 'b',
        run: () => {
          throw new Error('boom\nsecond line');
        },
      },
      { id: 'c', run: async () => Promise.reject(new Error('async boom')) },
    ]);
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['a', 'ok'],
      ['b', 'fail'],
      ['c', 'fail'],
    ]);
    expect(results[1]!.summary).toBe('the check itself failed: boom');
    expect(results[2]!.summary).toBe('the check itself failed: async boom');
    expect((await runProbe({ id: 'x', run: () => Promise.reject('a string') })).summary).toContain('a string');
  });

  it('splits "reason (a; b); fix" at the last top-level "; "', () => {
    expect(splitFix('cuDNN missing (libcudnn.so.9: x; y); install cuDNN 9')).toEqual({ summary: 'cuDNN missing (libcudnn.so.9: x; y)', fix: 'install cuDNN 9' });
    expect(splitFix('no CUDA GPU is visible (check nvidia-smi; and CUDA_VISIBLE_DEVICES)')).toEqual({ summary: 'no CUDA GPU is visible (check nvidia-smi; and CUDA_VISIBLE_DEVICES)' });
  });

  it('finds the missing library in onnxruntime\'s native log', () => {
    const log = '\u001b[1;31m2026 [E:onnxruntime:onnxruntime-node, provider_bridge_ort.cc:2146 Create] x.cc:1988 [ONNXRuntimeError] : 1 : FAIL : Failed to load library /o/libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file: No such file or directory';
    expect(missingLibrary(log)).toBe('libcudnn.so.9: cannot open shared object file');
    expect(missingLibrary('nothing here')).toBeUndefined();
  });
});

describe('probes on this machine', () => {
  const cache = join(tempDir('dllm-doctor-cache-'), 'not-yet');
  let checks: CheckResult[];
  const byId = (id: string) => checks.find((c) => c.id === id)!;
  beforeAll(async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DLLM_BENCH_CACHE: cache };
    delete env.DLLM_BENCH_NVIDIA_SMI;
    checks = await collectChecks({ env, models: [join(cache, 'no-such-model')] });
  }, 180_000);

  it('runs every check, in a fixed order, each with a status and a one-line summary', () => {
    expect(checks.map((c) => c.id)).toEqual(['node', 'onnxruntime', 'cpu', 'cuda', 'webgpu', 'nvidia-smi', 'cache', `model:${join(cache, 'no-such-model')}`]);
    for (const c of checks) {
      expect(['ok', 'warn', 'fail', 'skip']).toContain(c.status);
      expect(c.summary).not.toContain('\n');
    }
  });

  it('Node and onnxruntime-node are ok; onnxruntime lists cpu among its backends', () => {
    expect(byId('node').status).toBe('ok');
    expect(byId('onnxruntime').status).toBe('ok');
    expect(byId('onnxruntime').summary).toMatch(/onnxruntime-node 1\.\d+\.\d+; backends: cpu/);
  });

  it('the CPU provider really creates a session and runs the test graph', () => {
    expect(byId('cpu')).toMatchObject({ status: 'ok', summary: expect.stringMatching(/session created in \d+ ms, test graph ran in [\d.]+ ms/) });
  });

  it.skipIf(cudaProviderInstalled())('CUDA without its provider libraries: warn, with the exact install command as the fix', () => {
    expect(byId('cuda')).toMatchObject({ status: 'warn', fix: CUDA_INSTALL_FIX });
    expect(byId('cuda').summary).toMatch(/not installed/);
  });

  it('WebGPU: ok, or a warning that names the adapter problem in one line', () => {
    const w = byId('webgpu');
    expect(['ok', 'warn']).toContain(w.status);
    if (w.status === 'warn') expect(w.summary).toMatch(/^no usable WebGPU adapter: \S/);
  });

  it.skipIf(findExecutable('nvidia-smi') !== null)('nvidia-smi absent: skip, with the reason', () => {
    expect(byId('nvidia-smi')).toMatchObject({ status: 'skip', summary: expect.stringMatching(/not found on PATH/) });
  });

  it('a cache folder that does not exist yet is fine', () => {
    expect(byId('cache')).toMatchObject({ status: 'ok', summary: expect.stringContaining('not created yet') });
  });

  it('a --model that is not a model folder fails that check with the reason', () => {
    const m = checks.at(-1)!;
    expect(m.status).toBe('fail');
    expect(m.summary).toBe(`${join(cache, 'no-such-model')}: model folder not found`);
    expect(overallOk(checks)).toBe(false);
  });
});

describe('probes, one at a time', () => {
  it('Node older than 20 fails with the fix', () => {
    expect(checkNode('18.19.0')).toMatchObject({ status: 'fail', fix: expect.stringContaining('Node 20') });
    expect(checkNode('20.0.0').status).toBe('ok');
    expect(checkNode('22.11.0').status).toBe('ok');
  });

  it('the session probe reports a graph onnxruntime rejects instead of throwing', async () => {
    const dir = tempDir();
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, 'not a model');
    const r = await probeSession(bad, 'cpu');
    expect(r.ok).toBe(false);
    const check = await checkCpu(bad);
    expect(check.status).toBe('fail');
    expect(check.summary).toMatch(/^the CPU provider cannot run a one-node graph: \S/);
  });

  it('a probe process that dies is a failed probe with the reason, not a crash', async () => {
    const m = tempAddModel();
    try {
      const r = await probeSession(m.path, 'cpu', 1); // 1 ms: killed before it can answer
      expect(r).toMatchObject({ ok: false, message: expect.stringMatching(/did not finish within|killed|exited/) });
    } finally {
      m.dispose();
    }
  });

  it('CUDA installed but failing: classified from the native log, summary and fix split', async () => {
    let seen = '';
    const r = await checkCuda('/unused.onnx', {
      installed: () => true,
      probe: async () => ({
        ok: false,
        message: 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library',
        stderr: 'FAIL : Failed to load library /o/libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file: No such file or directory\n',
      }),
      explain: (err) => {
        seen = (err as Error).message;
        return 'cuDNN 9 libraries were not found (libcudnn.so.9: cannot open shared object file); install cuDNN 9 for CUDA 12';
      },
    });
    expect(seen.split('\n')[0]).toBe('libcudnn.so.9: cannot open shared object file');
    expect(r).toMatchObject({
      id: 'cuda',
      status: 'warn',
      summary: 'CUDA session failed: cuDNN 9 libraries were not found (libcudnn.so.9: cannot open shared object file)',
      fix: 'install cuDNN 9 for CUDA 12',
    });
    expect(r.detail).toContain('Failed to load shared library');
  });

  it('CUDA installed and working: ok with timings', async () => {
    const r = await checkCuda('/unused.onnx', { installed: () => true, probe: async () => ({ ok: true, createMs: 900, runMs: 0.4 }) });
    expect(r).toMatchObject({ status: 'ok', summary: 'session created in 900 ms, test graph ran in 0.4 ms' });
  });

  describe('nvidia-smi through a stand-in', () => {
    const dir = tempDir('dllm-doctor-smi-');
    const script = (name: string, body: string) => {
      const p = join(dir, name);
      writeFileSync(p, `#!/bin/sh\n${body}\n`);
      chmodSync(p, 0o755);
      return p;
    };

    it('lists the GPUs it reports', async () => {
      const smi = script('ok-smi', 'echo "0, NVIDIA H100 80GB HBM3, 550.54.15, 81559"\necho "1, NVIDIA H100 80GB HBM3, 550.54.15, 81559"');
      const r = await checkNvidiaSmi({ ...process.env, DLLM_BENCH_NVIDIA_SMI: smi });
      expect(r).toMatchObject({ status: 'ok', summary: '2 GPUs: NVIDIA H100 80GB HBM3' });
      expect(r.detail).toBe('GPU 0: NVIDIA H100 80GB HBM3 (driver 550.54.15, 79.6 GiB)\nGPU 1: NVIDIA H100 80GB HBM3 (driver 550.54.15, 79.6 GiB)');
    });

    it('present but failing: warn with what it said', async () => {
      const smi = script('broken-smi', 'echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver." >&2\nexit 9');
      const r = await checkNvidiaSmi({ ...process.env, DLLM_BENCH_NVIDIA_SMI: smi });
      expect(r.status).toBe('warn');
      expect(r.summary).toContain("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.");
    });

    it('an explicit path with nothing there: warn (the user asked for it)', async () => {
      const r = await checkNvidiaSmi({ ...process.env, DLLM_BENCH_NVIDIA_SMI: join(dir, 'missing') });
      expect(r.status).toBe('warn');
      expect(r.summary).toContain('no executable there');
    });

    it('found on PATH like the shell finds it', () => {
      script('nvidia-smi', 'exit 0');
      expect(findExecutable('nvidia-smi', { PATH: `/nonexistent:${dir}` })).toBe(join(dir, 'nvidia-smi'));
      expect(findExecutable('nvidia-smi', { PATH: '/nonexistent' })).toBeNull();
    });
  });

  describe('model cache and model folders', () => {
    const root = tempDir('dllm-doctor-cache-');
    const built = join(tempDir(), 'tiny-llada');
    beforeAll(() => {
      buildPreset(built, { preset: 'tiny', family: 'llada', seed: 0, dtype: 'fp32' });
      const models = join(root, 'models');
      mkdirSync(models, { recursive: true });
      cpSync(built, join(models, `tiny-llada-fp32-seed0-v${MODEL_FORMAT_VERSION}`), { recursive: true });
      cpSync(built, join(models, `tiny-llada-fp32-seed0-v${MODEL_FORMAT_VERSION}.tmp-123`), { recursive: true });
      mkdirSync(join(models, 'tiny-llama-fp32-seed0-v0'));
      // A trained preset's entry, named by its checkpoint's hash as `run` names it (cacheEntryName).
      cpSync(built, join(models, cacheEntryName({ preset: 'twins', family: 'llada', dtype: 'fp32', variant: 'c476520d1910', formatVersion: MODEL_FORMAT_VERSION })), { recursive: true });
    }, 60_000);

    it('names entries with one function and reads them back with its inverse', () => {
      const k = { preset: 'twins', family: 'llama' as const, dtype: 'fp16' as const, variant: '3ff19a51fc52', formatVersion: 3 };
      expect(cacheEntryName(k)).toBe('twins-llama-fp16-3ff19a51fc52-v3');
      expect(parseCacheEntryName(cacheEntryName(k))).toEqual(k);
      expect(parseCacheEntryName(cacheEntryName({ ...k, preset: 'llada-8b', variant: 'seed42' }))).toEqual({ ...k, preset: 'llada-8b', variant: 'seed42' });
      expect(parseCacheEntryName('my-notes')).toBeNull();
    });

    it('lists what is built, with sizes, and flags leftovers', () => {
      const r = checkCache({ DLLM_BENCH_CACHE: root });
      expect(r.status).toBe('ok');
      expect(r.summary).toMatch(new RegExp(`: writable, 2 models built \\(tiny-llada-fp32-seed0-v${MODEL_FORMAT_VERSION}, twins-llada-fp32-c476520d1910-v${MODEL_FORMAT_VERSION}\\), [\\d.]+ MiB in all$`));
      const lines = r.detail!.split('\n');
      expect(lines).toHaveLength(4);
      expect(lines.find((l) => l.startsWith('twins-'))).toMatch(/MiB {2}twins preset, llada, fp32, trained weights c476520d1910$/);
      expect(lines.find((l) => l.includes('.tmp-123'))).toContain('interrupted build');
      expect(lines.find((l) => l.startsWith('tiny-llama-fp32-seed0-v0'))).toContain('older model format');
      expect(lines.find((l) => l.startsWith(`tiny-llada-fp32-seed0-v${MODEL_FORMAT_VERSION} `))).toMatch(/MiB  tiny preset, llada, fp32, seed 0$/);
    });

    it('an empty cache folder is fine', () => {
      expect(checkCache({ DLLM_BENCH_CACHE: tempDir() })).toMatchObject({ status: 'ok', summary: expect.stringMatching(/: writable, 0 models built, 0 B in all$/) });
    });

    it('a cache path under a file cannot be created: fail with the fix', () => {
      const file = join(root, 'a-file');
      writeFileSync(file, '');
      expect(checkCache({ DLLM_BENCH_CACHE: file })).toMatchObject({ status: 'fail', fix: expect.stringContaining('DLLM_BENCH_CACHE') });
    });

    it.skipIf(process.getuid?.() === 0)('a read-only cache with nothing built fails', () => {
      const ro = tempDir('dllm-doctor-ro-');
      chmodSync(ro, 0o555);
      try {
        expect(checkCache({ DLLM_BENCH_CACHE: ro })).toMatchObject({ status: 'fail', summary: expect.stringContaining('not writable') });
      } finally {
        chmodSync(ro, 0o755);
      }
    });

    it('--model: a valid folder is ok and described; a folder without config.json fails with the reason', () => {
      expect(checkModel(built)).toMatchObject({
        id: `model:${built}`,
        status: 'ok',
        summary: expect.stringMatching(/^llada \(diffusion graph\), fp32, [\d.]+M parameters, [\d.]+ MiB ONNX; synthetic tiny preset, seed 0$/),
      });
      const empty = tempDir();
      expect(checkModel(empty)).toMatchObject({ status: 'fail', summary: expect.stringContaining('not a model folder (no config.json)') });
      expect(existsSync(empty)).toBe(true);
    });
  });
});

describe('dllm-bench doctor (built CLI)', () => {
  const env = { DLLM_BENCH_CACHE: tempDir('dllm-doctor-cli-') };

  it('--format json prints the report on stdout and exits 0 when nothing failed', async () => {
    const r = await cli(['doctor', '--format', 'json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.schemaVersion).toBe(1);
    expect(doc.ok).toBe(true);
    expect(doc.checks.map((c: CheckResult) => c.id)).toEqual(['node', 'onnxruntime', 'cpu', 'cuda', 'webgpu', 'nvidia-smi', 'cache']);
    expect(doc.checks.find((c: CheckResult) => c.id === 'cpu').status).toBe('ok');
  });

  it('a bogus --model makes it exit 1; the human list marks it', async () => {
    const r = await cli(['doctor', '--model', '/definitely/not/here'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^✓ node /m);
    expect(r.stdout).toContain('✗ model:/definitely/not/here  /definitely/not/here: model folder not found');
    expect(r.stdout).not.toContain('\u001b[');
  });
});
