import { chooseK } from '../analysis/auto-k';
import { sphericalKMeans } from '../analysis/kmeans';
import { ari, knnAccuracy, nmi, purity } from '../analysis/metrics';
import { fromRows, type Vectors } from '../analysis/vectors';
import { getEmbeddings } from '../db/repos/embeddings';
import { getModel } from '../db/repos/models';
import { prepared } from '../db/repos/statements';
import { netConfigs } from '../dino/train/net-configs';
import type { NetConfig } from '../dino/model/net';
import { defaultPresetName, getPreset, type DinoConfig } from '../dino/train/presets';
import { probeBackend } from './backend-probe';
import { encodeLabels, labelOf } from '../evaluation/labels';
import { tinyImageFeature } from '../evaluation/pixels';
import { decodeRgb } from '../library/decode';
import type { Catalog } from './catalog';
import { embedCatalog, embedItems } from './embedder';
import type { JobContext } from './jobs';
import { ensureModelQuality, probeSample, scoreWeights } from './quality';

export interface QualityScores {
  /** weighted k-NN accuracy (DINO eval_knn: T = 0.07, leave-one-out) per k */
  knn: Record<string, number>;
  /** the app's automatic clustering (auto-k spherical k-means) against the folder labels */
  nmi: number;
  ari: number;
  purity: number;
  k: number;
}

export interface LabelledSet {
  ids: number[];
  paths: string[];
  labels: Int32Array;
  classes: string[];
}

/** The catalog's photos under `dataDir` that sit in a class sub-folder. */
export function labelledSet(catalog: Catalog, dataDir: string): LabelledSet {
  const rows = prepared(catalog.db, "SELECT id, path FROM images WHERE status = 'ok' ORDER BY id").all() as { id: number; path: string }[];
  const kept = rows.map((r) => ({ ...r, label: labelOf(dataDir, r.path) })).filter((r): r is { id: number; path: string; label: string } => r.label !== null);
  const { ids: labels, classes } = encodeLabels(kept.map((r) => r.label));
  return { ids: kept.map((r) => r.id), paths: kept.map((r) => r.path), labels, classes };
}

export function scoreFeatures(v: Vectors, labels: Int32Array, seed = 0): QualityScores {
  const knn = knnAccuracy(v, labels, [10, 20]);
  const { k } = chooseK(v, { seed });
  const km = sphericalKMeans(v, k, { restarts: 4, seed });
  return {
    knn: { '10': knn[10]!, '20': knn[20]! },
    nmi: nmi(labels, km.assignments),
    ari: ari(labels, km.assignments),
    purity: purity(labels, km.assignments),
    k,
  };
}

/** The `pixels` baseline: a 16x16 tiny-image feature per photo. */
export async function pixelFeatures(set: LabelledSet): Promise<Vectors> {
  const rows: Float32Array[] = [];
  for (let i = 0; i < set.paths.length; i += 8) {
    const chunk = await Promise.all(set.paths.slice(i, i + 8).map((p) => decodeRgb(p, 64)));
    for (const img of chunk) rows.push(tinyImageFeature(img.data, img.width, img.height));
  }
  return fromRows(rows);
}

/** A model's stored embeddings for the set (embedding what is missing first). */
export async function modelFeatures(catalog: Catalog, modelId: number, set: LabelledSet, job?: JobContext): Promise<Vectors> {
  await embedCatalog(catalog, modelId, job);
  const rows = getEmbeddings(catalog.db, modelId, set.ids);
  const byId = new Map(rows.map((r) => [r.imageId, r.vector]));
  const missing = set.ids.filter((id) => !byId.has(id));
  if (missing.length) throw new Error(`${missing.length} photos could not be embedded (e.g. photo ${missing[0]})`);
  return fromRows(set.ids.map((id) => byId.get(id)!));
}

/** The network of a model (trained: from its config; imported: inferred), or the default preset's. */
export async function netOfModel(catalog: Catalog, modelId: number | undefined): Promise<NetConfig> {
  const m = modelId === undefined ? undefined : getModel(catalog.db, modelId);
  if (m?.source === 'trained') return netConfigs(JSON.parse(m.config) as DinoConfig).teacher;
  if (m?.source === 'imported') return (JSON.parse(m.config) as { net: NetConfig }).net;
  return netConfigs(getPreset(defaultPresetName((await probeBackend()).description)).config).teacher;
}

/** The model spec (model-loader) of the `random` baseline: the same ViT at random initialisation. */
export function randomSpec(net: NetConfig, seed = 0): string {
  return `random:${JSON.stringify({ net, seed })}`;
}

/**
 * The label-free scores (services/label-free.ts) of what eval measures: a model of the catalog (stored
 * with it), or the `pixels` / `random` baselines, on the catalog's quality sample.
 */
export async function labelFreeScores(catalog: Catalog, which: 'pixels' | 'random' | number, net: NetConfig, seed = 0, job?: JobContext): Promise<{ rankme: number; retrieval: number; dim: number }> {
  const s =
    typeof which === 'number'
      ? await ensureModelQuality(catalog, which, job)
      : await scoreWeights(which === 'pixels' ? 'pixels' : randomSpec(net, seed), probeSample(catalog), job);
  if (!s) throw new Error('the label-free quality needs at least 2 photos');
  return { rankme: s.rankme, retrieval: s.retrieval, dim: s.dim };
}

/** The `random` baseline: the same ViT at random initialisation (fixed seed), same eval transform. */
export async function randomFeatures(net: NetConfig, set: LabelledSet, job?: JobContext, seed = 0): Promise<Vectors> {
  const spec = randomSpec(net, seed);
  const vectors = await embedItems(spec, set.ids.map((id, i) => ({ id, path: set.paths[i]! })), job);
  return fromRows(set.ids.map((id) => vectors.get(id)!));
}
