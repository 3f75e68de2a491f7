/**
 * report.html's first screen, laid out by a real browser: at 1280x900 the headline and the frontier chart are both
 * on it, and nothing is wider than the window. Needs a headless Chromium (or Chrome); skipped, saying so, without one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/index.js';
import type { CaseResult } from '../../src/results/types.js';
import { buildCase, buildResults } from '../fixtures/results/builder.js';
import { tempDir } from '../helpers/models.js';

const BROWSERS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
const browser = BROWSERS.find((b) => spawnSync('which', [b], { stdio: 'ignore' }).status === 0) ?? null;

function scored(c: CaseResult, acc: number): CaseResult {
  if (c.state !== 'completed') return c;
  const overall = { correct: Math.round(acc * 60), total: 60, accuracy: acc, ci95: [acc - 0.1, Math.min(1, acc + 0.08)] as [number, number] };
  return { ...c, quality: { source: 'models/twins/heldout.json', perTask: 10, tasks: [], overall, meanNfe: c.params.steps ?? 16 } };
}

/** A twins-like run: a steps sweep with accuracies (the frontier) and the AR engines, throughput beside it. */
function run() {
  const p = { promptTokens: 16, genLength: 16, blockLength: 16 };
  const real = { conditions: { synthetic: false }, model: 'twins', parameters: 800_000 };
  const llada = [
    [16, null, 2000, 0.8],
    [8, null, 4000, 0.65],
    [4, null, 6500, 0.66],
    [16, 0.9, 24000, 0.8],
    [16, 0.7, 23000, 0.8],
    [16, 0.5, 29000, 0.76],
  ] as const;
  const cases = [
    ...llada.map(([steps, threshold, tps, acc], i) => scored(buildCase({ scenario: 'steps', engine: 'llada', params: { ...p, steps, threshold }, tokensPerSec: { mean: tps, sd: tps / 20 }, seed: i + 1, ...real }), acc)),
    ...(['ar', 'ar-ort', 'ar-loop'] as const).map((engine, i) => scored(buildCase({ scenario: 'steps', engine, params: p, tokensPerSec: { mean: 3000 + 1500 * i, sd: 100 }, seed: 20 + i, ...real }), 0.833)),
    ...(['llada', 'ar', 'ar-ort', 'ar-loop'] as const).map((engine, i) => buildCase({ engine, params: engine === 'llada' ? { ...p, steps: 16 } : p, tokensPerSec: { mean: 900 + 1500 * i, sd: 50 }, seed: 30 + i, ...real })),
  ];
  return buildResults({ cases });
}

describe('report.html in a headless browser at 1280x900', () => {
  it.skipIf(browser === null)(`shows the headline and the frontier chart on the first screen${browser ? '' : ' (skipped: no headless Chromium/Chrome installed; apt-get install chromium)'}`, async () => {
    const dir = tempDir();
    const html = await renderHtml(run());
    // Measure the laid-out page from inside it; --dump-dom prints the DOM after the script ran.
    const probe = `<script>const box=(s)=>{const b=document.querySelector(s).getBoundingClientRect();return{top:b.top,bottom:b.bottom,right:b.right}};
document.body.setAttribute('data-layout',JSON.stringify({headline:box('#headline'),frontier:box('#chart-frontier'),scrollWidth:document.documentElement.scrollWidth,w:innerWidth,h:innerHeight}));</script>`;
    const file = join(dir, 'report.html');
    writeFileSync(file, html.replace('</body>', `${probe}</body>`));
    const args = ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--window-size=1280,900'];
    const dom = execFileSync(browser!, [...args, '--dump-dom', `file://${file}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 });
    const m = /data-layout="([^"]+)"/.exec(dom);
    expect(m, 'the probe ran').not.toBeNull();
    const layout = JSON.parse(m![1]!.replace(/&quot;/g, '"')) as { headline: { top: number; bottom: number }; frontier: { top: number; bottom: number; right: number }; scrollWidth: number; w: number; h: number };
    expect(layout.w).toBe(1280);
    expect(layout.headline.top).toBeGreaterThanOrEqual(0);
    expect(layout.headline.bottom).toBeLessThanOrEqual(layout.h);
    expect(layout.frontier.top).toBeGreaterThan(layout.headline.top);
    expect(layout.frontier.bottom).toBeLessThanOrEqual(layout.h);
    expect(layout.scrollWidth).toBeLessThanOrEqual(1280);
    // The picture itself, for a person to look at (left in the temp folder).
    execFileSync(browser!, [...args, `--screenshot=${join(dir, 'first-screen.png')}`, `file://${file}`], { stdio: 'ignore', timeout: 60_000 });
  }, 120_000);
});
