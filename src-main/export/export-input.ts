// What an export takes (the clusters and their members) and what it records of each photo; the
// folder layout (folders.ts) and the manifests (manifest.ts) share it.

export type ExportMode = 'copy' | 'hardlink' | 'symlink' | 'manifest';

export interface ExportCluster {
  id: number;
  name: string;
  members: readonly { imageId: number; path: string; similarity: number }[];
}

export interface ExportInput {
  clusters: readonly ExportCluster[];
  model: { id: number; name: string };
  clustering: { id: number; method: string; k: number; params: Record<string, unknown> };
}

export interface ExportedFile {
  imageId: number;
  /** where the photo is now in the export (the source itself in 'manifest' mode) */
  path: string;
  source: string;
  clusterId: number;
  clusterName: string;
  /** the cluster's folder name in the export; null in 'manifest' mode */
  folder: string | null;
  similarity: number;
}
