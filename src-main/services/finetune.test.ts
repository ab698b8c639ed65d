import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportWeights } from '../dino/weights/export';
import type { TensorMap } from '../dino/weights/tensor-map';
import { randomOfficialVit } from '../testing/fixture-vit';
import { getModel, listModels } from '../db/repos/models';
import { modelQuality, runQuality } from '../db/repos/quality';
import { getRun } from '../db/repos/training';
import { getSetting } from '../db/repos/settings';
import { openCatalog } from './catalog';
import { startImport } from './importer';
import { readWeights } from '../dino/weights/model-loader';
import { train } from './trainer';

const samples = resolve(import.meta.dirname, '..', '..', 'resources', 'sample-photos');

/** A backbone-only ViT-Tiny/16 (img 32) in the official layout, as a pretrained file would be. */
const pretrained = (seed: number): TensorMap => randomOfficialVit(seed);

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
        // the mechanics of starting from weights (keeping the better model is tested below)
        quality: false,
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
        // the mechanics of starting from weights (keeping the better model is tested below)
        quality: false,
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

  it('keeps the start when fine-tuning makes the features worse (a deliberately harmful learning rate), and says so', async () => {
    const catalog = openCatalog(join(dir, 'catalog-harm'));
    try {
      await startImport(catalog, [samples]).promise;
      // where an official download lands: the start is then named as the user knows it
      mkdirSync(catalog.paths.models, { recursive: true });
      const file = join(catalog.paths.models, 'dino_deitsmall16_pretrain.pth');
      exportWeights(pretrained(7), file, { format: 'pth', numHeads: 3 });
      const r = await train(catalog, {
        from: file,
        // lr 1 is 20 000x the fine-tuning preset's; a fast teacher (momentum 0.5 instead of 0.999) takes the
        // student's damage within the few steps a test can afford
        overrides: { globalSize: 32, localSize: 16, nLocal: 2, batchSize: 8, outDim: 128, hiddenDim: 64, bottleneckDim: 32, lr: 1, momentumTeacher: 0.5 },
        maxSteps: 4,
        embed: false,
      });
      expect(r.kept).toBe('start');
      expect(r.note).toBe('fine-tuning did not improve on the start: kept DINO ViT-S/16');
      // the damage was real: both label-free scores fell from the start to the end of the run
      const curve = runQuality(catalog.db, r.run);
      expect(curve.map((q) => q.step)).toEqual([0, 4]);
      const [start, end] = curve as [(typeof curve)[number], (typeof curve)[number]];
      expect(end.retrieval).toBeLessThan(start.retrieval);
      expect(end.rankme).toBeLessThan(start.rankme / 2);
      // the model is the start's, registered from its file: no trained model was added, it is active, scored as the start
      const models = listModels(catalog.db);
      expect(models).toHaveLength(1);
      expect(models[0]).toMatchObject({ id: r.model, checkpoint: file, source: 'imported' });
      expect(getSetting(catalog.db, 'activeModel')).toBe(r.model);
      expect(modelQuality(catalog.db, r.model)).toMatchObject({ retrieval: start.retrieval, rankme: start.rankme });
      expect(getRun(catalog.db, r.run)).toMatchObject({ model_id: r.model, state: 'stopped', note: r.note });
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
