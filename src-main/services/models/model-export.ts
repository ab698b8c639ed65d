import { resolve } from 'node:path';
import { exportWeights, type ExportFormat } from '../../dino/weights/export';
import type { Catalog } from '../catalog/catalog';
import { readWeights } from '../../dino/weights/model-loader';
import { resolveModel } from './resolve-model';

/** The teacher backbone (and head) of a model under the official names, for PyTorch. */
export function exportModelWeights(catalog: Catalog, modelId: number, out: string, format: ExportFormat, withHead: boolean): { out: string; tensors: number } {
  const m = resolveModel(catalog, modelId, 'weights');
  const w = readWeights(m.checkpoint);
  if (withHead && !w.hasHead) throw new Error(`model ${modelId} has no DINO head to export (backbone-only weights)`);
  const r = exportWeights(w.tensors, resolve(out), {
    format,
    layout: withHead ? (format === 'pth' ? 'checkpoint' : 'backbone+head') : 'backbone',
    numHeads: w.config.vit.numHeads,
    metadata: { model: m.name },
  });
  return { out: r.path, tensors: r.tensors };
}
