/**
 * DINO projection head as the official DINOHead: an MLP (nlayers linears, GELU between them, hidden
 * 2048, bottleneck 256), L2 normalisation, then a weight-normalised linear (bottleneck -> K, no bias):
 * W = g * v / ||v|| per output row. With normLastLayer the gain g stays 1 and is not trained, which
 * the paper found stabilises training. Names: head.mlp.{0,2,4}.weight/bias, head.last_layer.weight_g
 * [K, 1], head.last_layer.weight_v [K, bottleneck].
 */
import * as tf from '@tensorflow/tfjs-core';
import { dense, gelu, l2Normalize } from './ops';
import type { Rng } from '../rng';
import { newVariable, truncNormal, type Params } from './vit';

export interface HeadConfig {
  inDim: number;
  outDim: number;
  hiddenDim: number;
  bottleneckDim: number;
  nlayers: number;
  normLastLayer: boolean;
}

/** names of the MLP linears: head.mlp.0, head.mlp.2, ... (GELU modules sit at the odd indices) */
function mlpNames(c: HeadConfig): { name: string; inD: number; outD: number }[] {
  const n = Math.max(c.nlayers, 1);
  if (n === 1) return [{ name: 'head.mlp', inD: c.inDim, outD: c.bottleneckDim }];
  const out = [{ name: 'head.mlp.0', inD: c.inDim, outD: c.hiddenDim }];
  for (let i = 1; i < n - 1; i++) out.push({ name: `head.mlp.${2 * i}`, inD: c.hiddenDim, outD: c.hiddenDim });
  out.push({ name: `head.mlp.${2 * (n - 1)}`, inD: c.hiddenDim, outD: c.bottleneckDim });
  return out;
}

export function headParamShapes(c: HeadConfig): [string, number[]][] {
  const out: [string, number[]][] = [];
  for (const l of mlpNames(c)) out.push([`${l.name}.weight`, [l.outD, l.inD]], [`${l.name}.bias`, [l.outD]]);
  out.push(['head.last_layer.weight_g', [c.outDim, 1]], ['head.last_layer.weight_v', [c.outDim, c.bottleneckDim]]);
  return out;
}

/** Official init: MLP trunc normal 0.02 / bias 0; last layer nn.Linear default (U(+-1/sqrt(in))), g = 1. */
export function initHeadParams(c: HeadConfig, rng: Rng): Params {
  const params: Params = new Map();
  for (const [name, shape] of headParamShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (name === 'head.last_layer.weight_g') data = new Float32Array(n).fill(1);
    else if (name === 'head.last_layer.weight_v') {
      const bound = 1 / Math.sqrt(c.bottleneckDim);
      data = new Float32Array(n).map(() => rng.uniform(-bound, bound));
    } else if (name.endsWith('.bias')) data = new Float32Array(n);
    else data = truncNormal(rng, n, 0.02);
    const trainable = !(name === 'head.last_layer.weight_g' && c.normLastLayer);
    params.set(name, newVariable(data, shape, trainable));
  }
  return params;
}

/** [B, inDim] -> [B, K] logits (before any temperature). */
export function headForward(c: HeadConfig, params: Params, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const layers = mlpNames(c);
    let h = x;
    layers.forEach((l, i) => {
      h = dense(h, params.get(`${l.name}.weight`)!, params.get(`${l.name}.bias`)!);
      if (i < layers.length - 1) h = gelu(h);
    });
    h = l2Normalize(h);
    const g = params.get('head.last_layer.weight_g')!;
    const v = params.get('head.last_layer.weight_v')!;
    // weight_norm(dim=0): each output row of v scaled to norm g
    const w = tf.mul(v, tf.div(g, tf.sqrt(tf.sum(tf.square(v), 1, true))));
    return dense(h, w);
  });
}
