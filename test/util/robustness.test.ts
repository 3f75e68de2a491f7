/**
 * Issue 23 at the unit level: no reader loops on cut data, no mkdir spins, a zero-width terminal is not interactive,
 * invalid UTF-8 is refused, and the small validation gaps (steps > gen_length, negative latency, batch size) closed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunConfig } from '../../src/config/schema.js';
import { checkSamplerConfig, fitStepsSweep, fitStepsToGenLength } from '../../src/run/check-config.js';
import { buildPreset } from '../../src/models/build.js';
import { readGraphIoBytes, TruncatedProtobufError } from '../../src/onnx/inspect.js';
import { parseResults } from '../../src/results/read.js';
import { isInteractive } from '../../src/util/color.js';
import { UserError } from '../../src/util/errors.js';
import { decodeUtf8, folderErrorReason, mkdirp } from '../../src/util/fs.js';
import { buildCase, buildResults } from '../fixtures/results/builder.js';
import { tempDir } from '../helpers/models.js';

describe('defect 4: a terminal that reports zero or no columns gets plain lines', () => {
  it('is interactive only on a TTY with a positive width, outside CI', () => {
    expect(isInteractive({}, { isTTY: true, columns: 80 })).toBe(true);
    expect(isInteractive({}, { isTTY: true, columns: 0 })).toBe(false);
    expect(isInteractive({}, { isTTY: true, columns: undefined as unknown as number })).toBe(false);
    expect(isInteractive({}, { isTTY: false, columns: 80 })).toBe(false);
    expect(isInteractive({ CI: '1' }, { isTTY: true, columns: 80 })).toBe(false);
  });
});

describe('defect 5: the ONNX graph reader ends on truncated data', () => {
  it('every cut of a real model file throws TruncatedProtobufError or parses; none loops', () => {
    const dir = tempDir();
    buildPreset(dir, { preset: 'tiny', family: 'llada', seed: 0, dtype: 'fp32' });
    const bytes = readFileSync(join(dir, 'onnx', 'model.onnx'));
    const full = readGraphIoBytes(bytes);
    expect(full.inputs.length).toBeGreaterThan(0);
    // Cuts at 10%, 50%, 99%, plus every byte of the header and a spread of points through the file.
    const cuts = [...Array.from({ length: 64 }, (_, i) => i), ...[0.1, 0.5, 0.99].map((f) => Math.floor(bytes.length * f)), ...Array.from({ length: 200 }, (_, i) => Math.floor((bytes.length * i) / 200))];
    let refused = 0;
    for (const cut of cuts) {
      try {
        readGraphIoBytes(bytes.subarray(0, cut));
      } catch (err) {
        expect(err).toBeInstanceOf(TruncatedProtobufError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(cuts.length / 2);
    // A varint whose continuation bit never clears, at the very end: the old reader read past the buffer forever.
    expect(() => readGraphIoBytes(Uint8Array.from([0x08, 0xff, 0xff]))).toThrow(TruncatedProtobufError);
    expect(() => readGraphIoBytes(Uint8Array.from([0x08, ...Array(12).fill(0xff), 0x01]))).toThrow(TruncatedProtobufError);
    // A length that points past the end.
    expect(() => readGraphIoBytes(Uint8Array.from([0x3a, 0x7f, 0x00]))).toThrow(/runs past the end/);
  });
});

describe('defects 6 and 10: folders that cannot be created fail at once, in one line', () => {
  it('mkdirp under /proc ends with ENOENT instead of spinning (Node recursive mkdir loops there)', async () => {
    // In a child with a time limit: the failure mode is an endless loop, which must not hang the suite.
    const code = `import('${join(process.cwd(), 'dist', 'util', 'fs.js')}').then((m) => { try { m.mkdirp('/proc/nope/x'); console.log('created'); } catch (e) { console.log(e.code); } })`;
    const out = await new Promise<{ stdout: string; killed: boolean }>((resolve) => {
      const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'ignore'] });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.on('close', () => {
        clearTimeout(timer);
        resolve({ stdout, killed: child.killed });
      });
    });
    expect(out.killed).toBe(false);
    expect(out.stdout.trim()).toMatch(/^(ENOENT|EACCES|EPERM|ENOTDIR)$/);
  });

  it('a file in the way is named as such', () => {
    const dir = tempDir();
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    let caught: unknown;
    try {
      mkdirp(join(file, 'sub', 'deeper'));
    } catch (err) {
      caught = err;
    }
    expect((caught as NodeJS.ErrnoException).code).toBe('ENOTDIR');
    expect(folderErrorReason(join(file, 'sub'), caught)).toBe(`${file} is a file, not a folder`);
    mkdirp(join(dir, 'x', 'y', 'z'));
    mkdirp(join(dir, 'x', 'y', 'z')); // exists: fine
    mkdirSync(join(dir, 'x', 'y', 'z', 'w'));
  });
});

describe('defect 12: small validation gaps', () => {
  it('steps greater than gen_length are refused, in the run config and its steps sweep', () => {
    const config = (over: object) => RunConfig.parse({ genLength: 16, llada: { steps: 16, blockLength: 16 }, ...over });
    expect(() => checkSamplerConfig(config({}), 'c.json')).not.toThrow();
    expect(() => checkSamplerConfig(config({ llada: { steps: 64, blockLength: 16 } }), 'c.json')).toThrow(/^config c\.json: steps \(64\) must not exceed gen_length \(16\)/);
    // The sweep drops the values above gen_length, saying so; with none left it is refused.
    const sweep = fitStepsSweep(config({ scenarios: ['steps'], steps: { steps: [8, 32, 64] } }), 'c.json');
    expect(sweep.config.steps.steps).toEqual([8]);
    expect(sweep.note).toBe('steps sweep: 32, 64 exceed gen_length 16 (a step commits at least one token): skipped');
    expect(fitStepsSweep(config({ scenarios: ['steps'], steps: { steps: [8, 16] } }), 'c.json')).toMatchObject({ note: null });
    expect(() => fitStepsSweep(config({ scenarios: ['steps'], steps: { steps: [32, 64] } }), 'c.json')).toThrow(/^config c\.json: steps sweep: steps \(32\) must not exceed gen_length \(16\)/);
    // A threshold decides the steps itself: no limit to check.
    expect(() => checkSamplerConfig(config({ llada: { steps: 64, blockLength: 16, threshold: 0.9 } }), 'c.json')).not.toThrow();
  });

  it('--gen-length below the config\'s steps, without --steps: the steps follow it, with a note; --steps given stays refused', () => {
    // The default config's 16 steps and a --gen-length 8 override (issue 18's memory command): 8 steps, said.
    const c = RunConfig.parse({ genLength: 8, llada: { steps: 16, blockLength: 8 } });
    const fitted = fitStepsToGenLength(c, ['genLength', 'llada.blockLength']);
    expect(fitted.config.llada.steps).toBe(8);
    expect(fitted.note).toBe('llada.steps 16 from the config exceeds --gen-length 8: using 8 steps (one token per step; --steps sets them)');
    expect(() => checkSamplerConfig(fitted.config, 'c.json')).not.toThrow();
    // Steps the user set, or a gen length from the config file itself, are left for checkSamplerConfig to refuse.
    expect(fitStepsToGenLength(c, ['genLength', 'llada.steps'])).toEqual({ config: c, note: null });
    expect(fitStepsToGenLength(c, [])).toEqual({ config: c, note: null });
    expect(() => checkSamplerConfig(c, 'c.json')).toThrow(/steps \(16\) must not exceed gen_length \(8\)/);
  });

  it('invalid UTF-8 is refused, naming the byte', () => {
    expect(decodeUtf8(Buffer.from('héllo'), 'x')).toBe('héllo');
    expect(() => decodeUtf8(Uint8Array.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'prompt set p.json')).toThrow(UserError);
    expect(() => decodeUtf8(Uint8Array.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'prompt set p.json')).toThrow(/^prompt set p\.json: not valid UTF-8 text \(invalid byte sequence at byte 2\)$/);
  });

  it('a negative latencyMs in a results file is refused', () => {
    const good = buildResults({ cases: [buildCase()] });
    expect(() => parseResults(good, 'r.json')).not.toThrow();
    const bad = structuredClone(good);
    bad.scenarios[0]!.cases[0]!.samples[0]!.latencyMs = -5;
    expect(() => parseResults(bad, 'r.json')).toThrow(/latencyMs/);
  });
});

describe('defect 8: a sane bound on batch size', () => {
  it('refuses 100,000 rows per request in either batch field', () => {
    expect(RunConfig.safeParse({ batch: { batchSizes: [1, 1024] } }).success).toBe(true);
    const sweep = RunConfig.safeParse({ batch: { batchSizes: [1, 100000] } });
    expect(sweep.success).toBe(false);
    expect(JSON.stringify(sweep.error?.issues)).toMatch(/at most 1024 rows per request/);
    expect(RunConfig.safeParse({ throughput: { batchSize: 100000 } }).success).toBe(false);
  });
});
