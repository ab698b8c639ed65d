import type { Db } from '../open';
import { statements } from './statements';

// Embeddings: one row per (model, image); the vector is a little-endian float32 blob of `dim` values,
// L2-normalised by the embedder. `hash` is the image's content hash when it was embedded, so a
// changed photo is seen as stale.

export interface EmbeddingRow {
  imageId: number;
  hash: string;
  vector: Float32Array;
}

/** An embedding's identity for the index: the image id and the row's version. */
/** A live embedding's photo and version: what an index needs to know it holds the current vector. */
export interface EmbeddingEntry {
  id: number;
  /** random 53 bits drawn on every insert (migration 040): a new vector never keeps an old one's version */
  version: number;
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

type RawEmbedding = { image_id: number; hash: string; vector: Buffer };

/** Rows of a model's embeddings whose image is present ('ok'). */
const LIVE = `FROM embeddings e JOIN images i ON i.id = e.image_id WHERE e.model_id = ? AND i.status = 'ok'`;

const stmts = statements((db) => ({
  put: db.prepare<[number, number, string, Buffer]>('INSERT OR REPLACE INTO embeddings (model_id, image_id, hash, vector) VALUES (?, ?, ?, ?)'),
  get: db.prepare<[number, number], RawEmbedding>('SELECT image_id, hash, vector FROM embeddings WHERE model_id = ? AND image_id = ?'),
  // the ids as one JSON array: a single statement for any number of them
  getMany: db.prepare<[number, string], RawEmbedding>('SELECT image_id, hash, vector FROM embeddings WHERE model_id = ? AND image_id IN (SELECT value FROM json_each(?))'),
  entries: db.prepare<[number], EmbeddingEntry>(`SELECT e.image_id AS id, e.version AS version ${LIVE} ORDER BY e.image_id`),
  count: db.prepare<[number], { n: number }>(`SELECT count(*) AS n ${LIVE}`),
  generation: db.prepare<[number], { generation: number }>('SELECT generation FROM embedding_generations WHERE model_id = ?'),
  vectors: db.prepare<[number], { id: number; vector: Buffer }>(`SELECT e.image_id AS id, e.vector AS vector ${LIVE} ORDER BY e.image_id`),
  deleteOne: db.prepare<[number, number]>('DELETE FROM embeddings WHERE model_id = ? AND image_id = ?'),
  modelsWith: db.prepare<[], { id: number; dim: number; name: string; count: number }>(
    `SELECT m.id, m.dim, m.name, count(*) AS count FROM models m JOIN embeddings e ON e.model_id = m.id
     GROUP BY m.id ORDER BY m.created_at DESC, m.id DESC`,
  ),
  // photos with no embedding for the model, or whose content changed since it was made
  stale: db.prepare<[number], { id: number; path: string; hash: string }>(
    `SELECT i.id, i.path, i.hash FROM images i
     LEFT JOIN embeddings e ON e.image_id = i.id AND e.model_id = ?
     WHERE i.status = 'ok' AND (e.image_id IS NULL OR e.hash != i.hash) ORDER BY i.id`,
  ),
}));

const toRow = (r: RawEmbedding): EmbeddingRow => ({ imageId: r.image_id, hash: r.hash, vector: decodeVector(r.vector) });

export function putEmbedding(db: Db, modelId: number, row: EmbeddingRow): void {
  stmts(db).put.run(modelId, row.imageId, row.hash, encodeVector(row.vector));
}

export function putEmbeddings(db: Db, modelId: number, rows: readonly EmbeddingRow[]): void {
  db.transaction(() => {
    for (const r of rows) putEmbedding(db, modelId, r);
  })();
}

export function getEmbedding(db: Db, modelId: number, imageId: number): EmbeddingRow | undefined {
  const r = stmts(db).get.get(modelId, imageId);
  return r ? toRow(r) : undefined;
}

/** Embeddings of a model for the given images (missing ones are skipped). */
export function getEmbeddings(db: Db, modelId: number, imageIds: readonly number[]): EmbeddingRow[] {
  return imageIds.length ? stmts(db).getMany.all(modelId, JSON.stringify(imageIds)).map(toRow) : [];
}

/** Id, version and hash of every embedding of a model whose image is present ('ok'), by image id. */
export function embeddingEntries(db: Db, modelId: number): EmbeddingEntry[] {
  return stmts(db).entries.all(modelId);
}

export function countEmbeddings(db: Db, modelId: number): number {
  return stmts(db).count.get(modelId)!.n;
}

/**
 * A cheap fingerprint of a model's live embeddings: the count of changes to them (a row added,
 * replaced or deleted, a photo gone or back; kept by triggers, migration 040, whoever writes), so a
 * cached index or kNN graph can tell it is stale without reading a row. Count, sum and max of row
 * ids, the fingerprint before, stayed equal when the newest row was deleted and made again.
 */
export function embeddingsFingerprint(db: Db, modelId: number): string {
  return String(stmts(db).generation.get(modelId)?.generation ?? 0);
}

/** Every live embedding of a model in one matrix, rows in ascending image id. */
export function loadAllEmbeddings(db: Db, modelId: number, dim: number): { ids: number[]; data: Float32Array } {
  const ids: number[] = [];
  const n = countEmbeddings(db, modelId);
  const data = new Float32Array(n * dim);
  let i = 0;
  for (const r of stmts(db).vectors.iterate(modelId)) {
    if (i >= n) break;
    const v = decodeVector(r.vector);
    if (v.length !== dim) throw new Error(`embedding of image ${r.id} has ${v.length} values, model dim is ${dim}`);
    data.set(v, i * dim);
    ids.push(r.id);
    i++;
  }
  return { ids, data: i === n ? data : data.subarray(0, i * dim) };
}

export function deleteEmbedding(db: Db, modelId: number, imageId: number): number {
  return stmts(db).deleteOne.run(modelId, imageId).changes;
}

/** Models that have at least one embedding, newest model first. */
export function modelsWithEmbeddings(db: Db): { id: number; dim: number; name: string; count: number }[] {
  return stmts(db).modelsWith.all();
}

/** Photos that have no embedding for the model, or whose content changed since it was made: what embed does. */
export function staleImages(db: Db, modelId: number): { id: number; path: string; hash: string }[] {
  return stmts(db).stale.all(modelId);
}
