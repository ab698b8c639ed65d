/**
 * Block of vision_transformer.py, with its Attention and Mlp: pre-norm, x + attn(norm1(x)), then
 * x + mlp(norm2(x)) (LayerNorm eps 1e-6; multi-head self-attention with one qkv linear and bias;
 * MLP ratio 4 with exact GELU), each branch through DropPath (drop-path.ts) when training.
 *
 * The one definition of a block. Each function returns its output with the intermediates its
 * backward reads: the forward pass (vit.ts) takes the output, or the attention map, and the
 * recomputing backward (block-backward.ts) runs the same function again inside its gradient, or keeps
 * what it returned. Tokens are 2-D, [B*T, D], so every linear is a plain 2-D matMul (ops.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { dense, geluParts, layerNormParts, type LayerNormParts } from './ops';

/** A block's parameters under blocks.<i>., in the official state_dict's order. */
export const BLOCK_PARAMS = [
  'norm1.weight',
  'norm1.bias',
  'attn.qkv.weight',
  'attn.qkv.bias',
  'attn.proj.weight',
  'attn.proj.bias',
  'norm2.weight',
  'norm2.bias',
  'mlp.fc1.weight',
  'mlp.fc1.bias',
  'mlp.fc2.weight',
  'mlp.fc2.bias',
] as const;

export type BlockParamName = (typeof BLOCK_PARAMS)[number];
export type BlockWeights = Record<BlockParamName, tf.Tensor>;

/** The shapes of BLOCK_PARAMS for width d and MLP width hidden (PyTorch layouts: a linear is [out, in]). */
export function blockParamShapes(d: number, hidden: number): [BlockParamName, number[]][] {
  return [
    ['norm1.weight', [d]],
    ['norm1.bias', [d]],
    ['attn.qkv.weight', [3 * d, d]],
    ['attn.qkv.bias', [3 * d]],
    ['attn.proj.weight', [d, d]],
    ['attn.proj.bias', [d]],
    ['norm2.weight', [d]],
    ['norm2.bias', [d]],
    ['mlp.fc1.weight', [hidden, d]],
    ['mlp.fc1.bias', [hidden]],
    ['mlp.fc2.weight', [d, hidden]],
    ['mlp.fc2.bias', [d]],
  ];
}

/** The weights by name, from a list in BLOCK_PARAMS order (how a custom-gradient op receives them). */
export function blockWeights(list: readonly tf.Tensor[]): BlockWeights {
  return Object.fromEntries(BLOCK_PARAMS.map((name, i) => [name, list[i]!])) as BlockWeights;
}

/** Tokens are [b * t, D]: b images of t tokens each, attended over by numHeads heads. */
export interface TokenShape {
  b: number;
  t: number;
  numHeads: number;
}

export interface AttentionParts {
  /** queries, keys and values per image and head: [B*H, T, hd] */
  q: tf.Tensor3D;
  k: tf.Tensor3D;
  v: tf.Tensor3D;
  /** softmax(q k^T / sqrt(hd)): [B*H, T, T] */
  attn: tf.Tensor3D;
  /** the heads' outputs side by side, before proj: [B*T, D] */
  merged: tf.Tensor2D;
  out: tf.Tensor2D;
}

/** Attention.forward: qkv, scaled dot-product attention per head, proj. */
export function attention(w: BlockWeights, x: tf.Tensor2D, s: TokenShape): AttentionParts {
  const { b, t, numHeads: nh } = s;
  const d = x.shape[1];
  const hd = d / nh;
  const qkv = dense(x, w['attn.qkv.weight'], w['attn.qkv.bias']);
  // [B, T, 3H, hd] -> [B, 3H, T, hd], then q, k, v = thirds along axis 1: the official
  // reshape + permute(2, 0, 3, 1, 4) without a rank-5 transpose (wasm runs those ~100x slower than rank 4)
  const qkvT = tf.transpose(tf.reshape(qkv, [b, t, 3 * nh, hd]), [0, 2, 1, 3]);
  const [q, k, v] = tf.split(qkvT, 3, 1).map((z) => tf.reshape(z, [b * nh, t, hd])) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
  // batched matMuls take wasm's generic path with or without a transpose flag; the flag saves a transpose
  const attn = tf.softmax(tf.mul(tf.matMul(q, k, false, true), hd ** -0.5)) as tf.Tensor3D;
  const o = tf.matMul(attn, v);
  const merged = tf.reshape(tf.transpose(tf.reshape(o, [b, nh, t, hd]), [0, 2, 1, 3]), [b * t, d]) as tf.Tensor2D;
  const out = dense(merged, w['attn.proj.weight'], w['attn.proj.bias']);
  return { q, k, v, attn, merged, out };
}

export interface MlpParts {
  /** fc1's output: [B*T, hidden] */
  u: tf.Tensor2D;
  /** the normal CDF of u, GELU's factor */
  cdf: tf.Tensor2D;
  /** GELU(u) */
  g: tf.Tensor2D;
  out: tf.Tensor2D;
}

/** Mlp.forward: fc1, exact GELU, fc2. */
export function mlp(w: BlockWeights, x: tf.Tensor2D): MlpParts {
  const u = dense(x, w['mlp.fc1.weight'], w['mlp.fc1.bias']);
  const { cdf, y: g } = geluParts(u);
  const out = dense(g, w['mlp.fc2.weight'], w['mlp.fc2.bias']);
  return { u, cdf, g, out };
}

export interface BlockParts {
  norm1: LayerNormParts;
  attn: AttentionParts;
  /** x + the attention branch: the MLP branch's residual */
  x1: tf.Tensor2D;
  norm2: LayerNormParts;
  mlp: MlpParts;
  out: tf.Tensor2D;
}

/**
 * Block.forward on tokens x [B*T, D]. dropMasks: DropPath's per-sample factors [B*T, 1] for the
 * attention and MLP branches (training only).
 */
export function block(w: BlockWeights, x: tf.Tensor2D, s: TokenShape, dropMasks?: readonly [tf.Tensor, tf.Tensor]): BlockParts {
  const norm1 = layerNormParts(x, w['norm1.weight'], w['norm1.bias']);
  const attn = attention(w, norm1.y, s);
  const x1 = tf.add(x, dropMasks ? tf.mul(attn.out, dropMasks[0]) : attn.out) as tf.Tensor2D;
  const norm2 = layerNormParts(x1, w['norm2.weight'], w['norm2.bias']);
  const m = mlp(w, norm2.y);
  const out = tf.add(x1, dropMasks ? tf.mul(m.out, dropMasks[1]) : m.out) as tf.Tensor2D;
  return { norm1, attn, x1, norm2, mlp: m, out };
}
