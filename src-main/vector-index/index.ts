export { VectorIndex, type IndexOptions, type Neighbour } from './vector-index';
export { ensureIndex, syncIndex, type IndexEntry, type VectorSource, type EnsureResult, type SyncCounts } from './ensure';
export { saveIndex, loadIndex, deleteIndexFiles, sidecarPath } from './persist';
export { HNSW_DEFAULTS } from './params';
export { buildKnnGraph, type IndexKnnGraph } from './knn-graph';
