/** Claims exporters: console text, markdown, JSON; each a pure function of the verdicts and the run. */
import chalk from 'chalk';
import type { ResultsFile } from '../results/types.js';
import type { ClaimVerdict, ClaimVerdictKind } from './claims.js';

const LABEL: Record<ClaimVerdictKind, string> = { supported: 'SUPPORTED', refuted: 'REFUTED', 'not-measurable': 'NOT MEASURABLE' };
const COLOR: Record<ClaimVerdictKind, (s: string) => string> = {
  supported: (s) => chalk.green.bold(s),
  refuted: (s) => chalk.red.bold(s),
  'not-measurable': (s) => chalk.yellow(s),
};

/** Why the verdicts are about this run, not about Mercury. */
export function claimsPreamble(r: ResultsFile): string {
  const models = [...new Set(r.scenarios.flatMap((s) => s.cases.map((c) => `${c.engine}: ${c.model}`)))].join(', ');
  return (
    `The blog's figures are about Inception Labs' Mercury. This run (${r.runId}) measured ${models || 'no cases'}; ` +
    `each verdict says whether this run reproduces the claim under the conditions listed with it.`
  );
}

function conditionText(v: ClaimVerdict): string[] {
  const c = v.conditions;
  const lines: string[] = [];
  const core = [c.device && `device ${c.device}`, `GPU ${c.gpuName ?? 'none'}`, c.dtype && `dtype ${c.dtype}`, c.weights && `${c.weights} weights`].filter(Boolean);
  lines.push(core.join('; '));
  if (c.handicaps.length) lines.push(`handicaps: ${c.handicaps.join('; ')}`);
  return lines;
}

export function renderClaimsText(verdicts: readonly ClaimVerdict[], r: ResultsFile): string {
  const out = [chalk.dim(claimsPreamble(r)), ''];
  for (const v of verdicts) {
    out.push(`${COLOR[v.verdict](LABEL[v.verdict])}  ${chalk.bold(v.id)}: "${v.claim}"`);
    out.push(`  ${v.evidence}`);
    for (const l of conditionText(v)) out.push(chalk.dim(`  ${l}`));
    out.push('');
  }
  out.push(chalk.dim(`Token counting: ${verdicts[0]?.conditions.tokenCounting ?? ''}.`));
  return out.join('\n');
}

export function renderClaimsMarkdown(verdicts: readonly ClaimVerdict[], r: ResultsFile): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  const out = ['## The blog\'s claims, checked', '', claimsPreamble(r), '', '| claim | verdict | evidence | conditions |', '|---|---|---|---|'];
  for (const v of verdicts) {
    out.push(`| ${cell(`"${v.claim}"`)} | **${LABEL[v.verdict].toLowerCase()}** | ${cell(v.evidence)} | ${cell(conditionText(v).join('; '))} |`);
  }
  out.push('', `Token counting: ${verdicts[0]?.conditions.tokenCounting ?? ''}.`, '');
  return out.join('\n');
}

/** JSON: the run it came from and the verdicts, as evaluateClaims returns them. */
export function renderClaimsJson(verdicts: readonly ClaimVerdict[], r: ResultsFile): string {
  return `${JSON.stringify({ runId: r.runId, createdAt: r.createdAt, note: claimsPreamble(r), claims: verdicts }, null, 2)}\n`;
}
