import { modelFileContent } from '../dino/weights/net-source';
import type { DinoNet } from '../dino/model/net';
import { writeSafetensors } from '../dino/weights/safetensors';

/**
 * A model file of the app: the teacher (backbone under the official names, head under head.*) as
 * .safetensors, with its network config in the metadata. Official and exported weights in other
 * layouts are read through dino/weights and become the same DinoNet.
 */
export { MODEL_FORMAT, netFromTensors } from '../dino/weights/net-source';

export interface ModelFileInfo {
  arch: string;
  patchSize: number;
  dim: number;
  imgSize: number;
  depth: number;
  hasHead: boolean;
}

export async function saveModelFile(path: string, net: DinoNet, extra: Record<string, string> = {}): Promise<void> {
  const content = await modelFileContent(net, extra);
  writeSafetensors(path, content.tensors, content.metadata);
}

export function infoOf(net: DinoNet): ModelFileInfo {
  return {
    arch: net.config.vit.arch,
    patchSize: net.config.vit.patchSize,
    dim: net.config.vit.embedDim,
    imgSize: net.config.vit.imgSize,
    depth: net.config.vit.depth,
    hasHead: [...net.params.keys()].some((k) => k.startsWith('head.')),
  };
}
