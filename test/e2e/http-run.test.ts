/** `run` against a real OpenAI-compatible SSE server on 127.0.0.1 (the HTTP side of a comparison). */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultsFile } from '../../src/results/types.js';
import { cliAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/models.js';
import { type SSEServer, startSSEServer } from '../helpers/sse-server.js';

let server: SSEServer;
const cache = tempDir('dllm-cache-');

beforeAll(async () => {
  server = await startSSEServer({ tokens: Array.from({ length: 8 }, (_, i) => ` t${i}`), firstDelayMs: 5, interDelayMs: 2 });
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
    expect(r.scenarios[0]!.cases.find((c) => c.engine === 'llada')!.state).toBe('completed');
    expect(r.complete).toBe(false);
  }, 120_000);
});
