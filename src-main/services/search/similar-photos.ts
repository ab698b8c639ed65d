import type { NeighbourDTO } from '../../../src-shared/api';
import { normalize } from '../../analysis/vectors';
import { listClusterings, memberIds } from '../../db/repos/clusters';
import { getEmbedding, getEmbeddings } from '../../db/repos/embeddings';
import { getImage } from '../../db/repos/images';
import type { Catalog } from '../catalog/catalog';
import { getIndex } from '../index/index-cache';
import { resolveModel, type ModelRef } from '../models/resolve-model';

// Similarity search over one model's embeddings: the HNSW index (index/index-cache.ts, always in step
// with the table), or an exact ranking inside a cluster.

function toNeighbours(catalog: Catalog, hits: readonly { id: number; similarity: number }[]): NeighbourDTO[] {
  const out: NeighbourDTO[] = [];
  for (const h of hits) {
    const img = getImage(catalog.db, h.id);
    if (img && img.status === 'ok') out.push({ id: h.id, path: img.path, similarity: Math.min(1, h.similarity) });
  }
  return out;
}

/** Exact ranking of a small candidate set (a cluster): cheaper and surer than a filtered graph walk. */
function rankExactly(catalog: Catalog, modelId: number, query: Float32Array, ids: readonly number[], k: number, exclude?: number) {
  const hits: { id: number; similarity: number }[] = [];
  for (const r of getEmbeddings(catalog.db, modelId, ids)) {
    if (r.imageId === exclude) continue;
    let s = 0;
    for (let j = 0; j < query.length; j++) s += query[j]! * r.vector[j]!;
    hits.push({ id: r.imageId, similarity: s });
  }
  return hits.sort((a, b) => b.similarity - a.similarity || a.id - b.id).slice(0, k);
}

/** Live members of one cluster of the newest clustering of the model (for "search in this cluster"). */
function clusterFilter(catalog: Catalog, modelId: number, cluster: number, clusteringId?: number): number[] {
  const cid = clusteringId ?? listClusterings(catalog.db, modelId)[0]?.id;
  if (cid === undefined) throw new Error('There is no clustering yet to filter by: run cluster first.');
  return memberIds(catalog.db, cid, cluster);
}

export interface SearchOptions {
  k?: number;
  modelId?: number;
  /** only photos of this cluster (of `clusteringId`, default the newest clustering of the model) */
  cluster?: number;
  clusteringId?: number;
}

/** The photos most similar to a catalog photo (itself excluded), best first, with cosine similarity. */
export async function searchSimilar(catalog: Catalog, id: number, opts: SearchOptions = {}): Promise<NeighbourDTO[]> {
  const model = resolveModel(catalog, opts.modelId, 'embeddings');
  const k = opts.k ?? 20;
  const row = getEmbedding(catalog.db, model.id, id);
  if (!row) {
    const img = getImage(catalog.db, id);
    if (!img) throw new Error(`There is no photo ${id} in this catalog.`);
    throw new Error(`Photo ${id} has no embedding for model ${model.id} yet: run embed.`);
  }
  return searchVector(catalog, model, row.vector, k, opts, id);
}

/** The photos most similar to a vector (an outside photo's embedding), best first. */
export async function searchByVector(catalog: Catalog, vector: Float32Array, opts: SearchOptions = {}): Promise<NeighbourDTO[]> {
  const model = resolveModel(catalog, opts.modelId, 'embeddings');
  if (vector.length !== model.dim) throw new Error(`The vector has ${vector.length} values; model ${model.id} embeds into ${model.dim}.`);
  return searchVector(catalog, model, normalize(vector), opts.k ?? 20, opts);
}

async function searchVector(catalog: Catalog, model: ModelRef, query: Float32Array, k: number, opts: SearchOptions, exclude?: number): Promise<NeighbourDTO[]> {
  if (opts.cluster !== undefined) {
    const ids = clusterFilter(catalog, model.id, opts.cluster, opts.clusteringId);
    const index = await getIndex(catalog, model);
    if (ids.length <= 20_000) return toNeighbours(catalog, rankExactly(catalog, model.id, query, ids.filter((i) => index.has(i)), k, exclude));
    const allowed = new Set(ids);
    return toNeighbours(catalog, index.search(query, k + 1, (i) => allowed.has(i) && i !== exclude).slice(0, k));
  }
  const index = await getIndex(catalog, model);
  const hits = index.search(query, exclude === undefined ? k : k + 1).filter((h) => h.id !== exclude);
  return toNeighbours(catalog, hits.slice(0, k));
}
