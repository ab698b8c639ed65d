/**
 * Label-free quality of a model on a fixed sample of the user's photos: RankMe (the effective rank of
 * the sample's embeddings) and the augmentation-retrieval probe (does each photo's augmented twin come
 * out as its nearest neighbour). The sample is decoded once; the network can be any DinoNet (the
 * training teacher at a checkpoint, a model file) or the raw-pixels baseline. Runs where tfjs runs: the
 * training and quality workers.
 */
import { decodeSideFor, embedImages } from '../dino/embed';
import type { RgbImage } from '../dino/augment';
import type { DinoNet } from '../dino/net';
import { probeSide, probeView } from '../dino/probe-views';
import { rankMe } from '../analysis/rankme';
import { twinRetrieval } from '../analysis/twin-retrieval';
import { fromRows } from '../analysis/vectors';
import { tinyImageFeature } from '../evaluation/pixels';
import { decodeRgb } from '../library/decode';

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

/**
 * Decodes the sample for a model that embeds at `imgSize` and makes the twins of its first `views`
 * photos. A photo that cannot be read is left out (the sample shrinks by one).
 */
export async function loadProbeSet(items: readonly { path: string }[], imgSize: number, views: number): Promise<ProbeSet> {
  const side = decodeSideFor(imgSize);
  const originals: RgbImage[] = [];
  for (let i = 0; i < items.length; i += 8) {
    const chunk = await Promise.all(items.slice(i, i + 8).map((it) => decodeRgb(it.path, side).catch(() => null)));
    for (const img of chunk) if (img) originals.push({ rgb: img.data, width: img.width, height: img.height });
  }
  const twins = originals.slice(0, views).map((img, i) => probeView(img, probeSide(imgSize), i));
  return { originals, views: twins };
}

function score(originals: Float32Array[], views: Float32Array[]): LabelFreeScores {
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
  return score(await embedImages(net, set.originals), await embedImages(net, set.views));
}

/** The raw-pixels baseline (eval's `pixels`: a 16 x 16 tiny image per photo or view). */
export function scorePixels(set: ProbeSet): LabelFreeScores {
  const tiny = (img: RgbImage) => tinyImageFeature(img.rgb, img.width, img.height);
  return score(set.originals.map(tiny), set.views.map(tiny));
}
