import { createNet, type DinoNet, type NetConfig } from '../dino/net';
import { Rng } from '../dino/rng';
import { loadModelFile } from './model-files';

/**
 * Any weights the app accepts -> a DinoNet (needs an initialised tfjs backend): the app's own model
 * files, and (through dino/weights) official .pth checkpoints, .safetensors and Hugging Face layouts.
 * `random:{"net": NetConfig, "seed": N}` builds the architecture at random initialisation (the
 * `random` baseline of eval).
 */
export async function loadNet(spec: string): Promise<DinoNet> {
  if (spec.startsWith('random:')) {
    const { net, seed } = JSON.parse(spec.slice('random:'.length)) as { net: NetConfig; seed: number };
    return createNet(net, new Rng(seed ^ 0x5eed));
  }
  return loadModelFile(spec);
}
