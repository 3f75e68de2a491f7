/** Claims exporters: console text, markdown, JSON; each a pure function of the verdicts and the run. */
import chalk from 'chalk';
import type { ResultsFile } from '../results/types.js';
import { VERDICT_SHORT, headlineLines, headlineMarkdown, headlineOf, terminalWidth } from './headline.js';
import type { ClaimVerdict, VerdictKind } from './schema.js';

export const VERDICT_LABEL: Record<VerdictKind, string> = {
  reproduced: 'REPRODUCED',
  'not-reproduced': 'NOT REPRODUCED',
  inconclusive: 'INCONCLUSIVE',
  'not-measurable': 'NOT MEASURABLE HERE',
};
const COLOR: Record<VerdictKind, (s: string) => string> = {
  reproduced: (s) => chalk.green.bold(s),
  'not-reproduced': (s) => chalk.red.bold(s),
  inconclusive: (s) => chalk.yellow.bold(s),
  'not-measurable': (s) => chalk.yellow(s),
};

/** The headline's lines for a terminal: the title bold, each verdict word in its colour (plain when colour is off). */
export function styleHeadline(lines: readonly string[]): string[] {
  return lines.map((l, i) => {
    if (i === 0) return chalk.bold(l);
    for (const [kind, label] of Object.entries(VERDICT_SHORT) as [VerdictKind, string][]) {
      if (l.startsWith(`    ${label} `)) return `    ${COLOR[kind](label)}${l.slice(4 + label.length)}`;
    }
    return l;
  });
}

/** Why the verdicts are about this run, not about Mercury. */
export function claimsPreamble(r: ResultsFile): string {
  const models = [...new Set(r.scenarios.flatMap((s) => s.cases.map((c) => `${c.engine}: ${c.model}`)))].join(', ');
  return (
    `The blog's figures are about Inception Labs' Mercury. This run (${r.runId}) measured ${models || 'no cases'}; ` +
    `each verdict says whether this run reproduces the claim under the conditions listed with it.`
  );
}

const ciText = (ci: [number, number] | null) => (ci ? `[${ci.map((x) => (Math.abs(x) >= 0.01 || x === 0 ? Number(x.toPrecision(3)) : x.toExponential(2))).join(', ')}]` : 'no interval');

/** What the verdict kind carries: the interval that would decide, or what would make it measurable. */
export function verdictDetail(v: ClaimVerdict): string | null {
  if (v.verdict === 'inconclusive') return `deciding: ${v.deciding.quantity} ${ciText(v.deciding.ci95)}; ${v.deciding.decidesWhen}`;
  if (v.verdict === 'not-measurable') return `needs: ${v.needs}`;
  return null;
}

export function conditionText(v: ClaimVerdict): string[] {
  const c = v.conditions;
  const lines: string[] = [];
  const core = [c.device && `device ${c.device}`, `GPU ${c.gpuName ?? 'none'}`, c.dtype && `dtype ${c.dtype}`, c.weights && `${c.weights} weights`, c.scale === 'miniature' ? 'in miniature' : c.scale === 'full' ? 'full scale' : null].filter(Boolean);
  lines.push(core.join('; '));
  if (c.holdsUnder.length) lines.push(`holds under: ${c.holdsUnder.join('; ')}`);
  if (c.handicaps.length) lines.push(`handicaps: ${c.handicaps.join('; ')}`);
  if (v.evidenceUsed.length) lines.push(`evidence used: ${v.evidenceUsed.join(', ')}`);
  return lines;
}

export function renderClaimsText(verdicts: readonly ClaimVerdict[], r: ResultsFile): string {
  const out = [...styleHeadline(headlineLines(headlineOf(r, verdicts), terminalWidth())), '', chalk.dim(claimsPreamble(r)), ''];
  for (const v of verdicts) {
    out.push(`${COLOR[v.verdict](VERDICT_LABEL[v.verdict])}  ${chalk.bold(v.id)}: "${v.claim}"`);
    out.push(`  ${v.evidence}`);
    const d = verdictDetail(v);
    if (d) out.push(`  ${d}`);
    for (const l of conditionText(v)) out.push(chalk.dim(`  ${l}`));
    out.push('');
  }
  out.push(chalk.dim(`Token counting: ${verdicts[0]?.conditions.tokenCounting ?? ''}.`));
  return out.join('\n');
}

export function renderClaimsMarkdown(verdicts: readonly ClaimVerdict[], r: ResultsFile): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  const out = [headlineMarkdown(headlineOf(r, verdicts)), "## The blog's claims, checked", '', claimsPreamble(r), '', '| claim | verdict | evidence | conditions |', '|---|---|---|---|'];
  for (const v of verdicts) {
    const d = verdictDetail(v);
    out.push(`| ${cell(`"${v.claim}"`)} | **${VERDICT_LABEL[v.verdict].toLowerCase()}** | ${cell(v.evidence + (d ? ` (${d})` : ''))} | ${cell(conditionText(v).join('; '))} |`);
  }
  out.push('', `Token counting: ${verdicts[0]?.conditions.tokenCounting ?? ''}.`, '');
  return out.join('\n');
}

/** JSON: the run it came from and the verdicts, as evaluateClaims returns them (src/claims/schema.ts). */
export function renderClaimsJson(verdicts: readonly ClaimVerdict[], r: ResultsFile): string {
  return `${JSON.stringify({ runId: r.runId, createdAt: r.createdAt, note: claimsPreamble(r), claims: verdicts }, null, 2)}\n`;
}
