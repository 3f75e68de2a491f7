import { VERDICT_LABEL, claimsPreamble, conditionText, evaluateClaims, verdictDetail } from '../claims/index.js';
import type { ResultsFile } from '../results/types.js';
import { renderCharts } from './charts.js';
import { COLUMNS, analysisLines, caseRow, conditionLines, environmentLine } from './format.js';
import { qualityTable } from './quality.js';
import { notCompleted } from './state.js';
import { ENGINES_NOTE, ENGINE_COLUMNS, SKIPPED_TITLE, engineRows, skippedLines } from './engines.js';

const esc = (s: string) => s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);

/** The blog's claims: verdict, evidence, what would decide or measure it, and the conditions it holds under. */
function claimsSection(results: ResultsFile): string {
  const rows = evaluateClaims(results).map((v) => {
    const detail = verdictDetail(v);
    return `<tr class="v-${v.verdict}"><td><b>${esc(v.id)}</b><br><q>${esc(v.claim)}</q></td><td class="verdict">${esc(VERDICT_LABEL[v.verdict].toLowerCase())}</td>
<td>${esc(v.evidence)}${detail ? `<br><i>${esc(detail)}</i>` : ''}</td><td>${conditionText(v).map(esc).join('<br>')}</td></tr>`;
  });
  return `<section id="claims"><h2>The blog's claims, checked</h2><p class="note">${esc(claimsPreamble(results))} How each verdict is decided: README, "How each verdict is decided".</p>
<table class="claims"><thead><tr><th>claim</th><th>verdict</th><th>evidence</th><th>conditions</th></tr></thead><tbody>${rows.join('\n')}</tbody></table></section>`;
}

/** A self-contained page: inline SVG charts, tables, conditions. No scripts, no external resources. */
export async function renderHtml(results: ResultsFile): Promise<string> {
  const charts = await renderCharts(results);
  const sections = results.scenarios.map((s) => {
    const rows = s.cases
      .map((c) => (c.state !== 'completed' ? `<tr class="err"><td>${esc(c.engine)}</td><td>${esc(caseRow(c)[1]!)}</td><td colspan="${COLUMNS.length - 2}">${esc(notCompleted(c))}</td></tr>` : `<tr>${caseRow(c).map((v) => `<td>${esc(v)}</td>`).join('')}</tr>`))
      .join('\n');
    const q = qualityTable(s);
    const quality = q
      ? `<h3>Accuracy beside speed</h3><p class="note">${esc(q.note)}</p><table><thead><tr>${q.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${q.rows.map((r) => `<tr>${r.map((v) => `<td>${esc(v)}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`
      : '';
    const analysis = analysisLines(s).map((a) => `<li>${esc(a)}</li>`).join('');
    return `<section><h2>${esc(s.kind)}${s.state !== 'completed' ? ` <small>(${esc(s.state)})</small>` : ''}</h2>
${s.cases.length ? `<table><thead><tr>${COLUMNS.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>` : '<p>No cases measured.</p>'}
${quality}
${analysis ? `<ul>${analysis}</ul>` : ''}</section>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dllm-bench ${esc(results.runId)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:13px}td,th{border:1px solid #ddd;padding:3px 7px;text-align:right}
td:first-child,td:nth-child(2),th{text-align:left}th{background:#f4f4f4}tr.err td{color:#b00}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem}.chart{border:1px solid #eee;padding:.5rem}
.note{color:#555}.incomplete{background:#fff3cd;padding:.5rem}
table.claims td{text-align:left;vertical-align:top;max-width:520px}td.verdict{font-weight:bold;white-space:nowrap}
.v-reproduced td.verdict{color:#1a7f37}.v-not-reproduced td.verdict{color:#b00}.v-inconclusive td.verdict{color:#9a6700}.v-not-measurable td.verdict{color:#666}
</style></head><body>
<h1>dllm-bench: diffusion vs autoregressive</h1>
<p class="${results.complete ? 'note' : 'incomplete'}">Run ${esc(results.runId)}, ${esc(results.createdAt)}${results.complete ? '' : ' — <b>incomplete</b> (interrupted or a scenario failed)'}.</p>
<h2>Conditions</h2><ul><li>${esc(environmentLine(results))}</li>${conditionLines(results).map((c) => `<li>${esc(c)}</li>`).join('')}</ul>
<p class="note">Tokens/s counts generated positions only; useful tokens stop at the first EOS/end-of-turn token. Mean ± sd over the measured runs; warmup excluded.</p>
${claimsSection(results)}
<h2>Charts</h2><div class="charts">${charts.map((c) => `<figure class="chart" id="chart-${c.id}">${c.svg}</figure>`).join('\n')}</div>
${sections.join('\n')}
${engineRows(results).length ? `<h2>Engines and memory</h2><p class="note">${esc(ENGINES_NOTE)}</p><table><tr>${ENGINE_COLUMNS.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>${engineRows(results).map((r) => `<tr>${r.map((x) => `<td>${esc(x)}</td>`).join('')}</tr>`).join('')}</table>` : ''}
${skippedLines(results).length ? `<h2>${esc(SKIPPED_TITLE)}</h2><ul>${skippedLines(results).map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : ''}
${results.warnings.length ? `<h2>Warnings</h2><ul>${results.warnings.map((w) => `<li>${esc(w.message)}</li>`).join('')}</ul>` : ''}
${results.errors.length ? `<h2>Errors</h2><ul>${results.errors.map((e) => `<li>${esc(`${e.caseId ?? e.scenario ?? ''}: ${e.message}`)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}
