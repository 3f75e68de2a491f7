/** What every scenario runner gets: the run's config, engines, prompts and where cases and warnings go. */
import type { RunConfig } from '../config/schema.js';
import type { QualitySuite } from '../quality/suite.js';
import type { CaseParams, CaseResult, SkippedCase, Warning } from '../results/types.js';
import type { EngineHandle, MeasureContext } from './measure.js';
import type { PreparedPrompt, PromptSet } from './prompts.js';

export interface ScenarioContext extends MeasureContext {
  config: RunConfig;
  handles: EngineHandle[];
  set: PromptSet;
  prompts: Map<EngineHandle, PreparedPrompt[]>;
  /** Engines whose model has held-out tasks (the twins): their throughput and steps cases record `quality`. */
  suites?: Map<EngineHandle, QualitySuite>;
  emit: (c: CaseResult) => void;
  /** The memory plan's verdict on a case before it runs: a one-line reason to skip it, or null to run it. */
  admit?: (h: EngineHandle, params: CaseParams) => string | null;
  /** Where a case the plan refused is recorded. */
  skip?: (s: SkippedCase) => void;
  warn: (w: Warning) => void;
}
