// From an inspected weights file to the configs the app's ViT and head are built with.
import type { HeadConfig } from '../model/head';
import type { VitConfig } from '../model/vit';
import type { ViTArchInfo } from './inspect';

export function vitConfigFromArch(a: ViTArchInfo, dropPathRate = 0): VitConfig {
  return {
    arch: a.arch,
    patchSize: a.patchSize,
    embedDim: a.embedDim,
    depth: a.depth,
    numHeads: a.numHeads,
    mlpRatio: a.mlpHidden / a.embedDim,
    imgSize: a.imgSize,
    dropPathRate,
  };
}

/**
 * The head's config when the file has one. normLastLayer (weight_g frozen at 1) is a training
 * choice the weights only hint at (all gains 1): LoadedWeights.meta.normLastLayer gives that hint.
 */
export function headConfigFromArch(a: ViTArchInfo, normLastLayer: boolean): HeadConfig | undefined {
  if (!a.head) return undefined;
  return { inDim: a.embedDim, outDim: a.head.outDim, hiddenDim: a.head.hiddenDim, bottleneckDim: a.head.bottleneckDim, nlayers: a.head.nlayers, normLastLayer };
}
