import { existsSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { insertModel } from '../db/repos/models';
import { setSetting } from '../db/repos/settings';
import { exportWeights, type ExportFormat } from '../dino/weights/export';
import { resolveWeights } from '../dino/weights/resolve';
import type { Catalog } from './catalog';
import type { JobContext } from './jobs';
import { requireModel } from './embedder';
import { readWeights } from '../dino/weights/model-loader';
import { readWeightsInWorker } from './weights-reader';

export interface AddedModel {
  model: number;
  name: string;
  arch: string;
  patchSize: number;
  dim: number;
  depth: number;
  hasHead: boolean;
  file: string;
  downloaded: boolean;
}

/**
 * Registers official or exported weights as a model (no training): an official name is downloaded
 * into the catalog, a file outside the catalog is copied in so the model survives the file moving.
 */
export async function addModel(catalog: Catalog, fileOrName: string, job?: JobContext): Promise<AddedModel> {
  const r = await resolveWeights(fileOrName, catalog.paths.models, {
    signal: job?.signal,
    onProgress: (p) => job?.progress({ phase: 'downloading', done: p.received, total: p.total ?? 0 }),
  });
  job?.progress({ phase: 'reading weights' });
  const w = await readWeightsInWorker(r.path, 'full', job);
  let file = r.path;
  if (resolve(dirname(file)) !== resolve(catalog.paths.models)) {
    file = uniquePath(join(catalog.paths.models, basename(file)));
    // on libuv's pool: a checkpoint can be a gigabyte, and the main thread serves the UI meanwhile
    await copyFile(r.path, file);
  }
  const vit = w.config.vit;
  const arch = `${vit.arch === 'custom' ? `vit_${vit.embedDim}x${vit.depth}` : vit.arch}/${vit.patchSize}`;
  const name = r.official?.name ?? basename(r.path).replace(/\.(pth|bin|safetensors)$/, '');
  const id = insertModel(catalog.db, {
    name, arch, patch_size: vit.patchSize, dim: vit.embedDim, source: 'imported', checkpoint: file,
    config: JSON.stringify({ net: w.config, hasHead: w.hasHead }),
  });
  setSetting(catalog.db, 'activeModel', id);
  return { model: id, name, arch, patchSize: vit.patchSize, dim: vit.embedDim, depth: vit.depth, hasHead: w.hasHead, file, downloaded: r.downloaded };
}

function uniquePath(p: string): string {
  if (!existsSync(p)) return p;
  const m = /^(.*?)(\.[^.]*)?$/.exec(p)!;
  for (let i = 2; ; i++) {
    const c = `${m[1]}-${i}${m[2] ?? ''}`;
    if (!existsSync(c)) return c;
  }
}

/** The teacher backbone (and head) of a model under the official names, for PyTorch. */
export function exportModelWeights(catalog: Catalog, modelId: number, out: string, format: ExportFormat, withHead: boolean): { out: string; tensors: number } {
  const m = requireModel(catalog, modelId);
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
