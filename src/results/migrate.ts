/**
 * Older results files, brought to the current schema before validation. Only what changed is touched; the
 * migrated value is then validated like any current file.
 *
 * v1 -> v2: a confidence interval that was ±Infinity in memory was written by JSON.stringify as [null, null];
 * v2 stores an undefined interval as null (case summaries and scaling fits). Nothing else changed shape.
 *
 * The context analysis of v1 (and early v2) files is the log-log `scaling` fit, kept as a legacy field; readers
 * compute the cost models those files lack from their cases (src/results/cost-model.ts), so nothing is migrated.
 */
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const records = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter(isRecord) : []);

/** [a, b] with a null (or missing) bound -> null; anything else is left for validation to judge. */
function ciV1toV2(ci: unknown): unknown {
  return Array.isArray(ci) && ci.length === 2 && ci.some((x) => x === null || x === undefined) ? null : ci;
}

export function migrateV1toV2(file: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(file);
  out.schemaVersion = 2;
  for (const scenario of records(out.scenarios)) {
    for (const c of records(scenario.cases)) {
      if (!isRecord(c.summary)) continue;
      for (const s of Object.values(c.summary)) if (isRecord(s) && 'ci95' in s) s.ci95 = ciV1toV2(s.ci95);
    }
    const analysis = scenario.analysis;
    if (isRecord(analysis)) for (const fit of records(analysis.scaling)) if ('ci95' in fit) fit.ci95 = ciV1toV2(fit.ci95);
  }
  return out;
}

/** Schema versions this reader can bring up to date, each with the step to the next version. */
export const MIGRATIONS: Readonly<Record<number, (file: Record<string, unknown>) => Record<string, unknown>>> = {
  1: migrateV1toV2,
};
