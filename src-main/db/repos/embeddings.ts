import type { Db } from '../open';
import { prepared } from './statements';

// Embeddings: one row per (model, image); the vector is a little-endian float32 blob of `dim` values,
// L2-normalised by the embedder. `hash` is the image's content hash when it was embedded, so a
// changed photo is seen as stale.

export interface EmbeddingRow {
  imageId: number;
  hash: string;
  vector: Float32Array;
}

/** An embedding's identity for the index: the image id and the row's version. */
export interface EmbeddingEntry {
  imageId: number;
  /** random 53 bits drawn on every insert (migration 040): a new vector never keeps an old one's version */
  version: number;
  hash: string;
}

export function encodeVector(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function decodeVector(b: Buffer | Uint8Array): Float32Array {
  if (b.byteLength % 4 !== 0) throw new Error(`embedding blob of ${b.byteLength} bytes is not float32`);
  // copy: a Buffer's offset into its pool is not always 4-byte aligned
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export function putEmbedding(db: Db, modelId: number, row: EmbeddingRow): void {
  prepared(db, 'INSERT OR REPLACE INTO embeddings (model_id, image_id, hash, vector) VALUES (?, ?, ?, ?)').run(
    modelId, row.imageId, row.hash, encodeVector(row.vector),
  );
}

export function putEmbeddings(db: Db, modelId: number, rows: readonly EmbeddingRow[]): void {
  db.transaction(() => {
    for (const r of rows) putEmbedding(db, modelId, r);
  })();
}

export function getEmbedding(db: Db, modelId: number, imageId: number): EmbeddingRow | undefined {
  const r = prepared(db, 'SELECT image_id, hash, vector FROM embeddings WHERE model_id = ? AND image_id = ?').get(modelId, imageId) as
    | { image_id: number; hash: string; vector: Buffer }
    | undefined;
  return r ? { imageId: r.image_id, hash: r.hash, vector: decodeVector(r.vector) } : undefined;
}

/** Embeddings of a model for the given images (missing ones are skipped). */
export function getEmbeddings(db: Db, modelId: number, imageIds: readonly number[]): EmbeddingRow[] {
  const out: EmbeddingRow[] = [];
  const CHUNK = 500;
  for (let i = 0; i < imageIds.length; i += CHUNK) {
    const ids = imageIds.slice(i, i + CHUNK);
    const rows = db
      .prepare(`SELECT image_id, hash, vector FROM embeddings WHERE model_id = ? AND image_id IN (${ids.map(() => '?').join(',')})`)
      .all(modelId, ...ids) as { image_id: number; hash: string; vector: Buffer }[];
    for (const r of rows) out.push({ imageId: r.image_id, hash: r.hash, vector: decodeVector(r.vector) });
  }
  return out;
}

const LIVE = `FROM embeddings e JOIN images i ON i.id = e.image_id WHERE e.model_id = ? AND i.status = 'ok'`;

/** Id, version and hash of every embedding of a model whose image is present ('ok'), by image id. */
export function embeddingEntries(db: Db, modelId: number): EmbeddingEntry[] {
  return (prepared(db, `SELECT e.image_id AS imageId, e.version AS version, e.hash AS hash ${LIVE} ORDER BY e.image_id`).all(modelId) as EmbeddingEntry[]);
}

/** Image ids with an embedding of this model whose image is present, ascending. */
export function embeddingIds(db: Db, modelId: number): number[] {
  return (prepared(db, `SELECT e.image_id AS id ${LIVE} ORDER BY e.image_id`).all(modelId) as { id: number }[]).map((r) => r.id);
}

export function countEmbeddings(db: Db, modelId: number): number {
  return (prepared(db, `SELECT count(*) AS n ${LIVE}`).get(modelId) as { n: number }).n;
}

/**
 * A cheap fingerprint of a model's live embeddings: the count of changes to them (a row added,
 * replaced or deleted, a photo gone or back; kept by triggers, migration 040, whoever writes), so a
 * cached index or kNN graph can tell it is stale without reading a row. Count, sum and max of row
 * ids, the fingerprint before, stayed equal when the newest row was deleted and made again.
 */
export function embeddingsFingerprint(db: Db, modelId: number): string {
  const r = prepared(db, 'SELECT generation FROM embedding_generations WHERE model_id = ?').get(modelId) as { generation: number } | undefined;
  return String(r?.generation ?? 0);
}

/** Every live embedding of a model in one matrix, rows in ascending image id. */
export function loadAllEmbeddings(db: Db, modelId: number, dim: number): { ids: number[]; data: Float32Array } {
  const ids: number[] = [];
  const n = countEmbeddings(db, modelId);
  const data = new Float32Array(n * dim);
  let i = 0;
  for (const r of prepared(db, `SELECT e.image_id AS id, e.vector AS vector ${LIVE} ORDER BY e.image_id`).iterate(modelId) as Iterable<{ id: number; vector: Buffer }>) {
    if (i >= n) break;
    const v = decodeVector(r.vector);
    if (v.length !== dim) throw new Error(`embedding of image ${r.id} has ${v.length} values, model dim is ${dim}`);
    data.set(v, i * dim);
    ids.push(r.id);
    i++;
  }
  return { ids, data: i === n ? data : data.subarray(0, i * dim) };
}

export function deleteEmbeddingsForImage(db: Db, imageId: number): number {
  return prepared(db, 'DELETE FROM embeddings WHERE image_id = ?').run(imageId).changes;
}

export function deleteEmbedding(db: Db, modelId: number, imageId: number): number {
  return prepared(db, 'DELETE FROM embeddings WHERE model_id = ? AND image_id = ?').run(modelId, imageId).changes;
}

/** Models that have at least one embedding, newest model first. */
export function modelsWithEmbeddings(db: Db): { id: number; dim: number; name: string; count: number }[] {
  return prepared(db, `SELECT m.id, m.dim, m.name, count(*) AS count FROM models m JOIN embeddings e ON e.model_id = m.id
    GROUP BY m.id ORDER BY m.created_at DESC, m.id DESC`).all() as { id: number; dim: number; name: string; count: number }[];
}

/** The few model fields search and clustering need, or undefined when there is no such model. */
export function modelInfo(db: Db, modelId: number): { id: number; dim: number; name: string } | undefined {
  return prepared(db, 'SELECT id, dim, name FROM models WHERE id = ?').get(modelId) as { id: number; dim: number; name: string } | undefined;
}
