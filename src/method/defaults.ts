/**
 * Default method parameters. The refinement weights were chosen on seed 1 of the synthetic
 * ambiguity benchmark (`npm run bench:refine -- --tune`) and are reported on other seeds; every one
 * can be overridden in config (REFERENT_REFINE_*).
 */
import type { FusionOptions } from './fusion.js';
import type { PipelineParams } from './pipeline.js';

export const DEFAULT_FUSION_OPTIONS: FusionOptions = { tau: 0.1, rounds: 2 };

export const DEFAULT_PIPELINE: PipelineParams = {
  textWeight: 1,
  imageWeight: 1,
  detailWeight: 1,
  entityWeight: 1,
  refspaceWeight: 3,
  profileK: 8,
  profileTau: 0.5,
  noneLevel: 3,
  minCandidates: 100,
  referenceDepth: 16,
  imagesPerEntity: 16,
};
