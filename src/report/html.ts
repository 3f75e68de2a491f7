import { at } from '../util/indexing.js';
import { type ClaimVerdict, type Headline, VERDICT_LABEL, VERDICT_SHORT, claimsPreamble, conditionText, evaluateClaims, headlineOf, verdictDetail } from '../claims/index.js';
import type { CaseResult, ResultsFile } from '../results/types.js';
import { fmt, pct, ratio } from '../util/format.js';
import { renderCharts } from './charts.js';
import { COLUMNS, analysisLines, caseRow, conditionLines, environmentLine } from './format.js';
import { qualityTable } from './quality.js';
import { servingTable } from './serving.js';
import { notCompleted } from './state.js';
import { ENGINES_NOTE, ENGINE_COLUMNS, SKIPPED_TITLE, engineRows, skippedLines } from './engines.js';

const esc = (s: string) => s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch] ?? ch);

/** An element id for a case row (case ids hold slashes and dots). */
export const caseAnchor = (id: string) => `case-${id.replace(/[^A-Za-z0-9_.-]/g, '_')}`;

/** Escaped text with every known case id turned into a link to its row (one pass: an id that is a prefix of another never splits it). */
function linked(text: string, ids: readonly string[]): string {
  const out = esc(text);
  if (!ids.length) return out;
  const alternatives = [...new Set(ids)].sort((a, b) => b.length - a.length).map((id) => esc(id).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  const byEscaped = new Map(ids.map((id) => [esc(id), id]));
  return out.replace(new RegExp(alternatives.join('|'), 'g'), (m) => `<a href="#${caseAnchor(byEscaped.get(m)!)}">${m}</a>`);
}

/** The headline: the comparison in figures and one line per claim (the same numbers as the verdicts). */
function headlineSection(h: Headline): string {
  const c = h.comparison;
  const acc = (a: NonNullable<typeof c>['diffusion']['accuracy']) => (a ? `${pct(a.value, 1)}${a.ci95 ? ` <small>(${pct(a.ci95[0])}-${pct(a.ci95[1])})</small>` : ''}` : 'not measured');
  const body = c
    ? `<div class="figs">
<div class="fig big"><span class="n">${esc(ratio(c.speedRatio.value))}</span><span class="l">useful tokens/s, diffusion / AR${c.speedRatio.ci95 ? `<br>95% CI ${esc(ratio(c.speedRatio.ci95[0]))} to ${esc(ratio(c.speedRatio.ci95[1]))}` : ''}</span></div>
<div class="fig"><span class="n">${acc(c.diffusion.accuracy)} <small>vs</small> ${acc(c.ar.accuracy)}</span><span class="l">held-out accuracy, diffusion vs AR</span></div>
<div class="fig"><span class="n">${fmt(c.diffusion.forwardsPerToken, 2)} <small>vs</small> ${fmt(c.ar.forwardsPerToken, 2)}</span><span class="l">forward passes per generated token</span></div>
</div>
<p>Diffusion: the best setting within the quality floor, <b>${esc(c.diffusion.setting)}</b> (<a href="#${caseAnchor(c.diffusion.caseId)}">${esc(c.diffusion.caseId)}</a>, ${fmt(c.diffusion.usefulTokensPerSec, 0)} useful tok/s) against the strongest AR engine without a handicap, <b>${esc(c.ar.engine)}</b> (<a href="#${caseAnchor(c.ar.caseId)}">${esc(c.ar.caseId)}</a>, ${fmt(c.ar.usefulTokensPerSec, 0)} useful tok/s).</p>`
    : `<p>No speed comparison: ${esc(h.why ?? '')}</p>`;
  const claims = h.claims.map((x) => `<li class="v-${x.verdict}"><span class="verdict">${esc(VERDICT_SHORT[x.verdict].toLowerCase())}</span> <b>${esc(x.name)}</b>: ${esc(x.deciding)}</li>`).join('');
  return `<section id="headline"><p class="where">On <b>${esc(h.device)}</b>: ${esc(h.models)}${h.scale ? ` — <b>${esc(h.scale)}</b>` : ''}</p>
${body}<ul class="claimlist">${claims}</ul></section>`;
}

/** One card per claim: the one-line verdict, the evidence and conditions folded, case ids linking to their rows. */
function claimCards(results: ResultsFile, verdicts: readonly ClaimVerdict[], h: Headline): string {
  const ids = results.scenarios.flatMap((s) => s.cases.map((c) => c.id));
  const cards = verdicts.map((v, i) => {
    const detail = verdictDetail(v);
    return `<article class="card v-${v.verdict}" id="claim-${esc(v.id)}"><header><span class="verdict">${esc(VERDICT_LABEL[v.verdict].toLowerCase())}</span> <b>${esc(at(h.claims, i, 'h.claims').name)}</b>: ${esc(at(h.claims, i, 'h.claims').deciding)}</header>
<q>${esc(v.claim)}</q>
<details><summary>evidence</summary><p>${linked(v.evidence, ids)}</p>${detail ? `<p><i>${linked(detail, ids)}</i></p>` : ''}</details>
<details><summary>conditions</summary><ul>${conditionText(v).map((l) => `<li>${linked(l, ids)}</li>`).join('')}</ul></details></article>`;
  });
  return `<section id="claims"><h2>The blog's claims, checked</h2><p class="note">${esc(claimsPreamble(results))} How each verdict is decided: README, "How each verdict is decided".</p>
<div class="cards">${cards.join('\n')}</div></section>`;
}

/** The case settings that vary within a scenario, as columns; the constant ones go into the caption. */
const SETTINGS: readonly [string, (c: CaseResult) => string | null][] = [
  ['batch', (c) => String(c.params.batchSize)],
  ['prompt', (c) => String(c.params.promptTokens)],
  ['gen', (c) => String(c.params.genLength)],
  ['steps', (c) => (c.engine === 'llada' && c.params.threshold == null ? String(c.params.steps ?? '') : null)],
  ['threshold', (c) => (c.params.threshold != null ? String(c.params.threshold) : null)],
  ['block', (c) => (c.params.blockLength !== undefined ? String(c.params.blockLength) : null)],
  ['cache', (c) => (c.engine === 'llada' ? (c.params.cache ?? 'none') : null)],
  ['cfg', (c) => (c.params.cfgScale ? String(c.params.cfgScale) : null)],
  ['concurrency', (c) => (c.params.concurrency !== undefined ? String(c.params.concurrency) : null)],
];

function settingsOf(cases: readonly CaseResult[]): { cols: typeof SETTINGS; caption: string } {
  if (!cases.length) return { cols: [], caption: '' };
  const cols = SETTINGS.filter(([, get]) => new Set(cases.map(get)).size > 1);
  const caption = SETTINGS.filter((s) => !cols.includes(s))
    .map(([n, get]) => [n, get(at(cases, 0, 'cases'))] as const)
    .filter(([, v]) => v !== null)
    .map(([n, v]) => `${n} ${v}`)
    .join(', ');
  return { cols, caption };
}

/** A self-contained page: inline SVG charts, tables, conditions. No scripts, no external resources. */
export async function renderHtml(results: ResultsFile): Promise<string> {
  const charts = await renderCharts(results);
  const verdicts = evaluateClaims(results);
  const headline = headlineOf(results, verdicts);
  // The frontier (speed against quality) is the chart the answer rests on: it goes under the headline.
  const lead = charts.find((c) => c.id === 'frontier') ?? charts.find((c) => c.id === 'throughput');
  const rest = charts.filter((c) => c !== lead);
  const figure = (c: (typeof charts)[number]) => `<figure class="chart" id="chart-${c.id}">${c.svg}</figure>`;
  const sections = results.scenarios.map((s) => {
    const { cols: set, caption } = settingsOf(s.cases);
    const metricHead = COLUMNS.slice(2);
    const head = ['engine', ...set.map(([n]) => n), ...metricHead];
    const rows = s.cases
      .map((c) => {
        const settings = set.map(([, get]) => `<td>${esc(get(c) ?? '-')}</td>`).join('');
        const metrics = c.state !== 'completed' ? `<td colspan="${metricHead.length}">${esc(notCompleted(c))}</td>` : caseRow(c).slice(2).map((v) => `<td>${esc(v)}</td>`).join('');
        return `<tr id="${caseAnchor(c.id)}"${c.state !== 'completed' ? ' class="err"' : ''}><td title="${esc(c.id)}">${esc(c.engine)}</td>${settings}${metrics}</tr>`;
      })
      .join('\n');
    const q = qualityTable(s);
    const quality = q
      ? `<h3>Accuracy beside speed</h3><p class="note">${esc(q.note)}</p><table><thead><tr>${q.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${q.rows.map((r) => `<tr>${r.map((v) => `<td>${esc(v)}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`
      : '';
    const sv = servingTable(s);
    const serving = sv
      ? `<h3>Serving</h3><p class="note">${esc(sv.note)}</p><table class="serving"><thead><tr>${sv.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${sv.rows.map((r) => `<tr>${r.map((v) => `<td>${esc(v)}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`
      : '';
    const analysis = analysisLines(s).map((a) => `<li>${esc(a)}</li>`).join('');
    return `<section><h2>${esc(s.kind)}${s.state !== 'completed' ? ` <small>(${esc(s.state)})</small>` : ''}</h2>
${s.cases.length ? `<table class="cases">${caption ? `<caption>every case: ${esc(caption)}</caption>` : ''}<thead><tr>${head.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>` : '<p>No cases measured.</p>'}
${quality}
${serving}
${analysis ? `<ul>${analysis}</ul>` : ''}</section>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dllm-bench ${esc(results.runId)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:1rem auto;max-width:1180px;color:#222;padding:0 1rem}
h1{font-size:1.6rem;margin:.2rem 0}#headline .where{font-size:15px;margin:.3rem 0}
.figs{display:flex;gap:1.2rem;flex-wrap:wrap;margin:.4rem 0}.fig{border:1px solid #ddd;border-radius:6px;padding:.4rem .8rem;display:flex;flex-direction:column}
.fig .n{font-size:22px;font-weight:600}.fig.big .n{font-size:34px;color:#b00}.fig .l{color:#555;font-size:12px}
ul.claimlist{list-style:none;padding:0;margin:.4rem 0;columns:3;column-gap:1.2rem;font-size:12px;line-height:1.3}ul.claimlist li{margin:.1rem 0;break-inside:avoid}
.verdict{font-weight:bold;text-transform:uppercase;font-size:11px;letter-spacing:.03em}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:.8rem}.card{border:1px solid #ddd;border-radius:6px;padding:.5rem .7rem}
.card q{display:block;color:#555;font-size:12px;margin:.2rem 0}.card details{font-size:13px}
.v-reproduced .verdict{color:#1a7f37}.v-not-reproduced .verdict{color:#b00}.v-inconclusive .verdict{color:#9a6700}.v-not-measurable .verdict{color:#666}
.lead .chart{border:none;padding:0}svg{max-width:100%;height:auto}caption{text-align:left;color:#555;font-size:12px}
table.cases td,table.cases th{padding:2px 5px}tr:target td{background:#fff3b0}
table{border-collapse:collapse;margin:.5rem 0;font-size:13px}td,th{border:1px solid #ddd;padding:3px 7px;text-align:right}
td:first-child,td:nth-child(2),th{text-align:left}th{background:#f4f4f4}tr.err td{color:#b00}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem}.chart{border:1px solid #eee;padding:.5rem}
.note{color:#555}.incomplete{background:#fff3cd;padding:.5rem}
</style></head><body>
<h1>Is diffusion faster than autoregressive here?</h1>
<p class="${results.complete ? 'note' : 'incomplete'}">dllm-bench run ${esc(results.runId)}, ${esc(results.createdAt)}${results.complete ? '' : ' — <b>incomplete</b> (interrupted or a scenario failed)'}.</p>
${headlineSection(headline)}
${lead ? `<div class="lead">${figure(lead)}</div>` : ''}
${claimCards(results, verdicts, headline)}
<h2>Conditions</h2><details><summary>${esc(environmentLine(results))}</summary><ul>${conditionLines(results).map((c) => `<li>${esc(c)}</li>`).join('')}</ul></details>
<p class="note">Tokens/s counts generated positions only; useful tokens stop at the first EOS/end-of-turn token. Mean ± sd over the measured runs; warmup excluded.</p>
${rest.length ? `<h2>Charts</h2><div class="charts">${rest.map(figure).join('\n')}</div>` : ''}
${sections.join('\n')}
${engineRows(results).length ? `<h2>Engines and memory</h2><p class="note">${esc(ENGINES_NOTE)}</p><table><tr>${ENGINE_COLUMNS.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>${engineRows(results).map((r) => `<tr>${r.map((x) => `<td>${esc(x)}</td>`).join('')}</tr>`).join('')}</table>` : ''}
${skippedLines(results).length ? `<h2>${esc(SKIPPED_TITLE)}</h2><ul>${skippedLines(results).map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : ''}
${results.warnings.length ? `<h2>Warnings</h2><ul>${results.warnings.map((w) => `<li>${esc(w.message)}</li>`).join('')}</ul>` : ''}
${results.errors.length ? `<h2>Errors</h2><ul>${results.errors.map((e) => `<li>${esc(`${e.caseId ?? e.scenario ?? ''}: ${e.message}`)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}
