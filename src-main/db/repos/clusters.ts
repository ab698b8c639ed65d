import type { Db } from '../open';
import { decodeVector, encodeVector } from './embeddings';
import { statements } from './statements';

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

type RawClustering = { id: number; model_id: number; k: number; method: string; params: string; created_at: string };
type RawCluster = { cluster: number; name: string; size: number; cohesion: number; centroid: Buffer | null };
/** a member whose photo is still present, closest to the centroid first */
const PRESENT_MEMBERS = "FROM cluster_members m JOIN images i ON i.id = m.image_id WHERE m.clustering_id = ? AND m.cluster = ? AND i.status = 'ok'";

const stmts = statements((db) => ({
  insertClustering: db.prepare<[number, number, string, string]>('INSERT INTO clusterings (model_id, k, method, params) VALUES (?, ?, ?, ?)'),
  insertCluster: db.prepare<[number, number, string, number, number, Buffer | null]>(
    'INSERT INTO clusters (clustering_id, cluster, name, size, cohesion, centroid) VALUES (?, ?, ?, ?, ?, ?)',
  ),
  insertMember: db.prepare<[number, number, number, number]>('INSERT INTO cluster_members (clustering_id, image_id, cluster, similarity) VALUES (?, ?, ?, ?)'),
  clusterings: db.prepare<[], RawClustering>('SELECT * FROM clusterings ORDER BY id DESC'),
  clusteringsOf: db.prepare<[number], RawClustering>('SELECT * FROM clusterings WHERE model_id = ? ORDER BY id DESC'),
  clustering: db.prepare<[number], RawClustering>('SELECT * FROM clusterings WHERE id = ?'),
  clusters: db.prepare<[number], RawCluster>('SELECT cluster, name, size, cohesion, centroid FROM clusters WHERE clustering_id = ? ORDER BY cluster'),
  cluster: db.prepare<[number, number], RawCluster>('SELECT cluster, name, size, cohesion, centroid FROM clusters WHERE clustering_id = ? AND cluster = ?'),
  representatives: db.prepare<[number, number, number], { id: number }>(`SELECT m.image_id AS id ${PRESENT_MEMBERS} ORDER BY m.similarity DESC, m.image_id LIMIT ?`),
  membersPage: db.prepare<[number, number, number, number], MemberRow>(
    `SELECT m.image_id AS imageId, m.cluster AS cluster, m.similarity AS similarity ${PRESENT_MEMBERS} ORDER BY m.similarity DESC, m.image_id LIMIT ? OFFSET ?`,
  ),
  memberCount: db.prepare<[number, number], { n: number }>(`SELECT count(*) AS n ${PRESENT_MEMBERS}`),
  allMembers: db.prepare<[number], MemberRow & { path: string }>(
    `SELECT m.image_id AS imageId, m.cluster AS cluster, m.similarity AS similarity, i.path AS path
     FROM cluster_members m JOIN images i ON i.id = m.image_id WHERE m.clustering_id = ? AND i.status = 'ok'
     ORDER BY m.cluster, m.similarity DESC, m.image_id`,
  ),
  clusterOf: db.prepare<[number], { id: number; cluster: number }>('SELECT image_id AS id, cluster FROM cluster_members WHERE clustering_id = ?'),
  rename: db.prepare<[string, number, number]>('UPDATE clusters SET name = ? WHERE clustering_id = ? AND cluster = ?'),
  moveMembers: db.prepare<[number, number, number]>('UPDATE cluster_members SET cluster = ? WHERE clustering_id = ? AND cluster = ?'),
  deleteCluster: db.prepare<[number, number]>('DELETE FROM clusters WHERE clustering_id = ? AND cluster = ?'),
  setSimilarity: db.prepare<[number, number, number]>('UPDATE cluster_members SET similarity = ? WHERE clustering_id = ? AND image_id = ?'),
  sizeOf: db.prepare<[number, number], { n: number }>('SELECT count(*) AS n FROM cluster_members WHERE clustering_id = ? AND cluster = ?'),
  setMerged: db.prepare<[number, number, Buffer, number, number]>('UPDATE clusters SET size = ?, cohesion = ?, centroid = ? WHERE clustering_id = ? AND cluster = ?'),
  recountK: db.prepare<[number, number]>('UPDATE clusterings SET k = (SELECT count(*) FROM clusters WHERE clustering_id = ?) WHERE id = ?'),
  memberIds: db.prepare<[number, number], { id: number }>('SELECT image_id AS id FROM cluster_members WHERE clustering_id = ? AND cluster = ?'),
  deleteProjection: db.prepare<[number]>('DELETE FROM projections WHERE model_id = ?'),
  insertPoint: db.prepare<[number, number, number, number]>('INSERT INTO projections (model_id, image_id, x, y) VALUES (?, ?, ?, ?)'),
  projection: db.prepare<[number], ProjectionPoint>(
    `SELECT p.image_id AS imageId, p.x AS x, p.y AS y FROM projections p JOIN images i ON i.id = p.image_id
     WHERE p.model_id = ? AND i.status = 'ok' ORDER BY p.image_id`,
  ),
}));

/** Stores a whole clustering run in one transaction; returns its id. */
export function saveClustering(db: Db, c: NewClustering): number {
  const s = stmts(db);
  return db.transaction(() => {
    const id = Number(s.insertClustering.run(c.modelId, c.k, c.method, JSON.stringify(c.params)).lastInsertRowid);
    for (const k of c.clusters) s.insertCluster.run(id, k.cluster, k.name, k.size, k.cohesion, k.centroid ? encodeVector(k.centroid) : null);
    for (const m of c.members) s.insertMember.run(id, m.imageId, m.cluster, m.similarity);
    return id;
  })();
}

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
  const s = stmts(db);
  return (modelId === undefined ? s.clusterings.all() : s.clusteringsOf.all(modelId)).map(toClustering);
}

export function getClustering(db: Db, id: number): ClusteringRow | undefined {
  const r = stmts(db).clustering.get(id);
  return r ? toClustering(r) : undefined;
}

const toCluster = (r: RawCluster): ClusterRow => ({
  cluster: r.cluster, name: r.name, size: r.size, cohesion: r.cohesion, centroid: r.centroid ? decodeVector(r.centroid) : null,
});

/** The clusters of a run, by cluster number. */
export function listClusters(db: Db, clusteringId: number): ClusterRow[] {
  return stmts(db).clusters.all(clusteringId).map(toCluster);
}

export function getCluster(db: Db, clusteringId: number, cluster: number): ClusterRow | undefined {
  const r = stmts(db).cluster.get(clusteringId, cluster);
  return r ? toCluster(r) : undefined;
}

/** The n members closest to the centroid (highest similarity first): the cluster's representatives. */
export function representatives(db: Db, clusteringId: number, cluster: number, n: number): number[] {
  return stmts(db).representatives.all(clusteringId, cluster, n).map((r) => r.id);
}

/** A page of a cluster's members (photos still present), closest to the centroid first. */
export function clusterMembers(db: Db, clusteringId: number, cluster: number, offset: number, limit: number): { items: MemberRow[]; total: number } {
  const s = stmts(db);
  return { items: s.membersPage.all(clusteringId, cluster, limit, offset), total: s.memberCount.get(clusteringId, cluster)!.n };
}

/** Every member of a run (photos still present), with its path; by cluster, then closest first. */
export function allMembers(db: Db, clusteringId: number): (MemberRow & { path: string })[] {
  return stmts(db).allMembers.all(clusteringId);
}

/** image id -> cluster, for colouring the map */
export function clusterOfImages(db: Db, clusteringId: number): Map<number, number> {
  const m = new Map<number, number>();
  for (const r of stmts(db).clusterOf.iterate(clusteringId)) m.set(r.id, r.cluster);
  return m;
}

export function renameCluster(db: Db, clusteringId: number, cluster: number, name: string): boolean {
  return stmts(db).rename.run(name, clusteringId, cluster).changes > 0;
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
  const s = stmts(db);
  return db.transaction(() => {
    if (!getCluster(db, clusteringId, into) || !getCluster(db, clusteringId, from)) return false;
    s.moveMembers.run(into, clusteringId, from);
    s.deleteCluster.run(clusteringId, from);
    for (const [imageId, sim] of merged.similarities) s.setSimilarity.run(sim, clusteringId, imageId);
    const size = s.sizeOf.get(clusteringId, into)!.n;
    s.setMerged.run(size, merged.cohesion, encodeVector(merged.centroid), clusteringId, into);
    s.recountK.run(clusteringId, clusteringId);
    return true;
  })();
}

/** image ids of one cluster (any status) */
export function memberIds(db: Db, clusteringId: number, cluster: number): number[] {
  return stmts(db).memberIds.all(clusteringId, cluster).map((r) => r.id);
}

export interface ProjectionPoint {
  imageId: number;
  x: number;
  y: number;
}

/** Replaces a model's projection in one transaction. */
export function saveProjection(db: Db, modelId: number, points: readonly ProjectionPoint[]): void {
  const s = stmts(db);
  db.transaction(() => {
    s.deleteProjection.run(modelId);
    for (const p of points) s.insertPoint.run(modelId, p.imageId, p.x, p.y);
  })();
}

/** A model's projection, photos still present only. */
export function getProjection(db: Db, modelId: number): ProjectionPoint[] {
  return stmts(db).projection.all(modelId);
}
