/**
 * The label-free quality of a network on a decoded sample (services/label-free.ts decodes it; the
 * GPU window gets it from the main process): RankMe, the effective rank of the sample's embeddings,
 * and the augmentation-retrieval probe, does each photo's augmented twin come out as its nearest
 * neighbour. Here, without Node, so the training job scores its checkpoints wherever it runs.
 */
import { rankMe } from '../analysis/rankme';
import { twinRetrieval } from '../analysis/twin-retrieval';
import { fromRows } from '../analysis/vectors';
import type { RgbImage } from '../dino/train/augment';
import { embedImages } from '../dino/embed';
import type { DinoNet } from '../dino/model/net';

/** One score of the sample: see the file comment. */
export interface LabelFreeScores {
  rankme: number;
  retrieval: number;
  /** photos whose embeddings RankMe measured */
  sample: number;
  /** photos with an augmented twin in the retrieval probe (the sample's first) */
  views: number;
  /** the embedding's width (RankMe is at most min(sample, dim)) */
  dim: number;
}

export interface ProbeSet {
  /** the photos as decoded (embedded with the evaluation transform) */
  originals: RgbImage[];
  /** the twins of the first originals */
  views: RgbImage[];
}

/** Both scores of a sample's features, given as rows: the originals', then their twins'. */
export function scoreFeatures(originals: Float32Array[], views: Float32Array[]): LabelFreeScores {
  const all = fromRows(originals);
  return {
    rankme: rankMe(all),
    retrieval: twinRetrieval(fromRows(originals.slice(0, views.length)), fromRows(views)),
    sample: originals.length,
    views: views.length,
    dim: all.dim,
  };
}

/** The scores of a network's embeddings (teacher backbone [CLS], L2-normalised, as the app embeds). */
export async function scoreNet(net: DinoNet, set: ProbeSet): Promise<LabelFreeScores> {
  return scoreFeatures(await embedImages(net, set.originals), await embedImages(net, set.views));
}
