import { readNamed } from '../dino/checkpoint';
import type { DinoNet, NetConfig } from '../dino/net';
import { writeSafetensors, type NamedArray } from '../dino/safetensors';
import { initVitParams, newVariable, type Params, type VitConfig } from '../dino/vit';
import { Rng } from '../dino/rng';

/**
 * A model file of the app: the teacher (backbone under the official names, head under head.*) as
 * .safetensors, with its network config in the metadata. Official and exported weights in other
 * layouts are read through dino/weights and become the same DinoNet.
 */
export const MODEL_FORMAT = 'dino-explorer-model/1';

export interface ModelFileInfo {
  arch: string;
  patchSize: number;
  dim: number;
  imgSize: number;
  depth: number;
  hasHead: boolean;
}

export async function saveModelFile(path: string, net: DinoNet, extra: Record<string, string> = {}): Promise<void> {
  const tensors = await readNamed(net.params);
  writeSafetensors(path, tensors, { ...extra, format: MODEL_FORMAT, net: JSON.stringify(net.config) });
}

/** Builds a net whose variables hold `tensors` (backbone always, head when the config has one and the file too). */
export function netFromTensors(config: NetConfig, tensors: Map<string, NamedArray>): DinoNet {
  const params: Params = new Map();
  const shapes = initShapes(config.vit);
  for (const [name, shape] of shapes) {
    const t = tensors.get(name);
    if (!t) throw new Error(`the weights have no ${name}`);
    if (t.shape.join(',') !== shape.join(',')) throw new Error(`${name}: the weights have shape [${t.shape}], the model needs [${shape}]`);
    params.set(name, newVariable(t.data, shape, false));
  }
  for (const [name, t] of tensors) if (name.startsWith('head.')) params.set(name, newVariable(t.data, t.shape, false));
  return { config, params };
}

function initShapes(vit: VitConfig): [string, number[]][] {
  // the shapes of a freshly initialised backbone, so the check above cannot drift from vit.ts
  const tmp = initVitParams({ ...vit }, new Rng(0));
  const out: [string, number[]][] = [...tmp].map(([n, v]) => [n, [...v.shape]]);
  for (const v of tmp.values()) v.dispose();
  return out;
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
