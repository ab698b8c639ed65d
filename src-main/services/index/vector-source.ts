import type { Db } from '../../db/open';
import { getEmbeddings } from '../../db/repos/embeddings';
import type { VectorSource } from '../../vector-index/ensure';

/** A model's stored vectors as the index reads them, on any connection (the catalog's, or a worker's own). */
export function vectorSource(db: Db, modelId: number): VectorSource {
  return {
    *vectors(ids) {
      for (const r of getEmbeddings(db, modelId, ids)) yield { id: r.imageId, vector: r.vector };
    },
  };
}
