/** `run` against a real OpenAI-compatible SSE server on 127.0.0.1 (the HTTP side of a comparison). */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultsFile } from '../../src/results/types.js';
import { cliAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/models.js';
import { type HostileServer, startHostileServer } from '../helpers/hostile-server.js';

let server: HostileServer;
const cache = tempDir('dllm-cache-');

beforeAll(async () => {
  server = await startHostileServer({ tokens: Array.from({ length: 8 }, (_, i) => ` t${i}`), firstDelayMs: 5, interDelayMs: 2 });
});
afterAll(async () => {
  await server.close();
});

function config(dir: string): string {
  const file = join(dir, 'http.json');
  writeFileSync(
    file,
    JSON.stringify({
      diffusion: { model: 'tiny' },
      ar: { model: server.baseUrl, http: { model: 'stub-llama', endpoint: 'chat' } },
      device: 'cpu',
      scenarios: ['throughput', 'batch'],
      warmup: 0,
      repetitions: 2,
      genLength: 8,
      llada: { steps: 8, blockLength: 8 },
      throughput: { prompts: 2 },
      batch: { batchSizes: [1, 2] },
      http: { concurrency: [1, 2], requests: 4, durationSec: 30, maxErrorRate: 0.05 },
    }),
  );
  return file;
}

describe('run with an HTTP engine', () => {
  it('measures the server with closed-loop concurrency beside the local diffusion engine', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const res = await cliAsync(['run', '--config', config(dir), '--out', out], { DLLM_BENCH_CACHE: cache }).done;
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(0);
    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
    const http = r.scenarios[0]!.cases.filter((c) => c.engine === 'openai');
    expect(http.map((c) => c.params.concurrency)).toEqual([1, 2]);
    for (const c of http) {
      expect(c.state).toBe('completed');
      expect(c.summary.tokensPerSec!.mean).toBeGreaterThan(0);
      expect(c.summary.ttftMs!.mean).toBeGreaterThanOrEqual(5);
    }
    expect(r.scenarios[1]!.cases.some((c) => c.engine === 'openai' && c.params.batchSize === 2 && c.state === 'completed')).toBe(true);
    expect(server.maxInFlight).toBeGreaterThanOrEqual(2);
    const body = server.requests.at(-1)!.body;
    expect(body.max_tokens).toBe(8);
    expect(body.stream).toBe(true);
  }, 120_000);

  it('a server failing every request: errored case, error rate in the reason, exit 1, other engines measured', async () => {
    server.setScript({ status: 500, errorBody: '{"error":"overloaded"}' });
    const dir = tempDir();
    const out = join(dir, 'out');
    const res = await cliAsync(['run', '--config', config(dir), '--out', out, '--scenarios', 'throughput'], { DLLM_BENCH_CACHE: cache }).done;
    expect(res.code).toBe(1);
    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
    const http = r.scenarios[0]!.cases.filter((c) => c.engine === 'openai');
    expect(http[0]!.state).toBe('errored');
    expect(http[0]!.state === 'errored' && http[0]!.error).toMatch(/error rate 100\.0% exceeds the limit 5\.0%/);
    // Every failed request is in results.json with its code and message, not only a count.
    expect(http[0]!.requestFailures!.count).toBe(http[0]!.requestFailures!.kept.length);
    expect(http[0]!.requestFailures!.kept[0]).toEqual({ code: 'http-500', message: 'HTTP 500 Internal Server Error: {"error":"overloaded"}', repetition: 0 });
    expect(r.scenarios[0]!.cases.find((c) => c.engine === 'llada')!.state).toBe('completed');
    expect(r.complete).toBe(false);
  }, 120_000);

  it('both sides over HTTP: every case id is unique, and compare reads the file', async () => {
    server.setScript({ tokens: Array.from({ length: 8 }, (_, i) => ` t${i}`) });
    const first = server.requests.length; // the server is shared with the tests above
    const dir = tempDir();
    const out = join(dir, 'out');
    const file = join(dir, 'both.json');
    const http = { model: 'stub', endpoint: 'chat' };
    writeFileSync(
      file,
      JSON.stringify({
        diffusion: { model: server.baseUrl, http: { ...http, ignoreEos: false } },
        ar: { model: server.baseUrl, http },
        scenarios: ['throughput', 'batch', 'context'],
        warmup: 0,
        repetitions: 1,
        sampling: { minTimeSec: 0 }, // exactly one repetition: the requests are counted below
        genLength: 8,
        batch: { batchSizes: [1, 2] },
        context: { promptLengths: [16, 32] },
        http: { concurrency: [1], requests: 2, durationSec: 30, maxErrorRate: 0.05 },
      }),
    );
    const res = await cliAsync(['run', '--config', file, '--out', out, '--no-report'], { DLLM_BENCH_CACHE: cache }).done;
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(0);
    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
    const ids = r.scenarios.flatMap((s) => s.cases.map((c) => c.id));
    expect(ids.length).toBeGreaterThanOrEqual(10);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => id.includes('/openai-diffusion/'))).toHaveLength(ids.length / 2);
    // Each side's own ignoreEos reaches its requests on every path.
    const sent = server.requests.slice(first);
    expect(sent.filter((q) => q.body.ignore_eos === true)).toHaveLength(sent.length / 2);
    const cmp = await cliAsync(['compare', out, out]).done;
    // The table on stdout; stderr holds at most compare's warnings (one repetition: few samples), nothing else.
    expect(cmp.stdout).not.toMatch(/warning/);
    expect(cmp.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('warning: '))).toEqual([]);
    expect(cmp.code).toBe(0);
  }, 120_000);

  it('Ctrl-C during a hung request: exits 130 within about a second, the measured repetitions kept', async () => {
    const first = server.requests.length; // the server is shared with the tests above
    server.setScript((i) => (i >= first + 4 ? { hangMs: 10_000 } : { tokens: [' a', ' b'] }));
    const dir = tempDir();
    const out = join(dir, 'out');
    const file = join(dir, 'hang.json');
    writeFileSync(
      file,
      JSON.stringify({
        diffusion: { model: server.baseUrl, http: { model: 'stub', endpoint: 'chat' } },
        ar: { model: server.baseUrl, http: { model: 'stub', endpoint: 'chat' } },
        scenarios: ['batch'],
        warmup: 0,
        repetitions: 5,
        genLength: 2,
        batch: { batchSizes: [1] },
      }),
    );
    const run = cliAsync(['run', '--config', file, '--out', out, '--no-report'], { DLLM_BENCH_CACHE: cache });
    const deadline = performance.now() + 60_000;
    while (server.requests.length < first + 5 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const sentAt = performance.now();
    run.child.kill('SIGINT');
    const res = await run.done;
    const exitMs = performance.now() - sentAt;
    expect(res.code).toBe(130);
    expect(exitMs).toBeLessThan(3_000); // the abort itself is < 1 s (test/engines/openai-faults); the rest is process exit
    expect(existsSync(join(out, 'results.json'))).toBe(true);
    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
    expect(r.complete).toBe(false);
    const c = r.scenarios[0]!.cases[0]!;
    expect(c).toMatchObject({ id: 'batch/openai-diffusion/b1/p0/g2', state: 'aborted' });
    expect(c.samples).toHaveLength(4);
  }, 120_000);
});
