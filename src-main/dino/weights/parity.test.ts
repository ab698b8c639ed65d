/**
 * Parity with PyTorch: the committed fixtures loaded through the weights readers into the app's ViT
 * and head give the [CLS] embedding, the last block's [CLS]->patch attention and the head output
 * that the PyTorch reference (scripts/fixtures/weights_reference.py, the official definition)
 * computed, to 1e-4 max abs, for patch 16 and 8, at the training size, an interpolated size and an
 * interpolated non-square size, on wasm, cpu and webgpu (SwiftShader where there is no GPU; skipped
 * only where Linux has no Vulkan loader). Values are read asynchronously, as a GPU backend needs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend, releaseWebgpu } from '../runtime/node/backend';
import { useSoftwareGpu } from '../../testing/webgpu-test-setup';
import { headForward } from '../model/head';
import { readSafetensors } from './safetensors';
import { lastSelfAttention, vitForward, type Params } from '../model/vit';
import { headConfigFromArch, vitConfigFromArch } from './model-config';
import { loadDinoWeights } from './load';
import type { TensorMap } from './tensor-map';

const FX = join(import.meta.dirname, 'fixtures');
const expected = readSafetensors(join(FX, 'expected.safetensors')).tensors;
const TOL = 1e-4;

/** The fixture image, NHWC, bit-identical to weights_reference.fixture_input (integer arithmetic). */
function fixtureInput(batch: number, h: number, w: number): tf.Tensor4D {
  const x = new Float32Array(batch * h * w * 3);
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let c = 0; c < 3; c++) {
          const k = (i * 31 + j * 17 + c * 47 + b * 13 + ((i * j) % 7) * 5) % 101;
          x[((b * h + i) * w + j) * 3 + c] = k / 50.5 - 1;
        }
  return tf.tensor4d(x, [batch, h, w, 3]);
}

function toParams(t: TensorMap): Params {
  return new Map([...t].map(([k, v]) => [k, tf.variable(tf.tensor(v.data, v.shape), false)]));
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Expected attention [1, H, T, T] -> the [CLS] row without the [CLS] column, [1, H, T-1]. */
function clsRow(att: { shape: number[]; data: Float32Array }): Float32Array {
  const [, h, t] = att.shape as [number, number, number];
  const out = new Float32Array(h * (t - 1));
  for (let k = 0; k < h; k++) out.set(att.data.subarray(k * t * t + 1, k * t * t + t), k * (t - 1));
  return out;
}

const cases = [
  { model: 'p16', file: 'vit_p16_full_checkpoint.pth', sizes: [[64, 64], [96, 96], [64, 96]] },
  { model: 'p8', file: 'vit_p8_pretrain.safetensors', sizes: [[32, 32], [48, 48], [32, 48]] },
  { model: 'p8', file: 'vit_p8_pretrain.pth', sizes: [[32, 32], [48, 48]] },
] as const;

const noGpu = useSoftwareGpu();
const backends = noGpu ? (['wasm', 'cpu'] as const) : (['wasm', 'cpu', 'webgpu'] as const);
const read = async (t: tf.Tensor): Promise<Float32Array> => (await t.data()) as Float32Array;
afterAll(() => releaseWebgpu());

describe.each(backends)('parity with PyTorch on %s', (backend) => {
  it.each(cases)('$file', async ({ model, file, sizes }) => {
    await initBackend(backend);
    const w = loadDinoWeights(join(FX, file));
    const vit = vitConfigFromArch(w.arch);
    const head = headConfigFromArch(w.arch, false);
    const params = toParams(w.tensors);
    const before = tf.memory().numTensors;
    const report: string[] = [];
    for (const [h, wd] of sizes) {
      const key = `${model}.${h}x${wd}`;
      const x = fixtureInput(2, h, wd);
      const x0 = tf.slice(x, [0, 0, 0, 0], [1, h, wd, 3]);
      const cls = vitForward(vit, params, x);
      const attn = lastSelfAttention(vit, params, x0);
      const dCls = maxAbs(await read(cls), expected.get(`${key}.cls`)!.data);
      const dAttn = maxAbs(await read(attn), clsRow(expected.get(`${key}.attn`)!));
      let dHead = 0;
      if (head) {
        const out = headForward(head, params, cls);
        dHead = maxAbs(await read(out), expected.get(`${key}.head`)!.data);
        out.dispose();
      }
      report.push(`${key}: cls ${dCls.toExponential(1)} attn ${dAttn.toExponential(1)} head ${head ? dHead.toExponential(1) : '-'}`);
      expect(dCls, `${key} [CLS]`).toBeLessThan(TOL);
      expect(dAttn, `${key} attention`).toBeLessThan(TOL);
      expect(dHead, `${key} head`).toBeLessThan(TOL);
      tf.dispose([x, x0, cls, attn]);
    }
    // the interpolation matrices are a kept cache (model/posembed.ts); everything else is released
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(sizes.length - 1);
    for (const v of params.values()) v.dispose();
    console.log(`${backend} ${file}\n  ${report.join('\n  ')}`);
  });
});
