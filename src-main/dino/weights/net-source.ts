/**
 * A network as data, and back: the app's model-file content (the teacher under the official names,
 * its config in the metadata) and the DinoNet built from named tensors or at random initialisation.
 * No Node: the main process reads and writes the files (model-loader.ts, services/models/)
 * and hands the data to whichever side runs the model, a worker thread or the GPU window.
 */
import { readNamed, type NamedArray, type SafetensorsContent } from '../named-arrays';
import { createNet, type DinoNet, type NetConfig } from '../model/net';
import { Rng } from '../rng';
import { newVariable, vitParamShapes, type Params } from '../model/vit';

export const MODEL_FORMAT = 'dino-explorer-model/1';

/** What a network is made from: named tensors (as a file holds them), or a seed (eval's random baseline). */
export type NetSource =
  | { config: NetConfig; tensors: Map<string, NamedArray> }
  | { random: { net: NetConfig; seed: number } };

export function netConfigOf(source: NetSource): NetConfig {
  return 'random' in source ? source.random.net : source.config;
}

/** Needs an initialised tfjs backend. */
export function netFromSource(source: NetSource): DinoNet {
  if ('random' in source) return createNet(source.random.net, new Rng(source.random.seed ^ 0x5eed));
  return netFromTensors(source.config, source.tensors);
}

/** Builds a net whose variables hold `tensors` (backbone always, head when the config has one and the file too). */
export function netFromTensors(config: NetConfig, tensors: Map<string, NamedArray>): DinoNet {
  const params: Params = new Map();
  // the backbone's names and shapes as model/vit.ts lays them out (and initialises them)
  for (const [name, shape] of vitParamShapes(config.vit)) {
    const t = tensors.get(name);
    if (!t) throw new Error(`the weights have no ${name}`);
    if (t.shape.join(',') !== shape.join(',')) throw new Error(`${name}: the weights have shape [${t.shape}], the model needs [${shape}]`);
    params.set(name, newVariable(t.data, shape, false));
  }
  for (const [name, t] of tensors) if (name.startsWith('head.')) params.set(name, newVariable(t.data, t.shape, false));
  return { config, params };
}

/** A net as the content of an app model file (read asynchronously: one wait for every copy on a GPU). */
export async function modelFileContent(net: DinoNet, extra: Record<string, string> = {}): Promise<SafetensorsContent> {
  return { tensors: await readNamed(net.params), metadata: { ...extra, format: MODEL_FORMAT, net: JSON.stringify(net.config) } };
}
