/**
 * A served side from flags alone against a loopback OpenAI-compatible server: the same prompt token ids on both
 * sides, open-loop request rates with goodput and p99s per level, Ctrl-C during a level, claims over served sides,
 * and `doctor --url`.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClaimVerdict } from '../../src/claims/schema.js';
import type { CaseResult, ResultsFile } from '../../src/results/types.js';
import { cli, cliAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/models.js';
import { type HostileServer, startHostileServer } from '../helpers/hostile-server.js';

let server: HostileServer;
const cache = tempDir('dllm-cache-');
const TOKENS = Array.from({ length: 16 }, (_, i) => ` t${i}`);
/** Every third request is slow to its first token (600 ms against a 300 ms TTFT target; the others take ~5 ms): goodput is 2/3 of requests. */
const slowEveryThird = (i: number) => ({ tokens: TOKENS, firstDelayMs: i % 3 === 2 ? 600 : 5, interDelayMs: 1 });

beforeAll(async () => {
  server = await startHostileServer(slowEveryThird);
});
afterAll(async () => {
  await server.close();
});

const readResults = (out: string) => JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
const cases = (r: ResultsFile, kind: string) => r.scenarios.find((s) => s.kind === kind)!.cases;

describe('a served AR side from flags, no config file', () => {
  it('same prompt ids on both sides, a request-rate sweep with goodput and p99 per level in results, tables and report; claims judge it', async () => {
    server.setScript(slowEveryThird);
    const first = server.requests.length;
    const out = join(tempDir(), 'out');
    const res = await cliAsync(
      ['run', '--ar', server.baseUrl, '--ar-model', 'm', '--device', 'cpu', '--scenarios', 'throughput', '--concurrency', '1', '--request-rate', '100,400,inf', '--slo', 'ttft=300ms', '--requests', '6', '--repetitions', '1', '--warmup', '0', '--quality-per-task', '0', '--out', out],
      { DLLM_BENCH_CACHE: cache },
    ).done;
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(0);
    const r = readResults(out);
    const tp = cases(r, 'throughput');
    const llada = tp.find((c) => c.engine === 'llada')!;
    const served = tp.filter((c) => c.engine === 'openai');
    // Same work: the served model got the local side's prompt token ids (completions endpoint), and says so.
    const sent = server.requests.slice(first);
    expect(sent.every((q) => Array.isArray(q.body.prompt) && (q.body.prompt as unknown[]).every((x) => Number.isInteger(x)))).toBe(true);
    for (const c of served) {
      expect(c.role).toBe('ar');
      expect(c.params.promptTokens).toBe(llada.params.promptTokens);
      expect(c.serverPromptTokens).toBe(llada.params.promptTokens);
    }
    expect(llada.role).toBe('diffusion');
    expect(r.scenarios[0]!.analysis.promptParity).toEqual({ diffusionPromptTokens: llada.params.promptTokens, arPromptTokens: llada.params.promptTokens, differenceTokens: 0 });
    // Three open-loop levels besides the closed-loop ones, each with goodput and pooled p99s.
    const levels = served.filter((c) => c.params.requestRate !== undefined);
    expect(levels.map((c) => c.params.requestRate)).toEqual([100, 400, 'inf']);
    for (const c of [...levels, ...served.filter((x) => x.params.concurrency !== undefined)]) {
      expect(c.state).toBe('completed');
      expect(c.slo).toEqual({ ttftMs: 300 });
      for (const s of c.samples) {
        // 6 requests per repetition, two of them slow to the first token (>= 600 ms): goodput / request rate is the
        // share of requests whose TTFT met the 300 ms target (at most 4 of 6; a loaded machine may slow a fast one).
        expect(s.requests).toBe(6);
        const met = s.values.ttftMs!.filter((t) => t <= 300).length;
        expect(s.values.ttftMs!.filter((t) => t >= 600)).toHaveLength(2);
        expect(met).toBeLessThanOrEqual(4);
        expect(s.goodputRequestsPerSec! / s.requestsPerSec!, `${c.id}: ${JSON.stringify(s.values.ttftMs)}`).toBeCloseTo(met / 6, 9);
      }
      expect(c.pooled.ttftMs!.p99).toBeGreaterThanOrEqual(600);
      expect(c.pooled.tpotMs!.p99).toBeGreaterThan(0);
      expect(c.pooled.itlMs!.p99).toBeGreaterThan(0);
    }
    // Tables (stderr) and the report show each level with goodput and p99s.
    expect(res.stderr).toMatch(/throughput: serving/);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('| side | load | req/s | goodput req/s | out tok/s | TTFT p50/p90/p99 ms |');
    for (const level of ['100 req/s (poisson)', '400 req/s (poisson)', 'inf req/s']) expect(md).toMatch(new RegExp(`\\| openai \\(ar\\) \\| ${level.replace(/[()/]/g, '\\$&')} \\|`));
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('id="chart-serving"');
    // claims: the served AR side is the AR side of the comparison.
    const claims = await cli(['claims', out, '--format', 'json']);
    expect(claims.code).toBe(0);
    const speed = (JSON.parse(claims.stdout) as { claims: ClaimVerdict[] }).claims.find((v) => v.id === 'speed-10x')!;
    expect(speed.verdict).not.toBe('not-measurable');
    expect(speed.evidenceUsed).toContain(served.find((c) => c.params.concurrency === 1)!.id);
  }, 180_000);

  it('Ctrl-C during an open-loop level: exits 130 within about a second, finished levels kept', async () => {
    server.setScript({ tokens: TOKENS, firstDelayMs: 5, interDelayMs: 1 });
    const first = server.requests.length;
    const out = join(tempDir(), 'out');
    // Level 2 (0.5 req/s, constant) sends its second request 2 s after its first: interrupted in between.
    const run = cliAsync(
      ['run', '--ar', server.baseUrl, '--ar-model', 'm', '--device', 'cpu', '--scenarios', 'throughput', '--concurrency', '1', '--request-rate', '200,0.5', '--arrival', 'constant', '--requests', '3', '--repetitions', '1', '--warmup', '0', '--quality-per-task', '0', '--out', out, '--no-report'],
      { DLLM_BENCH_CACHE: cache },
    );
    const deadline = performance.now() + 120_000;
    // c1: 3 requests, 200 req/s: 3, then the first of the 0.5 req/s level.
    while (server.requests.length < first + 7 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    const sentAt = performance.now();
    run.child.kill('SIGINT');
    const res = await run.done;
    expect(res.code).toBe(130);
    expect(performance.now() - sentAt).toBeLessThan(3_000); // the level stops at once; the rest is process exit
    const r = readResults(out);
    expect(r.complete).toBe(false);
    const served = cases(r, 'throughput').filter((c) => c.engine === 'openai');
    expect(served.find((c) => c.params.requestRate === 200)).toMatchObject({ state: 'completed' });
    expect(served.find((c) => c.params.concurrency === 1)).toMatchObject({ state: 'completed' });
    expect(served.find((c) => c.params.requestRate === 0.5)).toMatchObject({ state: 'aborted', samples: [] });
  }, 180_000);
});

describe('both sides served', () => {
  it('a served diffusion side and a served AR side: every verdict a local pair decides is decided', async () => {
    server.setScript({ tokens: TOKENS, firstDelayMs: 3, interDelayMs: 1 });
    const out = join(tempDir(), 'out');
    const res = await cliAsync(
      ['run', '--diffusion', server.baseUrl, '--diffusion-model', 'm', '--ar', server.baseUrl, '--ar-model', 'm', '--scenarios', 'throughput,batch,context', '--batch', '1,2', '--context', '64,256,512', '--requests', '4', '--repetitions', '2', '--warmup', '0', '--out', out, '--no-report'],
      { DLLM_BENCH_CACHE: cache },
    ).done;
    expect(res.code).toBe(0);
    const r = readResults(out);
    const all: CaseResult[] = r.scenarios.flatMap((s) => s.cases);
    expect(new Set(all.map((c) => c.role))).toEqual(new Set(['diffusion', 'ar']));
    for (const c of all) expect(c.id.split('/')[1]).toBe(`openai-${c.role}`);
    const claims = await cli(['claims', out, '--format', 'json']);
    const verdicts = (JSON.parse(claims.stdout) as { claims: ClaimVerdict[] }).claims;
    const by = Object.fromEntries(verdicts.map((v) => [v.id, v]));
    // What a local CPU pair decides (speed ratio, batch efficiency, context scaling), a served pair decides too,
    // and the served window besides; the hardware claims name what they need.
    for (const id of ['speed-10x', 'batch-efficiency', 'context-scaling', 'context-window-3000'] as const) {
      expect(by[id]!.verdict, `${id}: ${by[id]!.evidence}`).not.toBe('not-measurable');
    }
    for (const v of verdicts) expect(v.evidence).not.toMatch(/Cannot compare|no completed autoregressive case/);
    expect(by['h100-1000-tokens-per-sec']!.verdict).toBe('not-measurable');
  }, 180_000);
});

describe('doctor --url', () => {
  it('one line per finding: reachable, models listed, streaming works, usage reported; exit 1 when unreachable', async () => {
    server.setScript({ tokens: TOKENS.slice(0, 4) });
    const ok = await cli(['doctor', '--url', server.baseUrl]);
    expect(ok.code).toBe(0);
    const lines = ok.stdout.trim().split('\n');
    expect(lines.slice(0, 4).map((l) => l.split(/\s+/)[1])).toEqual(['reachable', 'models', 'streaming', 'usage']);
    expect(ok.stdout).toMatch(/models\s+1 model\(s\) listed: m/);
    expect(ok.stdout).toMatch(/usage\s+usage reported: \d+ prompt token\(s\), 4 output token\(s\)/);
    server.setScript({ tokens: TOKENS.slice(0, 4), usage: false });
    const noUsage = await cli(['doctor', '--url', server.baseUrl, '--format', 'json']);
    const report = JSON.parse(noUsage.stdout) as { checks: { id: string; status: string }[] };
    expect(report.checks.find((c) => c.id === 'usage')!.status).toBe('warn');
    const down = await cli(['doctor', '--url', 'http://127.0.0.1:1/v1']);
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/✗ reachable\s+cannot reach/);
  }, 60_000);
});
