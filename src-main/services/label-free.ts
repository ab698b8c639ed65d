/**
 * Label-free quality of a model on a fixed sample of the user's photos: RankMe (the effective rank of
 * the sample's embeddings) and the augmentation-retrieval probe (does each photo's augmented twin come
 * out as its nearest neighbour). The sample is decoded once; the network can be any DinoNet (the
 * training teacher at a checkpoint, a model file) or the raw-pixels baseline. The scoring itself is
 * compute/label-free-score.ts (no Node: the GPU window scores its checkpoints too); here the sample is
 * decoded.
 */
import { scoreFeatures, type LabelFreeScores, type ProbeSet } from '../compute/label-free-score';
import { decodeSideFor } from '../dino/embed';
import type { RgbImage } from '../dino/train/augment';
import { probeSide, probeView } from '../dino/train/probe-views';
import { tinyImageFeature } from '../evaluation/pixels';
import { decodeRgb } from '../library/decode';

export { scoreNet, type LabelFreeScores, type ProbeSet } from '../compute/label-free-score';

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

/** The raw-pixels baseline (eval's `pixels`: a 16 x 16 tiny image per photo or view). */
export function scorePixels(set: ProbeSet): LabelFreeScores {
  const tiny = (img: RgbImage) => tinyImageFeature(img.rgb, img.width, img.height);
  return scoreFeatures(set.originals.map(tiny), set.views.map(tiny));
}
