import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportWeights } from '../dino/weights/export';
import type { TensorMap } from '../dino/weights/tensor-map';
import { vitConfig, vitParamShapes } from '../dino/vit';
import { getModel } from '../db/repos/models';
import { openCatalog } from './catalog';
import { startImport } from './importer';
import { readWeights } from './model-loader';
import { train } from './trainer';

const samples = resolve(import.meta.dirname, '..', '..', 'resources', 'sample-photos');

/** A backbone-only ViT-Tiny/16 (img 32) in the official layout, as a pretrained file would be. */
function pretrained(seed: number): TensorMap {
  let s = seed;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.04;
  const m: TensorMap = new Map();
  for (const [name, shape] of vitParamShapes(vitConfig('vit_tiny', 16, 32))) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name.endsWith('norm1.weight') || name.endsWith('norm2.weight') || name === 'norm.weight') data.fill(1);
    else for (let i = 0; i < n; i++) data[i] = rand();
    m.set(name, { shape, data });
  }
  return m;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

describe('fine-tuning from pretrained weights (train --from)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dino-finetune-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts student and teacher from the file, takes its architecture, and gives a fresh head', async () => {
    const file = join(dir, 'pretrained.pth');
    const weights = pretrained(7);
    exportWeights(weights, file, { format: 'pth', numHeads: 3 });
    const catalog = openCatalog(join(dir, 'catalog'));
    try {
      await startImport(catalog, [samples]).promise;
      const r = await train(catalog, {
        from: file,
        overrides: { globalSize: 32, localSize: 16, nLocal: 2, batchSize: 8, outDim: 128, hiddenDim: 64, bottleneckDim: 32 },
        maxSteps: 2,
        embed: false,
      });
      expect(r.preset).toBe('finetune-cpu');
      expect(r.steps).toBe(2);
      const model = getModel(catalog.db, r.model)!;
      expect(model.arch).toBe('vit_tiny/16');
      const teacher = readWeights(model.checkpoint);
      expect(teacher.config.vit.depth).toBe(12);
      // two steps at a fine-tuning lr with a slow teacher leave it next to the pretrained weights ...
      for (const name of ['patch_embed.proj.weight', 'blocks.0.attn.qkv.weight', 'blocks.11.mlp.fc2.weight', 'pos_embed']) {
        const d = maxAbsDiff(teacher.tensors.get(name)!.data, weights.get(name)!.data);
        expect(d, name).toBeLessThan(1e-3);
      }
      // ... and far from any other initialisation
      const other = pretrained(8);
      expect(maxAbsDiff(teacher.tensors.get('blocks.0.attn.qkv.weight')!.data, other.get('blocks.0.attn.qkv.weight')!.data)).toBeGreaterThan(0.01);
      expect(teacher.tensors.get('head.last_layer.weight_v')!.shape).toEqual([128, 32]);
    } finally {
      await catalog.close();
    }
  }, 600_000);

  it('passes accumSteps and freezeBlocks through: the frozen blocks come back exactly as loaded', async () => {
    const file = join(dir, 'pretrained-frozen.pth');
    const weights = pretrained(9);
    exportWeights(weights, file, { format: 'pth', numHeads: 3 });
    const catalog = openCatalog(join(dir, 'catalog3'));
    try {
      await startImport(catalog, [samples]).promise;
      const r = await train(catalog, {
        from: file,
        overrides: { globalSize: 32, localSize: 16, nLocal: 2, batchSize: 8, accumSteps: 2, freezeBlocks: 6, outDim: 128, hiddenDim: 64, bottleneckDim: 32 },
        maxSteps: 2,
        embed: false,
      });
      expect(r.steps).toBe(2);
      const teacher = readWeights(getModel(catalog.db, r.model)!.checkpoint);
      for (const name of ['patch_embed.proj.weight', 'pos_embed', 'cls_token', 'blocks.0.attn.qkv.weight', 'blocks.5.mlp.fc2.weight']) {
        expect(maxAbsDiff(teacher.tensors.get(name)!.data, weights.get(name)!.data), name).toBe(0);
      }
      expect(maxAbsDiff(teacher.tensors.get('blocks.6.attn.qkv.weight')!.data, weights.get('blocks.6.attn.qkv.weight')!.data)).toBeGreaterThan(0);
    } finally {
      await catalog.close();
    }
  }, 600_000);

  it('refuses weights whose architecture is not a ViT-Tiny, -Small or -Base, with a clear message', async () => {
    const catalog = openCatalog(join(dir, 'catalog2'));
    try {
      await startImport(catalog, [samples]).promise;
      const fixture = resolve(import.meta.dirname, '..', 'dino', 'weights', 'fixtures', 'vit_p16_full_checkpoint.pth');
      await expect(train(catalog, { from: fixture, maxSteps: 1, embed: false })).rejects.toThrow(/Fine-tuning needs a ViT-Tiny, -Small or -Base/);
    } finally {
      await catalog.close();
    }
  }, 120_000);
});
