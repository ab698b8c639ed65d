// Any weights file the app accepts, read from disk: its tensors under the official names with the
// network config (readWeights), the data a network is made from (netSourceOf), or the network itself
// (loadNet). The model-file half of weights/ that needs Node; net-source.ts is the half that does not.
import { MODEL_FORMAT, netFromSource, type NetSource } from './net-source';
import type { HeadConfig } from '../model/head';
import type { DinoNet, NetConfig } from '../model/net';
import { readSafetensors } from './safetensors';
import { loadDinoWeights } from './load';
import { headConfigFromArch, vitConfigFromArch } from './model-config';
import type { TensorMap } from './tensor-map';

export interface LoadedTensors {
  config: NetConfig;
  tensors: TensorMap;
  hasHead: boolean;
}

// A head config for backbone-only weights: never run (embedding uses the backbone), but the net
// type wants one; fine-tuning replaces it with a freshly initialised head of the preset's shape.
const NO_HEAD = (inDim: number): HeadConfig => ({ inDim, outDim: 0, hiddenDim: 0, bottleneckDim: 0, nlayers: 0, normLastLayer: true });

/**
 * Any weights file the app accepts, as official-name tensors plus the network config: the app's own
 * model files (config in their metadata), and through dino/weights the official .pth checkpoints
 * (backbone or full), .safetensors and Hugging Face layouts (config inferred from the shapes).
 * Plain data: no tfjs needed.
 */
export function readWeights(file: string): LoadedTensors {
  const w = loadDinoWeights(file, { shapesOnly: true });
  if (w.meta.metadata?.format === MODEL_FORMAT) {
    const content = readSafetensors(file);
    const config = JSON.parse(content.metadata.net!) as NetConfig;
    return { config, tensors: content.tensors, hasHead: [...content.tensors.keys()].some((k) => k.startsWith('head.')) };
  }
  const full = loadDinoWeights(file);
  const vit = vitConfigFromArch(full.arch);
  const head = headConfigFromArch(full.arch, full.meta.normLastLayer ?? true);
  return { config: { vit, head: head ?? NO_HEAD(vit.embedDim) }, tensors: full.tensors, hasHead: head !== undefined };
}

/**
 * Any weights the app accepts as the data a network is made from (plain data: no tfjs needed, so the
 * main process reads it for the GPU window). `random:{"net": NetConfig, "seed": N}` is the
 * architecture at random initialisation (the `random` baseline of eval).
 */
export function netSourceOf(spec: string): NetSource {
  if (spec.startsWith('random:')) return { random: JSON.parse(spec.slice('random:'.length)) as { net: NetConfig; seed: number } };
  const w = readWeights(spec);
  return { config: w.config, tensors: w.tensors };
}

/** Any weights the app accepts -> a DinoNet (needs an initialised tfjs backend). */
export async function loadNet(spec: string): Promise<DinoNet> {
  return netFromSource(netSourceOf(spec));
}
