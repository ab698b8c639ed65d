import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../dino/train/augment';
import { initBackend } from '../dino/runtime/node/backend';
import { netConfigs } from '../dino/train/net-configs';
import { createNet, disposeNet } from '../dino/model/net';
import { getPreset, withOverrides } from '../dino/train/presets';
import { probeView } from '../dino/train/probe-views';
import { Rng } from '../dino/rng';
import { scoreNet, scorePixels, type ProbeSet } from './label-free';

/** Photos of coloured blocks, each its own layout, 96 x 72. */
function photos(n: number): RgbImage[] {
  const rng = new Rng(5);
  return Array.from({ length: n }, () => {
    const w = 96;
    const h = 72;
    const rgb = new Uint8Array(w * h * 3);
    for (let b = 0; b < 6; b++) {
      const [x0, y0, s] = [rng.int(0, w - 20), rng.int(0, h - 20), rng.int(10, 30)];
      const c = [rng.int(0, 256), rng.int(0, 256), rng.int(0, 256)];
      for (let y = y0; y < Math.min(h, y0 + s); y++) for (let x = x0; x < Math.min(w, x0 + s); x++) rgb.set(c, (y * w + x) * 3);
    }
    return { rgb, width: w, height: h };
  });
}

describe('label-free scores of a network', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('twins are fixed per sample position: every model sees the same views', () => {
    const [a, b] = photos(2) as [RgbImage, RgbImage];
    expect(probeView(a, 40, 0)).toEqual(probeView(a, 40, 0));
    expect(probeView(a, 40, 0).rgb).not.toEqual(probeView(a, 40, 1).rgb);
    expect(probeView(b, 40, 3)).toMatchObject({ width: 40, height: 40 });
  });

  it('scores a small ViT without leaking tensors, the same twice, within the bounds of each score', async () => {
    const originals = photos(24);
    const set: ProbeSet = { originals, views: originals.slice(0, 12).map((img, i) => probeView(img, 37, i)) };
    const config = withOverrides(getPreset('cpu-patch8').config, { imgSize: 32, outDim: 64, hiddenDim: 32, bottleneckDim: 16 });
    const net = createNet(netConfigs(config).teacher, new Rng(1));
    try {
      const before = tf.memory().numTensors;
      const s = await scoreNet(net, set);
      expect(tf.memory().numTensors).toBe(before);
      expect(s).toMatchObject({ sample: 24, views: 12, dim: 64 });
      expect(s.rankme).toBeGreaterThan(1);
      expect(s.rankme).toBeLessThanOrEqual(24);
      expect(s.retrieval).toBeGreaterThanOrEqual(0);
      expect(s.retrieval).toBeLessThanOrEqual(1);
      expect(await scoreNet(net, set)).toEqual(s);
    } finally {
      disposeNet(net);
    }
    const p = scorePixels(set);
    expect(p).toMatchObject({ sample: 24, views: 12, dim: 768 });
  });
});
