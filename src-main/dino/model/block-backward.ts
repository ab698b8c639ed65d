/**
 * A transformer block (block.ts) as one custom-gradient op that keeps only its input: the backward pass
 * runs the block's forward again and differentiates it by hand inside one tf.tidy. tfjs keeps every
 * taped intermediate and every intermediate gradient until the whole backward pass ends; with this op
 * the student's training memory is one [B*T, D] tensor per block plus one block's working set (the
 * autograd block kept ~40 such tensors per block, and as many gradients). No nested tf.grads (that
 * breaks the outer pass): the formulas are written out, from the intermediates `block` returns.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BLOCK_PARAMS, block, blockWeights, type AttentionParts, type BlockParamName, type BlockParts, type BlockWeights, type MlpParts, type TokenShape } from './block';
import { denseBackward, geluBackward, layerNormBackward } from './ops';

type Grads = Partial<Record<BlockParamName, tf.Tensor>>;

/** What the backward reads of a block's forward (BlockParts, less the outputs). */
interface Intermediates {
  norm1: BlockParts['norm1'];
  attn: Omit<AttentionParts, 'out'>;
  norm2: BlockParts['norm2'];
  mlp: Omit<MlpParts, 'out'>;
}

/** Mlp's backward: the gradient for its input x, its linears' gradients into `grads`. */
function mlpBackward(w: BlockWeights, f: Intermediates['mlp'], x: tf.Tensor2D, dOut: tf.Tensor2D, grads: Grads): tf.Tensor2D {
  const [dg, dFc2W, dFc2B] = denseBackward(dOut, f.g, w['mlp.fc2.weight']);
  const du = geluBackward(dg, f.u, f.cdf);
  const [dx, dFc1W, dFc1B] = denseBackward(du, x, w['mlp.fc1.weight']);
  Object.assign(grads, { 'mlp.fc1.weight': dFc1W, 'mlp.fc1.bias': dFc1B, 'mlp.fc2.weight': dFc2W, 'mlp.fc2.bias': dFc2B });
  return dx;
}

/** Attention's backward: the gradient for its input x, its linears' gradients into `grads`. */
function attentionBackward(w: BlockWeights, f: Intermediates['attn'], x: tf.Tensor2D, dOut: tf.Tensor2D, s: TokenShape, grads: Grads): tf.Tensor2D {
  const { b, t, numHeads: nh } = s;
  const d = x.shape[1];
  const hd = d / nh;
  const [dMerged, dProjW, dProjB] = denseBackward(dOut, f.merged, w['attn.proj.weight']);
  const dO = tf.reshape(tf.transpose(tf.reshape(dMerged, [b, t, nh, hd]), [0, 2, 1, 3]), [b * nh, t, hd]) as tf.Tensor3D;
  const dP = tf.matMul(dO, f.v, false, true);
  const dv = tf.matMul(f.attn, dO, true, false);
  // softmax's backward, then the 1 / sqrt(hd) scale
  const dS = tf.mul(tf.mul(f.attn, tf.sub(dP, tf.sum(tf.mul(dP, f.attn), -1, true))), hd ** -0.5) as tf.Tensor3D;
  const dq = tf.matMul(dS, f.k);
  const dk = tf.matMul(dS, f.q, true, false);
  const dqkvT = tf.concat([dq, dk, dv].map((z) => tf.reshape(z, [b, nh, t, hd])), 1);
  const dqkv = tf.reshape(tf.transpose(dqkvT, [0, 2, 1, 3]), [b * t, 3 * d]) as tf.Tensor2D;
  const [dx, dQkvW, dQkvB] = denseBackward(dqkv, x, w['attn.qkv.weight']);
  Object.assign(grads, { 'attn.qkv.weight': dQkvW, 'attn.qkv.bias': dQkvB, 'attn.proj.weight': dProjW, 'attn.proj.bias': dProjB });
  return dx;
}

/** Block's backward from its intermediates: [dx, then the gradients in BLOCK_PARAMS order]. */
function blockBackward(w: BlockWeights, f: Intermediates, dy: tf.Tensor2D, s: TokenShape, dropMasks?: readonly [tf.Tensor, tf.Tensor]): tf.Tensor[] {
  const grads: Grads = {};
  // MLP branch: out = x1 + drop(mlp(norm2(x1)))
  const dm = (dropMasks ? tf.mul(dy, dropMasks[1]) : dy) as tf.Tensor2D;
  const dh2 = mlpBackward(w, f.mlp, f.norm2.y, dm, grads);
  const [dx1ln, dN2w, dN2b] = layerNormBackward(dh2, f.norm2, w['norm2.weight']);
  const dx1 = tf.add(dy, dx1ln) as tf.Tensor2D;
  // attention branch: x1 = x + drop(attn(norm1(x)))
  const da = (dropMasks ? tf.mul(dx1, dropMasks[0]) : dx1) as tf.Tensor2D;
  const dh1 = attentionBackward(w, f.attn, f.norm1.y, da, s, grads);
  const [dxln, dN1w, dN1b] = layerNormBackward(dh1, f.norm1, w['norm1.weight']);
  Object.assign(grads, { 'norm1.weight': dN1w, 'norm1.bias': dN1b, 'norm2.weight': dN2w, 'norm2.bias': dN2b });
  return [tf.add(dx1, dxln), ...BLOCK_PARAMS.map((name) => grads[name]!)];
}

/** The intermediates as the list a custom-gradient op saves. */
function kept(f: Intermediates): tf.Tensor[] {
  return [f.norm1.xhat, f.norm1.rstd, f.norm1.y, f.attn.q, f.attn.k, f.attn.v, f.attn.attn, f.attn.merged, f.norm2.xhat, f.norm2.rstd, f.norm2.y, f.mlp.u, f.mlp.cdf, f.mlp.g];
}

/** The intermediates back from that list. */
function fromKept(list: tf.Tensor[]): Intermediates {
  const [xhat1, rstd1, y1, q, k, v, attn, merged, xhat2, rstd2, y2, u, cdf, g] = list as [
    tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D,
  ];
  return {
    norm1: { xhat: xhat1, rstd: rstd1, y: y1 },
    attn: { q, k, v, attn, merged },
    norm2: { xhat: xhat2, rstd: rstd2, y: y2 },
    mlp: { u, cdf, g },
  };
}

/** floats a block keeps per row of x with `keep` (`kept` above: 8 of width D, 3 of 4D, 2 scalars), attention aside */
export const KEPT_FLOATS_PER_ROW_PER_DIM = 20;

/**
 * x [B*T, D] -> block(x), differentiable with respect to x and the block's 12 parameters (`weights`,
 * in BLOCK_PARAMS order). With `keep` the forward's intermediates are saved for the backward instead
 * of recomputed there: a quarter less matMul work, at ~20 [B*T, D] floats per block (the caller
 * decides when that fits; see step.ts).
 */
export function blockRecompute(
  weights: readonly tf.Variable[],
  x: tf.Tensor2D,
  s: TokenShape,
  dropMasks?: [tf.Tensor, tf.Tensor],
  keep = false,
): tf.Tensor2D {
  const w = blockWeights(weights);
  const op = tf.customGrad((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xin = args[0] as tf.Tensor2D;
    const fwd = block(blockWeights(args.slice(1, 1 + BLOCK_PARAMS.length) as tf.Tensor[]), xin, s, dropMasks);
    // the drop-path masks are saved too: the forward scope that made them ends before the backward.
    // tfjs keeps what is saved until the backward pass has run, then frees it.
    save([xin, ...(dropMasks ?? []), ...(keep ? kept(fwd) : [])]);
    return {
      value: fwd.out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const masks = dropMasks ? ([saved[1], saved[2]] as [tf.Tensor, tf.Tensor]) : undefined;
          const f = keep ? fromKept(saved.slice(1 + (masks ? 2 : 0))) : block(w, saved[0] as tf.Tensor2D, s, masks);
          return blockBackward(w, f, dy as tf.Tensor2D, s, masks);
        }),
    };
  });
  return op(x, ...weights) as tf.Tensor2D;
}
