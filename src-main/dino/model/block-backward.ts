/**
 * A transformer block as one custom-gradient op that keeps only its input: the backward pass
 * recomputes the block's forward and runs a hand-written backward inside one tf.tidy. tfjs keeps every
 * taped intermediate and every intermediate gradient until the whole backward pass ends; with this op
 * the student's training memory is one [B*T, D] tensor per block plus one block's working set (the
 * autograd block kept ~40 such tensors per block, and as many gradients). No nested tf.grads (that
 * breaks the outer pass): the formulas are written out. Same function as blockForward in vit.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { matMulWT, weightGrad } from './ops';
import type { Params, VitConfig } from './vit';

const SUFFIXES = [
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

const EPS = 1e-6;

function lnForward(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor) {
  const xc = tf.sub(x, tf.mean(x, -1, true));
  const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), EPS));
  const xhat = tf.mul(xc, rstd);
  return { xhat, rstd, y: tf.add(tf.mul(xhat, w), b) as tf.Tensor2D };
}

/** LayerNorm backward: returns [dx, dw, db] */
function lnBackward(dy: tf.Tensor2D, xhat: tf.Tensor, rstd: tf.Tensor, w: tf.Tensor): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const dw = tf.sum(tf.mul(dy, xhat), 0);
  const db = tf.sum(dy, 0);
  const dxhat = tf.mul(dy, w);
  const dx = tf.mul(
    rstd,
    tf.sub(tf.sub(dxhat, tf.mean(dxhat, -1, true)), tf.mul(xhat, tf.mean(tf.mul(dxhat, xhat), -1, true))),
  );
  return [dx, dw, db];
}

function linear(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return tf.add(matMulWT(x, w), b) as tf.Tensor2D;
}

/** What the backward reads from a block's forward (the `forward` below returns more). */
interface Intermediates {
  ln1: { xhat: tf.Tensor; rstd: tf.Tensor; y: tf.Tensor2D };
  q: tf.Tensor3D;
  k: tf.Tensor3D;
  v: tf.Tensor3D;
  attn: tf.Tensor3D;
  merged: tf.Tensor2D;
  ln2: { xhat: tf.Tensor; rstd: tf.Tensor; y: tf.Tensor2D };
  u: tf.Tensor2D;
  cdf: tf.Tensor;
  g: tf.Tensor2D;
}

function intermediates(f: Intermediates): tf.Tensor[] {
  return [f.ln1.xhat, f.ln1.rstd, f.ln1.y, f.q, f.k, f.v, f.attn, f.merged, f.ln2.xhat, f.ln2.rstd, f.ln2.y, f.u, f.cdf, f.g];
}

function fromIntermediates(t: tf.Tensor[]): Intermediates {
  const [xhat1, rstd1, y1, q, k, v, attn, merged, xhat2, rstd2, y2, u, cdf, g] = t as [
    tf.Tensor, tf.Tensor, tf.Tensor2D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor2D, tf.Tensor, tf.Tensor, tf.Tensor2D, tf.Tensor2D, tf.Tensor, tf.Tensor2D,
  ];
  return { ln1: { xhat: xhat1, rstd: rstd1, y: y1 }, q, k, v, attn, merged, ln2: { xhat: xhat2, rstd: rstd2, y: y2 }, u, cdf, g };
}

/** floats a block keeps per row of x with `keep` (intermediates above: 8 of width D, 3 of 4D, 2 scalars), attention aside */
export const KEPT_FLOATS_PER_ROW_PER_DIM = 20;

/**
 * x [B*T, D] -> block(x), differentiable with respect to x and the block's 12 parameters. With `keep`
 * the forward's intermediates are saved for the backward instead of recomputed there: a quarter less
 * matMul work, at ~20 [B*T, D] floats per block (the caller decides when that fits; see step.ts).
 */
export function blockRecompute(
  c: VitConfig,
  params: Params,
  i: number,
  x: tf.Tensor2D,
  b: number,
  t: number,
  masks?: [tf.Tensor, tf.Tensor],
  keep = false,
): tf.Tensor2D {
  const d = c.embedDim;
  const nh = c.numHeads;
  const hd = d / nh;
  const scale = hd ** -0.5;
  const ps = SUFFIXES.map((s) => {
    const v = params.get(`blocks.${i}.${s}`);
    if (!v) throw new Error(`missing parameter blocks.${i}.${s}`);
    return v;
  });

  const forward = (xin: tf.Tensor2D, p: tf.Tensor[], mk: [tf.Tensor, tf.Tensor] | undefined) => {
    const [n1w, n1b, qkvW, qkvB, projW, projB, n2w, n2b, fc1W, fc1B, fc2W, fc2B] = p as [
      tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor,
    ];
    const ln1 = lnForward(xin, n1w, n1b);
    const qkv = linear(ln1.y, qkvW, qkvB);
    const qkvT = tf.transpose(tf.reshape(qkv, [b, t, 3 * nh, hd]), [0, 2, 1, 3]);
    const [q, k, v] = tf.split(qkvT, 3, 1).map((z) => tf.reshape(z, [b * nh, t, hd])) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
    const attn = tf.softmax(tf.mul(tf.matMul(q, k, false, true), scale)) as tf.Tensor3D;
    const o = tf.matMul(attn, v);
    const merged = tf.reshape(tf.transpose(tf.reshape(o, [b, nh, t, hd]), [0, 2, 1, 3]), [b * t, d]) as tf.Tensor2D;
    const a = linear(merged, projW, projB);
    const x1 = tf.add(xin, mk ? tf.mul(a, mk[0]) : a) as tf.Tensor2D;
    const ln2 = lnForward(x1, n2w, n2b);
    const u = linear(ln2.y, fc1W, fc1B);
    // exact GELU = u Phi(u); Phi is kept for the backward (erf is the costliest elementwise op)
    const cdf = tf.mul(tf.add(tf.erf(tf.mul(u, Math.SQRT1_2)), 1), 0.5);
    const g = tf.mul(u, cdf) as tf.Tensor2D;
    const m = linear(g, fc2W, fc2B);
    const out = tf.add(x1, mk ? tf.mul(m, mk[1]) : m) as tf.Tensor2D;
    return { ln1, q, k, v, attn, merged, ln2, u, cdf, g, out };
  };

  const op = tf.customGrad((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xin = args[0] as tf.Tensor2D;
    const p = args.slice(1, 1 + SUFFIXES.length) as tf.Tensor[];
    const fwd = forward(xin, p, masks);
    // the drop-path masks are saved too: the forward scope that made them ends before the backward.
    // tfjs keeps what is saved until the backward pass has run, then frees it.
    const kept = keep ? intermediates(fwd) : [];
    save([xin, ...(masks ?? []), ...kept]);
    return {
      value: fwd.out,
      gradFunc: (dyIn: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const dy = dyIn as tf.Tensor2D;
          const [n1w, , qkvW, , projW, , n2w, , fc1W, , fc2W] = ps;
          const nMasks = masks ? 2 : 0;
          const mk = masks ? ([saved[1], saved[2]] as [tf.Tensor, tf.Tensor]) : undefined;
          const f = keep ? fromIntermediates(saved.slice(1 + nMasks)) : forward(saved[0] as tf.Tensor2D, ps, mk);
          // MLP branch
          const dm = (mk ? tf.mul(dy, mk[1]) : dy) as tf.Tensor2D;
          const dFc2W = weightGrad(dm, f.g);
          const dFc2B = tf.sum(dm, 0);
          const dg = tf.matMul(dm, fc2W!);
          // d gelu(u)/du = Phi(u) + u phi(u)
          const pdf = tf.mul(tf.exp(tf.mul(tf.square(f.u), -0.5)), 1 / Math.sqrt(2 * Math.PI));
          const du = tf.mul(dg, tf.add(f.cdf, tf.mul(f.u, pdf))) as tf.Tensor2D;
          const dFc1W = weightGrad(du, f.ln2.y);
          const dFc1B = tf.sum(du, 0);
          const dh2 = tf.matMul(du, fc1W!) as tf.Tensor2D;
          const [dx1ln, dN2w, dN2b] = lnBackward(dh2, f.ln2.xhat, f.ln2.rstd, n2w!);
          const dx1 = tf.add(dy, dx1ln) as tf.Tensor2D;
          // attention branch
          const da = (mk ? tf.mul(dx1, mk[0]) : dx1) as tf.Tensor2D;
          const dProjW = weightGrad(da, f.merged);
          const dProjB = tf.sum(da, 0);
          const dMerged = tf.matMul(da, projW!);
          const dO = tf.reshape(tf.transpose(tf.reshape(dMerged, [b, t, nh, hd]), [0, 2, 1, 3]), [b * nh, t, hd]) as tf.Tensor3D;
          const dP = tf.matMul(dO, f.v, false, true);
          const dv = tf.matMul(f.attn, dO, true, false);
          const dS = tf.mul(tf.mul(f.attn, tf.sub(dP, tf.sum(tf.mul(dP, f.attn), -1, true))), scale) as tf.Tensor3D;
          const dq = tf.matMul(dS, f.k);
          const dk = tf.matMul(dS, f.q, true, false);
          const dqkvT = tf.concat([dq, dk, dv].map((z) => tf.reshape(z, [b, nh, t, hd])), 1);
          const dqkv = tf.reshape(tf.transpose(dqkvT, [0, 2, 1, 3]), [b * t, 3 * d]) as tf.Tensor2D;
          const dQkvW = weightGrad(dqkv, f.ln1.y);
          const dQkvB = tf.sum(dqkv, 0);
          const dh1 = tf.matMul(dqkv, qkvW!) as tf.Tensor2D;
          const [dxln, dN1w, dN1b] = lnBackward(dh1, f.ln1.xhat, f.ln1.rstd, n1w!);
          const dx = tf.add(dx1, dxln);
          return [dx, dN1w, dN1b, dQkvW, dQkvB, dProjW, dProjB, dN2w, dN2b, dFc1W, dFc1B, dFc2W, dFc2B];
        }),
    };
  });
  return op(x, ...ps) as tf.Tensor2D;
}
