/**
 * VisionTransformer as the official DINO vision_transformer.py defines it: PatchEmbed (patch-embed.ts),
 * [CLS] token, learned position embedding (bicubic-interpolated for other crop sizes, posembed.ts),
 * `depth` pre-norm Blocks (block.ts), final LayerNorm; vit_tiny / vit_small / vit_base. Parameters
 * live in a Map under the official names and in PyTorch layouts, so checkpoints are a plain
 * name -> tensor copy. Images are NHWC float tensors (already normalised).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../rng';
import { BLOCK_PARAMS, block, blockParamShapes, blockWeights, type TokenShape } from './block';
import { blockRecompute } from './block-backward';
import { dropPathMasks } from './drop-path';
import { layerNorm } from './ops';
import { patchEmbed } from './patch-embed';
import { interpolatePosEmbed } from './posembed';

export type VitArch = 'vit_tiny' | 'vit_small' | 'vit_base';

export interface VitConfig {
  arch: VitArch | 'custom';
  patchSize: number;
  embedDim: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  /** image size the position embedding is laid out for (official: 224) */
  imgSize: number;
  /** stochastic depth rate of the last block (official student: 0.1); 0 for the teacher */
  dropPathRate: number;
}

const ARCHS: Record<VitArch, Pick<VitConfig, 'embedDim' | 'depth' | 'numHeads'>> = {
  vit_tiny: { embedDim: 192, depth: 12, numHeads: 3 },
  vit_small: { embedDim: 384, depth: 12, numHeads: 6 },
  vit_base: { embedDim: 768, depth: 12, numHeads: 12 },
};

export function vitConfig(arch: VitArch, patchSize: 8 | 16 | number, imgSize = 224, dropPathRate = 0): VitConfig {
  const a = ARCHS[arch];
  if (!a) throw new Error(`unknown ViT architecture "${String(arch)}" (vit_tiny, vit_small, vit_base)`);
  return { arch, patchSize, ...a, mlpRatio: 4, imgSize, dropPathRate };
}

export type Params = Map<string, tf.Variable>;

/** Parameter names and shapes, in the official order (state_dict order). */
export function vitParamShapes(c: VitConfig): [string, number[]][] {
  const d = c.embedDim;
  const hidden = Math.round(d * c.mlpRatio);
  const n = (c.imgSize / c.patchSize) ** 2;
  const out: [string, number[]][] = [
    ['cls_token', [1, 1, d]],
    ['pos_embed', [1, 1 + n, d]],
    ['patch_embed.proj.weight', [d, 3, c.patchSize, c.patchSize]],
    ['patch_embed.proj.bias', [d]],
  ];
  for (let i = 0; i < c.depth; i++) for (const [name, shape] of blockParamShapes(d, hidden)) out.push([`blocks.${i}.${name}`, shape]);
  out.push(['norm.weight', [d]], ['norm.bias', [d]]);
  return out;
}

/** A variable holding a copy of data (the staging tensor is freed: a variable adds a reference). */
export function newVariable(data: Float32Array, shape: number[], trainable: boolean): tf.Variable {
  return tf.tidy(() => tf.variable(tf.tensor(data, shape), trainable));
}

/** trunc_normal_(std) as timm/DINO: normal truncated at +-2 (absolute), i.e. practically untruncated. */
export function truncNormal(rng: Rng, n: number, std: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = rng.normal() * std;
    while (v < -2 || v > 2) v = rng.normal() * std;
    a[i] = v;
  }
  return a;
}

/** Official initialisation: trunc normal 0.02 for linears, tokens and pos_embed; conv default init. */
export function initVitParams(c: VitConfig, rng: Rng): Params {
  const params: Params = new Map();
  for (const [name, shape] of vitParamShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (name.startsWith('patch_embed.')) {
      // nn.Conv2d default (kaiming_uniform a=sqrt 5): U(-1/sqrt(fan_in), 1/sqrt(fan_in))
      const bound = 1 / Math.sqrt(3 * c.patchSize * c.patchSize);
      data = new Float32Array(n).map(() => rng.uniform(-bound, bound));
    } else if (name.endsWith('norm1.weight') || name.endsWith('norm2.weight') || name === 'norm.weight') {
      data = new Float32Array(n).fill(1);
    } else if (name.endsWith('.bias')) {
      data = new Float32Array(n);
    } else {
      data = truncNormal(rng, n, 0.02);
    }
    params.set(name, newVariable(data, shape, true));
  }
  return params;
}

function p(params: Params, name: string): tf.Variable {
  const v = params.get(name);
  if (!v) throw new Error(`missing parameter ${name}`);
  return v;
}

/** prepare_tokens: PatchEmbed + [CLS] + position embedding: NHWC [B, S, S, 3] -> tokens [B*T, D], T = 1 + (S/p)^2. */
export function prepareTokens(c: VitConfig, params: Params, x: tf.Tensor4D): tf.Tensor2D {
  const b = x.shape[0];
  const { tokens: emb, gh, gw } = patchEmbed(x, p(params, 'patch_embed.proj.weight'), p(params, 'patch_embed.proj.bias'), c.patchSize);
  const cls = tf.tile(p(params, 'cls_token'), [b, 1, 1]);
  const g0 = Math.round(Math.sqrt(p(params, 'pos_embed').shape[1]! - 1));
  const pos = interpolatePosEmbed(p(params, 'pos_embed'), g0, gh, gw);
  const tokens = tf.add(tf.concat([cls, emb], 1), pos);
  return tf.reshape(tokens, [b * (1 + gh * gw), c.embedDim]) as tf.Tensor2D;
}

/** blocks.<i>'s parameters in BLOCK_PARAMS order. */
function blockParams(params: Params, i: number): tf.Variable[] {
  return BLOCK_PARAMS.map((name) => p(params, `blocks.${i}.${name}`));
}

/** Block i's DropPath rate: rising linearly from 0 at the first block to dropPathRate at the last (the official dpr). */
function dropPathRate(c: VitConfig, i: number): number {
  return c.depth > 1 ? (c.dropPathRate * i) / (c.depth - 1) : c.dropPathRate;
}

export interface ForwardOptions {
  /**
   * Wrap each block in its own tf.tidy so only the running activations stay alive: for passes
   * without gradients (teacher, embedding). Must be false under a gradient tape.
   */
  perBlockTidy?: boolean;
  /** stochastic depth for a training student: needs an RNG */
  dropPathRng?: Rng;
  /**
   * Training under a gradient tape: each block is one custom-gradient op that keeps only its input
   * and recomputes itself in the backward pass (block-backward.ts), so memory stays small.
   */
  recompute?: boolean;
  /** with `recompute`: save each block's intermediates for the backward instead (faster, more memory) */
  keepActivations?: boolean;
  /**
   * Fine-tuning with the first N blocks frozen (patch embedding, [CLS] token and position embedding
   * too): that prefix runs inside one custom-gradient op, where tfjs records nothing on the tape, so
   * its intermediates are freed block by block and the backward pass stops at block N (the op's output
   * depends on no variable being differentiated, so tfjs never calls its gradient).
   */
  frozenBlocks?: number;
  /**
   * The frozen prefix's output (vitFrozenPrefix) already computed for an input, by that input tensor:
   * the teacher's pass over the global crops computes it once for teacher and student (their frozen
   * parameters are equal), so the student skips it.
   */
  frozenTokens?: ReadonlyMap<tf.Tensor, tf.Tensor2D>;
}

function runBlocks(c: VitConfig, params: Params, x0: tf.Tensor2D, b: number, t: number, opts: ForwardOptions, from: number, upTo: number) {
  const shape: TokenShape = { b, t, numHeads: c.numHeads };
  let x = x0;
  for (let i = from; i < upTo; i++) {
    const step = () => {
      const masks = opts.dropPathRng ? dropPathMasks(dropPathRate(c, i), b, t, opts.dropPathRng) : undefined;
      if (opts.recompute) return blockRecompute(blockParams(params, i), x, shape, masks, opts.keepActivations ?? false);
      return block(blockWeights(blockParams(params, i)), x, shape, masks).out;
    };
    if (opts.perBlockTidy) {
      const next = tf.tidy(step);
      if (x !== x0) x.dispose();
      x = next;
    } else {
      x = step();
    }
  }
  return x;
}

/**
 * Tokens after the patch embedding and blocks [0, n), computed off the gradient tape: a custom-gradient
 * op over the images only. Its gradient is never requested (nothing trainable feeds it); should a
 * caller differentiate with respect to the images anyway, the frozen prefix acts as a constant.
 */
export function vitFrozenPrefix(c: VitConfig, params: Params, x: tf.Tensor4D, n: number, opts: ForwardOptions = {}): tf.Tensor2D {
  const op = tf.customGrad((...args: unknown[]) => {
    const img = args[0] as tf.Tensor4D;
    const b = img.shape[0];
    const tokens = prepareTokens(c, params, img);
    const t = tokens.shape[0] / b;
    // no tape here, so the blocks need neither recomputation nor the tape's retention: tidy each one
    const value = runBlocks(c, params, tokens, b, t, { ...opts, recompute: false, perBlockTidy: true }, 0, n);
    return { value, gradFunc: () => [tf.zerosLike(img)] };
  });
  return op(x) as tf.Tensor2D;
}

/** The backbone's output: [CLS] after the final norm, [B, D]. */
export function vitForward(c: VitConfig, params: Params, x: tf.Tensor4D, opts: ForwardOptions = {}): tf.Tensor2D {
  return tf.tidy(() => {
    const b = x.shape[0];
    const frozen = opts.frozenBlocks ?? 0;
    if (frozen < 0 || frozen > c.depth || !Number.isInteger(frozen)) throw new Error(`frozenBlocks must be an integer in [0, ${c.depth}], got ${frozen}`);
    const given = frozen > 0 ? opts.frozenTokens?.get(x) : undefined;
    const rows = b * (1 + Math.floor(x.shape[1] / c.patchSize) * Math.floor(x.shape[2] / c.patchSize));
    if (given && given.shape[0] !== rows) throw new Error(`frozenTokens: ${given.shape[0]} rows for ${rows} tokens`);
    const tokens = given ?? (frozen > 0 ? vitFrozenPrefix(c, params, x, frozen, opts) : prepareTokens(c, params, x));
    const t = tokens.shape[0] / b;
    const out = runBlocks(c, params, tokens, b, t, opts, frozen, c.depth);
    // LayerNorm is per token, so norm(x)[:, 0] = norm(x[:, 0]): normalise the [CLS] rows only
    const cls = tf.reshape(tf.slice(tf.reshape(out, [b, t, c.embedDim]), [0, 0, 0], [b, 1, c.embedDim]), [b, c.embedDim]);
    return layerNorm(cls as tf.Tensor2D, p(params, 'norm.weight'), p(params, 'norm.bias'));
  });
}

/**
 * The last block's attention from [CLS] to every patch, per head: [B, H, N] (N patches, row-major),
 * as get_last_selfattention(x)[:, :, 0, 1:] in the official code. No gradients.
 */
export function lastSelfAttention(c: VitConfig, params: Params, x: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => {
    const b = x.shape[0];
    const tokens = prepareTokens(c, params, x);
    const t = tokens.shape[0] / b;
    const before = runBlocks(c, params, tokens, b, t, { perBlockTidy: true }, 0, c.depth - 1);
    const last = block(blockWeights(blockParams(params, c.depth - 1)), before, { b, t, numHeads: c.numHeads });
    const a = tf.reshape(last.attn.attn, [b, c.numHeads, t, t]);
    return tf.reshape(tf.slice(a, [0, 0, 0, 1], [b, c.numHeads, 1, t - 1]), [b, c.numHeads, t - 1]) as tf.Tensor3D;
  });
}
