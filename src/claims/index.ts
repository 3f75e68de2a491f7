/** Verdicts on the blog's claims ("10x faster", "1000+ tokens/s on H100", ...) from one results file. */
export { evaluateClaims } from './claims.js';
export { type Headline, VERDICT_SHORT, headlineLines, headlineMarkdown, headlineOf, terminalWidth } from './headline.js';
export { CLAIM_TEXT, ClaimVerdict as ClaimVerdictSchema, type ClaimConditions, type ClaimId, type ClaimVerdict, type VerdictKind } from './schema.js';
export { type AccuracyOf, type EvaluateOptions, QUALITY_MARGIN_POINTS, recordedAccuracy } from './evidence.js';
export { VERDICT_LABEL, claimsPreamble, styleHeadline, conditionText, renderClaimsJson, renderClaimsMarkdown, renderClaimsText, verdictDetail } from './render.js';
export { CLAIMS_FORMATS, claimsCommand, type ClaimsCommandOptions, type ClaimsFormat } from './command.js';
