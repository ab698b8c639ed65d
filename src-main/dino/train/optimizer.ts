/**
 * AdamW with torch.optim.AdamW semantics (decoupled decay p -= lr * wd * p, bias-corrected moments,
 * eps added after the bias-corrected sqrt, a step count per parameter), two groups as DINO's
 * get_params_groups: biases and 1-D parameters (norms) get no weight decay. Plus the per-parameter
 * gradient clipping of utils.clip_gradients and the EMA teacher update.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../model/vit';

/** DINO's rule: no weight decay on biases and on 1-D parameters (LayerNorm weights). */
export function isRegularized(name: string, shape: readonly number[]): boolean {
  return !(name.endsWith('.bias') || shape.length === 1);
}

interface Moments {
  m: tf.Variable;
  v: tf.Variable;
  step: number;
}

export class AdamW {
  readonly state = new Map<string, Moments>();
  constructor(
    private readonly params: Params,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly eps = 1e-8,
  ) {}

  /** The moments of a parameter, created at zero on first use. */
  ensure(name: string): Moments {
    const p = this.params.get(name);
    if (!p) throw new Error(`AdamW: unknown parameter ${name}`);
    return this.moments(name, p);
  }

  private moments(name: string, p: tf.Variable): Moments {
    let s = this.state.get(name);
    if (!s) {
      s = tf.tidy(() => ({ m: tf.variable(tf.zerosLike(p), false), v: tf.variable(tf.zerosLike(p), false), step: 0 }));
      this.state.set(name, s);
    }
    return s;
  }

  /** One step on the parameters that have a gradient (like torch, a parameter without one is skipped). */
  step(grads: Map<string, tf.Tensor>, lr: number, wd: number): void {
    for (const [name, g] of grads) {
      const p = this.params.get(name);
      if (!p) throw new Error(`AdamW: gradient for unknown parameter ${name}`);
      const s = this.moments(name, p);
      s.step += 1;
      const decay = isRegularized(name, p.shape) ? wd : 0;
      const bc1 = 1 - this.beta1 ** s.step;
      const bc2Sqrt = Math.sqrt(1 - this.beta2 ** s.step);
      tf.tidy(() => {
        const m = tf.add(tf.mul(s.m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(s.v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        s.m.assign(m);
        s.v.assign(v);
        const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), this.eps);
        const decayed = decay ? tf.mul(p, 1 - lr * decay) : p;
        p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), lr / bc1)));
      });
    }
  }

  dispose(): void {
    for (const s of this.state.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.state.clear();
  }
}

/**
 * utils.clip_gradients: each parameter's gradient scaled by clip / (norm + 1e-6) when that is below 1.
 * Returns new gradient tensors (the inputs are disposed) and the norms as one tensor, in map order.
 */
export function clipGradients(grads: Map<string, tf.Tensor>, clip: number): { grads: Map<string, tf.Tensor>; norms: tf.Tensor1D } {
  const out = new Map<string, tf.Tensor>();
  const norms: tf.Scalar[] = [];
  for (const [name, g] of grads) {
    const [clipped, norm] = tf.tidy(() => {
      const norm = tf.sqrt(tf.sum(tf.square(g)));
      const coef = tf.minimum(tf.div(clip, tf.add(norm, 1e-6)), 1);
      return [tf.mul(g, coef), norm] as [tf.Tensor, tf.Scalar];
    });
    g.dispose();
    out.set(name, clipped);
    norms.push(norm);
  }
  const stacked = norms.length ? tf.stack(norms) : tf.zeros([0]);
  norms.forEach((n) => n.dispose());
  return { grads: out, norms: stacked as tf.Tensor1D };
}

/**
 * teacher = m * teacher + (1 - m) * student, for every parameter of the teacher (head included).
 * Parameters for which `frozen(name)` holds are copied instead: frozen in the student and equal in both
 * nets, the EMA's value is the student's, and an exact copy keeps them bit-identical (in float32
 * m t + (1 - m) t can round away from t), which lets a step share their forward pass.
 */
export function emaUpdate(teacher: Params, student: Params, momentum: number, frozen?: (name: string) => boolean): void {
  for (const [name, t] of teacher) {
    const s = student.get(name);
    if (!s) throw new Error(`EMA: student has no ${name}`);
    // assign shares the student's buffer (tfjs counts references): the copy costs no memory
    if (frozen?.(name)) t.assign(s);
    else tf.tidy(() => t.assign(tf.add(tf.mul(t, momentum), tf.mul(s, 1 - momentum))));
  }
}
