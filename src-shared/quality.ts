// A model's label-free quality as the API carries it, and which of its scores the app trusts to compare
// models (the Training panel's curve, the model list, fine-tuning's keep-the-better-model): the one that
// tracked labelled k-NN best across the models of the study in src-main/dino/README.md ("Label-free
// quality"). Imports nothing (both tsconfigs include it).

/**
 * A model's label-free quality on a fixed sample of the catalog's photos: no labels needed.
 * `retrieval`: the augmentation-retrieval probe, the share of photos whose augmented twin is their
 * nearest neighbour (0-1, higher is better); `rankme`: the effective rank of the embeddings (RankMe,
 * Garrido et al. 2023; 1 = collapsed, up to min(sample, dim)).
 */
export interface QualityDTO {
  rankme: number;
  retrieval: number;
  /** photos RankMe measured */
  sample: number;
  /** photos with an augmented twin in the retrieval probe */
  views: number;
  /** the embedding's width: RankMe is at most min(sample, dim) */
  dim: number;
}

/** A training checkpoint's label-free quality (step 0: the start, before any training). */
export interface TrainQualityDTO extends QualityDTO {
  runId: number;
  step: number;
}

export const PRIMARY_QUALITY = 'retrieval' as const satisfies keyof QualityDTO;

/** the primary score of a measurement: higher is better */
export function qualityScore(q: QualityDTO): number {
  return q[PRIMARY_QUALITY];
}
