/**
 * A DINO network = ViT backbone + DINO head, with all parameters in one Map: backbone parameters under
 * their official names (patch_embed..., blocks.N..., norm...), head parameters under head.*. Student and
 * teacher are two such networks with the same names (the teacher starts as a copy of the student).
 */
import * as tf from '@tensorflow/tfjs-core';
import { headForward, initHeadParams, type HeadConfig } from './head';
import type { Rng } from '../rng';
import { initVitParams, vitForward, type ForwardOptions, type Params, type VitConfig } from './vit';

export interface NetConfig {
  vit: VitConfig;
  head: HeadConfig;
}

export interface DinoNet {
  config: NetConfig;
  params: Params;
}

export function createNet(config: NetConfig, rng: Rng): DinoNet {
  const params: Params = new Map([...initVitParams(config.vit, rng), ...initHeadParams(config.head, rng)]);
  return { config, params };
}

/** A copy with its own variables (the teacher's start: load_state_dict(student.state_dict())). */
export function cloneNet(net: DinoNet, config: NetConfig = net.config): DinoNet {
  const params: Params = new Map();
  for (const [name, v] of net.params) params.set(name, tf.tidy(() => tf.variable(v.clone(), v.trainable)));
  return { config, params };
}

export function disposeNet(net: DinoNet): void {
  for (const v of net.params.values()) v.dispose();
  net.params.clear();
}

/** Sets every parameter from name -> data; throws on a missing name or a shape mismatch. */
export function loadParams(net: DinoNet, values: Map<string, { shape: number[]; data: Float32Array }>, prefix = ''): void {
  for (const [name, v] of net.params) {
    const src = values.get(prefix + name);
    if (!src) throw new Error(`checkpoint has no ${prefix + name}`);
    if (src.shape.join(',') !== v.shape.join(',')) {
      throw new Error(`${prefix + name}: checkpoint shape [${src.shape}] differs from the model's [${v.shape}]`);
    }
    tf.tidy(() => v.assign(tf.tensor(src.data, v.shape)));
  }
}

/**
 * The multi-crop forward of MultiCropWrapper: the backbone runs once per resolution (all global crops
 * in one batch, all local crops in another), the [CLS] outputs are concatenated in crop order and go
 * through the head together. Crops are crop-major: row = crop * B + image.
 */
export function multiCropForward(net: DinoNet, crops: tf.Tensor4D[], opts: ForwardOptions = {}): tf.Tensor2D {
  return tf.tidy(() => {
    const feats = crops.map((c) => vitForward(net.config.vit, net.params, c, opts));
    const all = feats.length === 1 ? feats[0]! : tf.concat(feats, 0);
    return headForward(net.config.head, net.params, all);
  });
}
