/**
 * The context-window claim is measured only against a served model: a local OpenAI-compatible server that refuses
 * prompts past 3,000 tokens (HTTP 400, as vLLM does past max_model_len) is probed by the context scenario, and
 * `claims` reads the accepted and refused lengths.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClaimVerdict } from '../../src/claims/index.js';
import type { ResultsFile } from '../../src/results/types.js';
import { cliAsync } from '../helpers/cli.js';
import { type HostileServer, startHostileServer } from '../helpers/hostile-server.js';
import { tempDir } from '../helpers/models.js';

let server: HostileServer;
/** Without a tokenizer an HTTP prompt of n tokens is 4n characters (src/scenarios/prompts.ts). */
const WINDOW_CHARS = 3000 * 4;

beforeAll(async () => {
  server = await startHostileServer((_i, body) => {
    const messages = (body.messages ?? []) as { content: string }[];
    const chars = messages.reduce((a, m) => a + m.content.length, 0);
    return chars > WINDOW_CHARS ? { status: 400, errorBody: '{"error":{"message":"maximum context length is 3000 tokens"}}' } : { tokens: [' a', ' b', ' c', ' d'] };
  });
});
afterAll(async () => {
  await server.close();
});

describe('context window over HTTP', () => {
  it('probes across 3,000 tokens: accepted below, refused above, and the claim reads reproduced', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const file = join(dir, 'window.json');
    const http = { model: 'mercury-stub', endpoint: 'chat' };
    writeFileSync(
      file,
      JSON.stringify({
        diffusion: { model: server.baseUrl, http },
        ar: { model: server.baseUrl, http },
        scenarios: ['context'],
        warmup: 0,
        repetitions: 1,
        genLength: 4,
        context: { promptLengths: [1024, 2900, 3100] },
      }),
    );
    const run = await cliAsync(['run', '--config', file, '--out', out, '--no-report'], {}).done;
    expect(run.stderr).not.toMatch(/internal error/);
    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
    const probes = r.scenarios[0]!.cases.filter((c) => c.id.includes('/openai-diffusion/'));
    expect(probes.map((c) => [c.params.promptTokens, c.state])).toEqual([
      [1024, 'completed'],
      [2900, 'completed'],
      [3100, 'errored'],
    ]);
    const claims = await cliAsync(['claims', out, '--format', 'json']).done;
    expect(claims.code).toBe(0);
    const window = (JSON.parse(claims.stdout) as { claims: ClaimVerdict[] }).claims.find((v) => v.id === 'context-window-3000')!;
    expect(window.verdict).toBe('reproduced');
    expect(window.evidence).toMatch(/longest accepted 2904, shortest refused \(HTTP 4xx\) 3104/);
    expect(window.figures).toEqual({ longestAcceptedTokens: 2904, shortestRefusedTokens: 3104 });
  }, 120_000);
});
