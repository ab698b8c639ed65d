// Which label-free score the app trusts to compare models (the Training panel's curve, the model list,
// fine-tuning's keep-the-better-model): the one that tracked labelled k-NN best across the models of
// the study in src-main/dino/README.md ("Label-free quality"). Imports nothing (both tsconfigs include it).
import type { QualityDTO } from './api';

export const PRIMARY_QUALITY = 'retrieval' as const satisfies keyof QualityDTO;

/** the primary score of a measurement: higher is better */
export function qualityScore(q: QualityDTO): number {
  return q[PRIMARY_QUALITY];
}
