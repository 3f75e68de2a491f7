import type { Comparison } from './compare.js';
import { failureLine, metricChange, pooledText } from './format.js';

/**
 * XML text and attribute escaping. Characters XML 1.0 cannot hold at all (most C0 controls, lone surrogates,
 * U+FFFE/U+FFFF) are replaced, since no escape makes them legal.
 */
export function escapeXml(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const attrs = (a: Record<string, string | number>) =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');

/**
 * JUnit XML: one <testsuite> per scenario, one <testcase> per case and metric (classname = case id, name = metric),
 * a <failure> for each regression, and one failing "run" testcase for a case that errored in the current run.
 */
export function renderJUnit(c: Comparison): string {
  const suites = new Map<string, string[]>();
  const failuresBySuite = new Map<string, number>();
  const add = (suite: string, xml: string, failed: boolean) => {
    if (!suites.has(suite)) suites.set(suite, []);
    suites.get(suite)!.push(xml);
    if (failed) failuresBySuite.set(suite, (failuresBySuite.get(suite) ?? 0) + 1);
  };
  for (const k of c.cases) {
    const suite = k.scenario;
    if (k.state === 'current-errored') {
      const msg = failureLine({ kind: 'errored', caseId: k.id, scenario: k.scenario, error: k.error });
      add(suite, `    <testcase${attrs({ classname: k.id, name: 'run' })}>\n      <failure${attrs({ message: msg, type: 'errored' })}>${escapeXml(msg)}</failure>\n    </testcase>`, true);
      continue;
    }
    if (k.state === 'baseline-errored') {
      add(suite, `    <testcase${attrs({ classname: k.id, name: 'run' })}>\n      <skipped${attrs({ message: `errored in the baseline: ${k.error}` })}/>\n    </testcase>`, false);
      continue;
    }
    for (const m of k.metrics) {
      const open = `    <testcase${attrs({ classname: k.id, name: m.metric })}>`;
      const out = `      <system-out>${escapeXml(`${m.verdict}: ${metricChange(m)}`)}</system-out>`;
      if (m.verdict === 'regression') {
        const msg = `${k.id}: ${metricChange(m)}`;
        add(suite, `${open}\n      <failure${attrs({ message: msg, type: 'regression' })}>${escapeXml(msg)}</failure>\n${out}\n    </testcase>`, true);
      } else add(suite, `${open}\n${out}\n    </testcase>`, false);
    }
  }
  for (const p of c.pooled) {
    const open = `    <testcase${attrs({ classname: 'pooled', name: p.metric })}>`;
    const out = `      <system-out>${escapeXml(`${p.verdict}: ${pooledText(p)}`)}</system-out>`;
    if (p.verdict === 'regression') {
      const msg = failureLine({ kind: 'pooled-regression', pooled: p });
      add('pooled', `${open}\n      <failure${attrs({ message: msg, type: 'regression' })}>${escapeXml(msg)}</failure>\n${out}\n    </testcase>`, true);
    } else add('pooled', `${open}\n${out}\n    </testcase>`, false);
  }
  const total = [...suites.values()].reduce((a, s) => a + s.length, 0);
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites${attrs({ name: 'dllm-bench compare', tests: total, failures: c.failures.length })}>`];
  for (const [name, cases] of suites) {
    lines.push(`  <testsuite${attrs({ name, tests: cases.length, failures: failuresBySuite.get(name) ?? 0, errors: 0, skipped: cases.filter((x) => x.includes('<skipped')).length })}>`);
    lines.push(...cases, '  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}
