/**
 * "Can onnxruntime-node really run a graph on provider X here?" answered by doing it: a one-node model (y = a + b)
 * is written to a temp file and run in a separate Node process.
 *
 * Why a child process: a provider that cannot start often does so noisily (Dawn prints Vulkan warnings, the CUDA
 * bridge logs the missing library straight to fd 2) or, with a broken driver, fatally. Out of process, that output
 * is captured (it names the missing library better than the JS error does), a native crash or hang becomes a
 * failed probe with a reason, and doctor's own output stays clean.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataType, Graph, writeModel } from '../onnx/graph.js';
import { sessionOptions } from '../engines/session.js';

export type SessionProbeResult =
  | { ok: true; createMs: number; runMs: number }
  /** `message`: the JS error (or what happened to the process); `stderr`: what native code printed. */
  | { ok: false; message: string; stderr: string };

/** Inputs [1, 2] and [3, 4]; the probe checks the sum. */
const EXPECTED = [4, 6];

/** CommonJS on purpose: `require` of onnxruntime-node by absolute path, no module resolution in the child. */
const CHILD = `
const [ortPath, modelPath, optionsJson] = process.argv.slice(1);
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
(async () => {
  try {
    const ort = require(ortPath);
    const t0 = performance.now();
    const session = await ort.InferenceSession.create(modelPath, JSON.parse(optionsJson));
    const t1 = performance.now();
    const r = await session.run({
      a: new ort.Tensor('float32', Float32Array.from([1, 2]), [2]),
      b: new ort.Tensor('float32', Float32Array.from([3, 4]), [2]),
    });
    const t2 = performance.now();
    const y = Array.from(r.y.data);
    await session.release();
    say({ ok: true, y, createMs: t1 - t0, runMs: t2 - t1 });
  } catch (e) {
    say({ ok: false, message: String((e && e.message) || e) });
  }
})();
`;

export function writeAddModel(path: string): void {
  const g = new Graph('dllm_bench_doctor');
  const a = g.input('a', DataType.FLOAT, [2]);
  const b = g.input('b', DataType.FLOAT, [2]);
  g.node('Add', [a, b], {}, { outputs: ['y'] });
  g.output('y', DataType.FLOAT, [2]);
  writeModel(path, g, { opsets: [['', 18]], producer: 'dllm-bench doctor' });
}

/** A temp folder with the Add model, shared by every provider probe; `dispose` removes it. */
export function tempAddModel(): { path: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'dllm-doctor-'));
  const path = join(dir, 'add.onnx');
  writeAddModel(path);
  return { path, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export function probeSession(modelPath: string, provider: string, timeoutMs = 60_000): Promise<SessionProbeResult> {
  const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  const options = JSON.stringify(sessionOptions(undefined, [provider]));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-e', CHILD, ortPath, modelPath, options],
      { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const line = stdout.split('\n').reverse().find((l) => l.startsWith('{'));
        let said: { ok: boolean; y?: number[]; createMs?: number; runMs?: number; message?: string } | null = null;
        try {
          said = line ? JSON.parse(line) : null;
        } catch {
          said = null;
        }
        if (said?.ok) {
          if (JSON.stringify(said.y) !== JSON.stringify(EXPECTED)) {
            return resolve({ ok: false, message: `the test graph returned ${JSON.stringify(said.y)}, expected ${JSON.stringify(EXPECTED)}`, stderr });
          }
          return resolve({ ok: true, createMs: said.createMs ?? 0, runMs: said.runMs ?? 0 });
        }
        if (said && !said.ok) return resolve({ ok: false, message: said.message ?? 'unknown error', stderr });
        resolve({ ok: false, message: describeChildFailure(err, timeoutMs), stderr });
      },
    );
  });
}

function describeChildFailure(err: (Error & { killed?: boolean; signal?: string | null; code?: unknown }) | null, timeoutMs: number): string {
  if (!err) return 'the probe process printed no result';
  if (err.killed && err.signal === 'SIGKILL') return `the probe did not finish within ${Math.round(timeoutMs / 1000)} s`;
  if (err.signal) return `the probe process was killed by ${err.signal} (a native crash)`;
  return `the probe process exited with code ${String(err.code)}`;
}
