/** Verdicts on the blog's claims ("10x faster", "1000+ tokens/s on H100", ...) from one results file. */
export { CLAIM_TEXT, evaluateClaims, type ClaimConditions, type ClaimId, type ClaimVerdict, type ClaimVerdictKind } from './claims.js';
export { claimsPreamble, renderClaimsJson, renderClaimsMarkdown, renderClaimsText } from './render.js';
export { CLAIMS_FORMATS, claimsCommand, type ClaimsCommandOptions, type ClaimsFormat } from './command.js';
