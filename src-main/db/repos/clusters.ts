import type { Db } from '../open';
import { decodeVector, encodeVector } from './embeddings';
import { prepared } from './statements';

// Clustering runs (kept side by side), their clusters and members, and per-model 2-D projections.

export interface ClusteringRow {
  id: number;
  modelId: number;
  k: number;
  method: string;
  params: Record<string, unknown>;
  createdAt: string;
}

export interface ClusterRow {
  cluster: number;
  name: string;
  size: number;
  cohesion: number;
  centroid: Float32Array | null;
}

export interface MemberRow {
  imageId: number;
  cluster: number;
  similarity: number;
}

export interface NewClustering {
  modelId: number;
  k: number;
  method: string;
  params: Record<string, unknown>;
  clusters: readonly ClusterRow[];
  members: readonly MemberRow[];
}

/** Stores a whole clustering run in one transaction; returns its id. */
export function saveClustering(db: Db, c: NewClustering): number {
  return db.transaction(() => {
    const id = Number(
      prepared(db, 'INSERT INTO clusterings (model_id, k, method, params) VALUES (?, ?, ?, ?)').run(c.modelId, c.k, c.method, JSON.stringify(c.params))
        .lastInsertRowid,
    );
    const putCluster = prepared(db, 'INSERT INTO clusters (clustering_id, cluster, name, size, cohesion, centroid) VALUES (?, ?, ?, ?, ?, ?)');
    for (const k of c.clusters) putCluster.run(id, k.cluster, k.name, k.size, k.cohesion, k.centroid ? encodeVector(k.centroid) : null);
    const putMember = prepared(db, 'INSERT INTO cluster_members (clustering_id, image_id, cluster, similarity) VALUES (?, ?, ?, ?)');
    for (const m of c.members) putMember.run(id, m.imageId, m.cluster, m.similarity);
    return id;
  })();
}

type RawClustering = { id: number; model_id: number; k: number; method: string; params: string; created_at: string };
const toClustering = (r: RawClustering): ClusteringRow => ({
  id: r.id, modelId: r.model_id, k: r.k, method: r.method, params: safeJson(r.params), createdAt: r.created_at,
});

function safeJson(s: string): Record<string, unknown> {
  try {
    const x = JSON.parse(s) as unknown;
    return x && typeof x === 'object' ? (x as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Clustering runs, newest first (optionally of one model). */
export function listClusterings(db: Db, modelId?: number): ClusteringRow[] {
  const rows = (modelId === undefined
    ? prepared(db, 'SELECT * FROM clusterings ORDER BY id DESC').all()
    : prepared(db, 'SELECT * FROM clusterings WHERE model_id = ? ORDER BY id DESC').all(modelId)) as RawClustering[];
  return rows.map(toClustering);
}

export function getClustering(db: Db, id: number): ClusteringRow | undefined {
  const r = prepared(db, 'SELECT * FROM clusterings WHERE id = ?').get(id) as RawClustering | undefined;
  return r ? toClustering(r) : undefined;
}

export function deleteClustering(db: Db, id: number): boolean {
  return prepared(db, 'DELETE FROM clusterings WHERE id = ?').run(id).changes > 0;
}

type RawCluster = { cluster: number; name: string; size: number; cohesion: number; centroid: Buffer | null };
const toCluster = (r: RawCluster): ClusterRow => ({
  cluster: r.cluster, name: r.name, size: r.size, cohesion: r.cohesion, centroid: r.centroid ? decodeVector(r.centroid) : null,
});

/** The clusters of a run, by cluster number. */
export function listClusters(db: Db, clusteringId: number): ClusterRow[] {
  return (prepared(db, 'SELECT cluster, name, size, cohesion, centroid FROM clusters WHERE clustering_id = ? ORDER BY cluster').all(clusteringId) as RawCluster[]).map(toCluster);
}

export function getCluster(db: Db, clusteringId: number, cluster: number): ClusterRow | undefined {
  const r = prepared(db, 'SELECT cluster, name, size, cohesion, centroid FROM clusters WHERE clustering_id = ? AND cluster = ?').get(clusteringId, cluster) as
    | RawCluster
    | undefined;
  return r ? toCluster(r) : undefined;
}

/** The n members closest to the centroid (highest similarity first): the cluster's representatives. */
export function representatives(db: Db, clusteringId: number, cluster: number, n: number): number[] {
  return (prepared(db, `SELECT m.image_id AS id FROM cluster_members m JOIN images i ON i.id = m.image_id
      WHERE m.clustering_id = ? AND m.cluster = ? AND i.status = 'ok' ORDER BY m.similarity DESC, m.image_id LIMIT ?`).all(clusteringId, cluster, n) as { id: number }[]).map((r) => r.id);
}

/** A page of a cluster's members (photos still present), closest to the centroid first. */
export function clusterMembers(db: Db, clusteringId: number, cluster: number, offset: number, limit: number): { items: MemberRow[]; total: number } {
  const items = (prepared(db, `SELECT m.image_id AS imageId, m.cluster AS cluster, m.similarity AS similarity FROM cluster_members m
      JOIN images i ON i.id = m.image_id WHERE m.clustering_id = ? AND m.cluster = ? AND i.status = 'ok'
      ORDER BY m.similarity DESC, m.image_id LIMIT ? OFFSET ?`).all(clusteringId, cluster, limit, offset)) as MemberRow[];
  const total = (prepared(db, `SELECT count(*) AS n FROM cluster_members m JOIN images i ON i.id = m.image_id
      WHERE m.clustering_id = ? AND m.cluster = ? AND i.status = 'ok'`).get(clusteringId, cluster) as { n: number }).n;
  return { items, total };
}

/** Every member of a run (photos still present), with its path; by cluster, then closest first. */
export function allMembers(db: Db, clusteringId: number): (MemberRow & { path: string })[] {
  return prepared(db, `SELECT m.image_id AS imageId, m.cluster AS cluster, m.similarity AS similarity, i.path AS path
      FROM cluster_members m JOIN images i ON i.id = m.image_id WHERE m.clustering_id = ? AND i.status = 'ok'
      ORDER BY m.cluster, m.similarity DESC, m.image_id`).all(clusteringId) as (MemberRow & { path: string })[];
}

/** image id -> cluster, for colouring the map */
export function clusterOfImages(db: Db, clusteringId: number): Map<number, number> {
  const m = new Map<number, number>();
  for (const r of prepared(db, 'SELECT image_id AS id, cluster FROM cluster_members WHERE clustering_id = ?').iterate(clusteringId) as Iterable<{ id: number; cluster: number }>) {
    m.set(r.id, r.cluster);
  }
  return m;
}

export function renameCluster(db: Db, clusteringId: number, cluster: number, name: string): boolean {
  return prepared(db, 'UPDATE clusters SET name = ? WHERE clustering_id = ? AND cluster = ?').run(name, clusteringId, cluster).changes > 0;
}

/**
 * Merges cluster `from` into `into` in one transaction: members move, `from` is deleted, and the
 * merged cluster takes the given centroid, cohesion and member similarities (the service computes
 * them from the embeddings). Returns false when either cluster does not exist.
 */
export function mergeClusters(
  db: Db,
  clusteringId: number,
  into: number,
  from: number,
  merged: { centroid: Float32Array; cohesion: number; similarities: ReadonlyMap<number, number> },
): boolean {
  if (into === from) return false;
  return db.transaction(() => {
    if (!getCluster(db, clusteringId, into) || !getCluster(db, clusteringId, from)) return false;
    prepared(db, 'UPDATE cluster_members SET cluster = ? WHERE clustering_id = ? AND cluster = ?').run(into, clusteringId, from);
    prepared(db, 'DELETE FROM clusters WHERE clustering_id = ? AND cluster = ?').run(clusteringId, from);
    const setSim = prepared(db, 'UPDATE cluster_members SET similarity = ? WHERE clustering_id = ? AND image_id = ?');
    for (const [imageId, s] of merged.similarities) setSim.run(s, clusteringId, imageId);
    const size = (prepared(db, 'SELECT count(*) AS n FROM cluster_members WHERE clustering_id = ? AND cluster = ?').get(clusteringId, into) as { n: number }).n;
    prepared(db, 'UPDATE clusters SET size = ?, cohesion = ?, centroid = ? WHERE clustering_id = ? AND cluster = ?').run(
      size, merged.cohesion, encodeVector(merged.centroid), clusteringId, into,
    );
    prepared(db, 'UPDATE clusterings SET k = (SELECT count(*) FROM clusters WHERE clustering_id = ?) WHERE id = ?').run(clusteringId, clusteringId);
    return true;
  })();
}

/** image ids of one cluster (any status) */
export function memberIds(db: Db, clusteringId: number, cluster: number): number[] {
  return (prepared(db, 'SELECT image_id AS id FROM cluster_members WHERE clustering_id = ? AND cluster = ?').all(clusteringId, cluster) as { id: number }[]).map((r) => r.id);
}

export interface ProjectionPoint {
  imageId: number;
  x: number;
  y: number;
}

/** Replaces a model's projection in one transaction. */
export function saveProjection(db: Db, modelId: number, points: readonly ProjectionPoint[]): void {
  db.transaction(() => {
    prepared(db, 'DELETE FROM projections WHERE model_id = ?').run(modelId);
    const put = prepared(db, 'INSERT INTO projections (model_id, image_id, x, y) VALUES (?, ?, ?, ?)');
    for (const p of points) put.run(modelId, p.imageId, p.x, p.y);
  })();
}

/** A model's projection, photos still present only. */
export function getProjection(db: Db, modelId: number): ProjectionPoint[] {
  return prepared(db, `SELECT p.image_id AS imageId, p.x AS x, p.y AS y FROM projections p JOIN images i ON i.id = p.image_id
      WHERE p.model_id = ? AND i.status = 'ok' ORDER BY p.image_id`).all(modelId) as ProjectionPoint[];
}
