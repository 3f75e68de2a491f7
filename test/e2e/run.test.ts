/**
 * The built CLI, end to end, as a user runs it: the default config on CPU writes a valid results.json with every
 * engine in every scenario; Ctrl-C and a crashing engine keep what was measured.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateClaims, headlineLines, headlineOf } from '../../src/claims/index.js';
import { cudaProviderInstalled } from '../../src/engines/device.js';
import type { ResultsFile } from '../../src/results/types.js';
import { cli, cliAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/models.js';

const cache = tempDir('dllm-cache-');
const env = { DLLM_BENCH_CACHE: cache };
const fast = ['--repetitions', '2', '--min-time', '0', '--warmup', '0', '--context', '32,64,128', '--batch', '1,2', '--steps-grid', '8,16', '--thresholds', '0.9', '--gen-length', '16', '--steps', '16', '--block-length', '16'];

function readResults(dir: string): ResultsFile {
  return JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as ResultsFile;
}

describe('dllm-bench run (built CLI, CPU)', () => {
  let out: string;
  let result: Awaited<ReturnType<typeof cli>>;
  beforeAll(async () => {
    out = join(tempDir(), 'run');
    result = await cli(['run', '--device', 'cpu', '--out', out, ...fast], { ...env, COLUMNS: '120' });
  }, 300_000);

  it('ends with the headline (its last 16 lines at most), and no line of its output is wider than COLUMNS=120', () => {
    const r = readResults(out);
    const lines = result.stderr.replace(/\n$/, '').split('\n');
    const headline = headlineLines(headlineOf(r), 120);
    expect(headline.length).toBeLessThanOrEqual(16);
    expect(lines.slice(-headline.length)).toEqual(headline);
    expect(headline[0]).toMatch(/^THE ANSWER \(run /);
    expect(headline.join('\n')).toMatch(/speed +\d+\.\d+x useful tokens\/s \(95% CI/);
    expect(headline.join('\n')).toMatch(/in miniature/);
    const wide = lines.filter((l) => l.length > 120);
    expect(wide).toEqual([]);
    // The CPU fallback is said once, as the run's warning.
    expect(result.stderr.match(/CUDA provider not installed/g) ?? []).toHaveLength(0); // --device cpu: no fallback at all
    const flat = result.stderr.replace(/\s+/g, ' '); // prose wraps at 120 columns
    expect(flat).toMatch(/CPU utilization and RSS were recorded instead/);
    // The twins take their held-out task prompts instead of the "default" set, and the run says so.
    expect(flat).toMatch(/prompts: the held-out task prompts of models\/twins\/heldout\.json \(a model with held-out tasks takes them instead of the "default" set/);
  });

  it('each case records its side, family, parameter count and typed handicap codes, from the engine', () => {
    const cases = readResults(out).scenarios.flatMap((s) => s.cases);
    for (const c of cases) {
      expect(c.role, c.id).toBe(c.engine === 'llada' ? 'diffusion' : 'ar');
      expect(c.family, c.id).toBe(c.engine === 'llada' ? 'llada' : 'llama');
      expect(c.parameters, c.id).toBeGreaterThan(500_000);
      expect(c.parameters, c.id).toBeLessThan(1_000_000);
      expect(c.conditions.handicapCodes, c.id).toHaveLength(c.conditions.handicaps.length);
    }
  });

  it('exits 0 and writes a complete, valid results.json with every engine in every scenario', () => {
    expect(result.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
    expect(result.code).toBe(0);
    const r = readResults(out);
    expect(r.schemaVersion).toBe(4);
    expect(r.complete).toBe(true);
    expect(r.errors).toEqual([]);
    expect(r.environment.executionProvider).toBe('cpu');
    expect(r.scenarios.map((s) => s.kind)).toEqual(['throughput', 'batch', 'context', 'steps']);
    for (const s of r.scenarios) {
      expect(s.state).toBe('completed');
      expect(new Set(s.cases.map((c) => c.engine))).toEqual(new Set(['llada', 'ar', 'ar-ort', 'ar-loop']));
      for (const c of s.cases) {
        expect(c.state).toBe('completed');
        // Both trained twins use fused MultiHeadAttention (4 heads, 4 KV heads): no attention handicap.
        expect(c.conditions.attention).toBe('fused-mha');
        expect(c.conditions.handicaps.join(' ')).not.toMatch(/attention/);
        if (c.engine === 'ar-loop') expect(c.conditions.timingNote).toMatch(/\(total - prefill\) \/ \(n - 1\)/);
        expect(c.samples).toHaveLength(2);
        for (const smp of c.samples) {
          expect(smp.generatedTokens).toBeGreaterThan(0);
          expect(smp.tokensPerSec).toBeGreaterThan(0);
          expect(smp.usefulTokens).toBeLessThanOrEqual(smp.generatedTokens);
        }
        expect(c.summary.tokensPerSec!.n).toBe(2);
        // --min-time 0: exactly the count; the cases of one engine took turns (positions in the group's sequence).
        // Two passes (ABBA, the default): one repetition in each, merged into one case whose repetitions say their pass.
        expect(c.sampling).toMatchObject({ minRepetitions: 2, minTimeSec: 0, stoppedBy: 'repetitions', order: 'interleaved', passes: 2 });
        expect(c.samples.map((x) => x.pass)).toEqual([0, 1]);
        expect(c.sampling!.group).toContain(c.id);
      }
    }
    // One engine resident at a time, each opened once per pass, in alternating order (A B, B A); each engine's cases
    // run while it is open; every case id appears once.
    const engines = r.engines!;
    expect(engines.map((e) => `${e.order}:${e.engine}:${e.pass}`)).toEqual(['0:llada:0', '1:ar:0', '2:ar-ort:0', '3:ar-loop:0', '4:ar-loop:1', '5:ar-ort:1', '6:ar:1', '7:llada:1']);
    for (const s of r.scenarios) expect(new Set(s.cases.map((c) => c.id)).size).toBe(s.cases.length);
    for (const [i, e] of engines.entries()) {
      expect(e.state).toBe('completed');
      expect(e.loadMs).toBeGreaterThan(0);
      expect(e.rssPeakBytes).toBeGreaterThan(0);
      if (i > 0) expect(Date.parse(e.openedAt!)).toBeGreaterThanOrEqual(Date.parse(engines[i - 1]!.closedAt!));
    }
    // One figure per case: a setting the throughput and steps scenarios both run is the same case, checked both ways.
    const ids = r.scenarios.flatMap((s) => s.cases).filter((c) => c.state === 'completed');
    for (const engine of ['ar', 'ar-ort', 'ar-loop', 'llada']) {
      const t = ids.find((c) => c.scenario === 'throughput' && c.engine === engine)!;
      const st = ids.find((c) => c.id === t.id.replace(/^throughput/, 'steps'))!;
      expect(t.state === 'completed' && t.sameSettingsAs?.map((x) => x.caseId)).toContain(st.id);
      expect(st.state === 'completed' && st.sameSettingsAs?.map((x) => x.caseId)).toContain(t.id);
      // Identical settings decode identically: the quality is the same, decoded once.
      expect(st.state === 'completed' && st.quality).toEqual(t.state === 'completed' && t.quality);
    }
    const batch = r.scenarios.find((s) => s.kind === 'batch')!;
    // Every engine at B=2, over the same two prompts, with a bootstrap interval (two repetitions each).
    const eff = batch.analysis.batchEfficiency!;
    expect(eff.filter((b) => b.batchSize === 2).map((b) => b.engine).sort()).toEqual(['ar', 'ar-loop', 'ar-ort', 'llada']);
    for (const b of eff) {
      expect(b.efficiency).toBeCloseTo(b.tokensPerSec / (2 * b.tokensPerSecB1), 9);
      expect(b.ci95![0]).toBeLessThanOrEqual(b.efficiency);
      expect(b.ci95![1]).toBeGreaterThanOrEqual(b.efficiency);
    }
    const context = r.scenarios.find((s) => s.kind === 'context')!;
    // Three context lengths: one cost model per engine and phase (AR prefill and decode, diffusion step).
    const models = context.analysis.costModels!.map((f) => `${f.engine}/${f.phase}`);
    expect(models).toEqual(expect.arrayContaining(['llada/diffusion-step', 'ar/ar-prefill', 'ar/ar-decode', 'ar-ort/ar-decode', 'ar-loop/ar-decode']));
    expect(context.analysis.scaling).toBeUndefined();
    expect(existsSync(join(out, 'report.md'))).toBe(true);
    // The report says in one line what each AR engine is for, and which attention each ran.
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    for (const e of ['ar (transformers.js', 'ar-ort (a host-driven', 'ar-loop (the whole greedy decode in one onnxruntime call']) expect(md).toContain(e);
    expect(md).toContain('attention fused-mha');
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  });

  it('counts honestly: per request, AR generates exactly gen_length per row; LLaDA NFE = steps', () => {
    const r = readResults(out);
    for (const c of r.scenarios.flatMap((s) => s.cases)) {
      // batch: B=1 sends the largest batch's prompts one at a time (the same prompts the B-row request carries);
      // steps runs the throughput prompts (4), so a setting both run is the same case.
      const requests = c.scenario === 'throughput' || c.scenario === 'steps' ? 4 : c.scenario === 'batch' && c.params.batchSize === 1 ? 2 : 1;
      for (const s of c.samples) {
        expect(s.requests).toBe(requests);
        expect(s.values.latencyMs).toHaveLength(requests);
        expect(s.generatedTokens).toBe(16 * c.params.batchSize);
        // Per request on both sides: the host overhead is not negative.
        expect(s.latencyMs - s.forwardMs!).toBeGreaterThanOrEqual(0);
      }
      if (c.engine === 'llada' && c.params.threshold == null) {
        for (const s of c.samples) expect(s.nfe).toBe(c.params.steps!);
      }
      if (c.engine !== 'llada') {
        for (const s of c.samples) expect(s.ttftMs).toBeGreaterThan(0);
        // TPOT per answer, ITL over every gap: 15 gaps per row of 16 tokens.
        expect(c.pooled.tpotMs!.n).toBe(2 * requests * c.params.batchSize);
        expect(c.pooled.itlMs!.n).toBe(2 * requests * c.params.batchSize * 15);
        expect(c.pooled.itlMs!.p99).toBeGreaterThanOrEqual(c.pooled.itlMs!.p50);
        // AR work splits into the prefill and the decode steps; no peaks are known for a CPU, so no MFU.
        if (c.state === 'completed') expect(c.efficiency).toMatchObject({ prefill: { forwards: 1 }, decode: { forwards: 15 }, mfuInRun: null });
      }
    }
  });

  it('the default run is the trained twins: throughput and steps cases carry quality, and NFE falls with the threshold', () => {
    const r = readResults(out);
    const cases = r.scenarios.flatMap((s) => s.cases).filter((c) => c.state === 'completed');
    expect(cases.every((c) => c.model === 'twins' && !c.conditions.synthetic)).toBe(true);
    for (const c of cases) {
      if (c.scenario === 'throughput' || c.scenario === 'steps') {
        const q = c.quality!;
        expect(q, c.id).toBeDefined();
        expect(q.source).toMatch(/heldout\.json$/);
        expect(q.tasks.map((t) => t.task)).toEqual(['sort', 'reverse', 'add', 'copy', 'split', 'chain-1', 'chain-2', 'chain-3', 'chain-4', 'reversal-forward', 'reversal-backward', 'reversal-control']);
        expect(q.overall.total).toBe(q.tasks.reduce((a, t) => a + t.total, 0));
        expect(q.overall.ci95[0]).toBeLessThanOrEqual(q.overall.accuracy);
        expect(q.overall.ci95[1]).toBeGreaterThanOrEqual(q.overall.accuracy);
      } else {
        expect(c.quality, c.id).toBeUndefined();
      }
    }
    const steps = cases.filter((c) => c.scenario === 'steps');
    const lladaNone = steps.filter((c) => c.engine === 'llada' && (c.params.cache ?? 'none') === 'none');
    const full = lladaNone.find((c) => c.params.threshold == null && c.params.steps === 16)!;
    const thr = lladaNone.find((c) => c.params.threshold === 0.9)!;
    // Real confidences pass the threshold: far fewer forward passes, in the timed samples and in the quality decodes.
    expect(thr.summary.nfe!.mean).toBeLessThan(full.summary.nfe!.mean);
    expect(thr.quality!.meanNfe).toBeLessThan(full.quality!.meanNfe / 2);
    // Sort is learned by both twins; the AR twin answers the simple tasks (the reversal probe is reported, not required).
    const task = (c: (typeof steps)[number], name: string) => c.quality!.tasks.find((t) => t.task === name)!;
    expect(task(full, 'sort').accuracy).toBeGreaterThanOrEqual(0.8);
    for (const c of steps.filter((x) => x.engine !== 'llada')) {
      for (const name of ['sort', 'reverse', 'copy']) expect(task(c, name).accuracy, `${c.id} ${name}`).toBeGreaterThanOrEqual(0.8);
    }
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/accuracy/i);
    // The quality claims are judged on the probe and chain rows (whatever they show), in miniature.
    const v = evaluateClaims(r);
    for (const id of ['reversal-curse', 'multi-step-chains', 'competitive-accuracy'] as const) {
      const x = v.find((y) => y.id === id)!;
      expect(x.verdict, `${id}: ${x.evidence}`).not.toBe('not-measurable');
    }
    expect(v.find((y) => y.id === 'reversal-curse')!.evidence).toMatch(/asked backward, the diffusion twin \(16 steps\) scores \d+% \(\d+\/10\)/);
    expect(v.find((y) => y.id === 'multi-step-chains')!.figures.arK4Accuracy).toBeGreaterThanOrEqual(0);
    expect(md).toMatch(/reversal curse/);
  });

  it.skipIf(cudaProviderInstalled())('--device auto without the CUDA provider: the fallback notice is said once, whole', async () => {
    const r = await cli(['run', '--out', join(tempDir(), 'auto'), '--scenarios', 'throughput', '--repetitions', '1', '--warmup', '0', '--gen-length', '16', '--steps', '16', '--block-length', '16', '--quality-per-task', '0'], { ...env, COLUMNS: '120' });
    expect(r.code).toBe(0);
    expect(r.stderr.match(/CUDA provider not installed/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/warning: llada, ar, ar-ort, ar-loop: auto: CUDA provider not installed, using CPU/);
    expect(r.stderr.split('\n').filter((l) => l.length > 120)).toEqual([]);
  });

  it('prints tables to stderr and nothing but JSON to stdout with --json', async () => {
    expect(result.stderr).toMatch(/tok\/s/);
    const json = await cli(['run', '--device', 'cpu', '--out', join(tempDir(), 'j'), '--scenarios', 'throughput', '--repetitions', '1', '--min-time', '0', '--warmup', '0', '--json', '--gen-length', '16', '--steps', '16', '--block-length', '16', '--quality-per-task', '0'], env);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as ResultsFile;
    expect(parsed.scenarios[0]!.cases.length).toBe(4);
    // --quality-per-task 0 turns the quality decodes off.
    expect(parsed.scenarios[0]!.cases.filter((c) => c.state === 'completed' && c.quality)).toEqual([]);
    // One repetition each: the table on stderr has no interval to give ("n/a"), never a zero-width one.
    expect(parsed.scenarios[0]!.cases.every((c) => c.samples.length === 1)).toBe(true);
    expect(json.stderr).toMatch(/[\d.]+ ± n\/a/);
    expect(json.stderr).not.toMatch(/± 0\.0\b/);
  });
});

describe('dllm-bench run: faults keep what was measured', () => {
  it('Ctrl-C: exit 130, results.json holds the cases so far, complete: false', async () => {
    const out = join(tempDir(), 'int');
    const run = cliAsync(['run', '--device', 'cpu', '--out', out, ...fast, '--repetitions', '3', '--context', '256,512,1024,1536'], env);
    // Wait until at least one case is on disk, then interrupt.
    const start = Date.now();
    while (Date.now() - start < 120_000) {
      await new Promise((r) => setTimeout(r, 200));
      if (existsSync(join(out, 'results.json')) && readResults(out).scenarios.some((s) => s.cases.length > 0)) break;
    }
    run.child.kill('SIGINT');
    const res = await run.done;
    expect(res.code).toBe(130);
    const r = readResults(out);
    expect(r.complete).toBe(false);
    expect(r.scenarios.flatMap((s) => s.cases).length).toBeGreaterThan(0);
    expect(r.scenarios.at(-1)!.state).toMatch(/aborted|completed/);
    expect(res.stderr).toMatch(/interrupted/);
  }, 180_000);

  it('an engine worker that crashes fails its cases; the other engines and scenarios still run', async () => {
    const out = join(tempDir(), 'crash');
    const r = await cli(['run', '--device', 'cpu', '--out', out, ...fast, '--scenarios', 'throughput,batch'], { ...env, DLLM_BENCH_FAULT: 'worker-crash:llada:3' });
    expect(r.code).toBe(1);
    const res = readResults(out);
    expect(res.complete).toBe(false);
    expect(res.errors.length).toBeGreaterThan(0);
    expect(res.errors[0]!.message).toMatch(/worker exited unexpectedly/);
    const ok = res.scenarios.flatMap((s) => s.cases).filter((c) => c.state === 'completed');
    expect(ok.length).toBeGreaterThan(0);
    expect(res.scenarios.map((s) => s.kind)).toEqual(['throughput', 'batch']);
  });
});

describe('dllm-bench: bad input is one line and a non-zero exit', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown flag', ['run', '--bogus'], /unknown option '--bogus'/],
    ['bad number', ['run', '--repetitions', 'many'], /--repetitions.*invalid/],
    ['bad list', ['run', '--batch', '1,x'], /--batch.*invalid/],
    ['batch size past the sanity bound', ['run', '--batch', '1,100000'], /batch\.batchSizes\.1: at most 1024 rows per request/],
    ['unknown scenario', ['run', '--scenarios', 'speed'], /"speed" is not one of/],
    ['missing config', ['run', '--config', '/nonexistent/c.json'], /file not found/],
    ['mismatched block length', ['run', '--gen-length', '30', '--block-length', '8'], /must be a multiple of block_length/],
    ['unknown preset/folder', ['run', '--diffusion', '/no/such/model'], /not a preset .* and no such folder/],
    ['missing model folder', ['generate', '--model', '/no/such/dir', '--prompt', 'hi'], /model folder not found/],
    ['generate without prompt', ['generate', '--model', '.'], /give a prompt: --prompt TEXT/],
    // Hub ids go through the Hugging Face cache for every engine; without a network that is one line too.
    ['hub model, hub unreachable', ['run', '--ar', 'dllm-bench-test/no-such-model', '--scenarios', 'throughput', '--out', join(tempDir(), 'hub')], /dllm-bench-test\/no-such-model: (cannot reach https:\/\/huggingface\.co|model or revision not found|access denied)/],
    // The hub is unreachable here (as in CI): the error says so in one line instead of hanging or crashing.
    ['hub model without a network', ['generate', '--model', 'dllm-bench-test/no-such-model', '--prompt', 'hi'], /dllm-bench-test\/no-such-model: cannot reach .*HF_HUB_OFFLINE=1/],
    ['explicit cuda without the provider', ['run', '--device', 'cuda', '--scenarios', 'throughput', '--out', join(tempDir(), 'cuda')], /--device cuda: .*not installed.*ONNXRUNTIME_NODE_INSTALL=cuda12/],
  ];
  it.each(cases)('%s', async (_n, args, message) => {
    const r = await cli(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a prompt longer than the model allows: exit 2 before any work', async () => {
    const dir = tempDir();
    const set = join(dir, 'long.json');
    writeFileSync(set, JSON.stringify({ name: 'long', prompts: [{ id: 'x', category: 'chat', text: 'word '.repeat(600) }], longContext: { instruction: 'i', document: 'd' } }));
    const r = await cli(['run', '--prompts', set, '--out', join(dir, 'out'), '--scenarios', 'throughput'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/longest prompt \(\d+ tokens\) \+ gen_length 16 exceeds llada's maximum length 2048/);
    // It failed before its first case: the folder it created is not left behind, empty.
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('an output folder that cannot be written', async () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'x');
    const r = await cli(['run', '--out', join(file, 'sub')], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot write output folder/);
  });
});
