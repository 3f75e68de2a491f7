/** onnxruntime session options shared by every in-process engine. */
import type { InferenceSession } from 'onnxruntime-node';

export interface SessionTuning {
  /** Threads inside one op (default: onnxruntime's choice, all physical cores). */
  intraOpThreads?: number;
  interOpThreads?: number;
  graphOptimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

export function sessionOptions(tuning: SessionTuning | undefined, providers: string[]): InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    graphOptimizationLevel: tuning?.graphOptimization ?? 'all',
    ...(tuning?.intraOpThreads ? { intraOpNumThreads: tuning.intraOpThreads } : {}),
    ...(tuning?.interOpThreads ? { interOpNumThreads: tuning.interOpThreads } : {}),
    // Warnings about unused initializers and the like are noise for users; errors still surface as exceptions.
    logSeverityLevel: 3,
  };
}
