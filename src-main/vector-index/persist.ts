import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import hnswlib from 'hnswlib-node';

const { HierarchicalNSW } = hnswlib;
type HierarchicalNSW = InstanceType<typeof HierarchicalNSW>;
import { HNSW_DEFAULTS } from './params';
import { VectorIndex } from './vector-index';

// On disk, per model: <id>.hnsw (hnswlib's own format), <id>.hnsw.ids (live id and version pairs,
// float64 little-endian) and <id>.hnsw.json (the sidecar below), written last so a crash mid-save
// leaves a sidecar that no longer matches and the next start rebuilds. Each file is flushed to disk
// before it is renamed into place, and the folder after: a power cut must not leave a renamed but
// empty file (a sidecar of zero bytes reads as damaged and rebuilds; an empty .ids matching an old
// sidecar would not).

const FORMAT = 1;

export interface Sidecar {
  format: number;
  space: 'ip';
  dim: number;
  M: number;
  efConstruction: number;
  /** live points */
  count: number;
  /** sha1 of the sorted (id, version) list: what `ensureIndex` compares with the database */
  checksum: string;
  /** sha1 of the .hnsw and .ids files: a damaged file is caught before hnswlib reads it */
  fileSha1: string;
  idsSha1: string;
}

export function sidecarPath(file: string): string {
  return `${file}.json`;
}

function idsPath(file: string): string {
  return `${file}.ids`;
}

function sha1(data: Uint8Array): string {
  return createHash('sha1').update(data).digest('hex');
}

/** sha1 over the (id, version) pairs sorted by id; equal lists give equal checksums in any order. */
function entriesChecksum(entries: Iterable<readonly [number, number]>): string {
  const pairs = [...entries].sort((a, b) => a[0] - b[0]);
  const buf = new Float64Array(pairs.length * 2);
  pairs.forEach(([id, version], i) => {
    buf[2 * i] = id;
    buf[2 * i + 1] = version;
  });
  return sha1(new Uint8Array(buf.buffer));
}

/** Flushes a file's bytes, or a folder's entries, to the disk. */
function fsyncPath(path: string, folder = false): void {
  // Windows can neither open a folder nor flush a file opened read-only; its renames need no folder flush
  if (folder && process.platform === 'win32') return;
  const fd = openSync(path, folder ? 'r' : 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Renames a written temporary file into place durably: its bytes first, then the folder entry. */
function durableRename(tmp: string, file: string): void {
  fsyncPath(tmp);
  renameSync(tmp, file);
  fsyncPath(dirname(file), true);
}

function writeAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  durableRename(tmp, file);
}

/** Writes the index, its ids and its sidecar (last). */
export function saveIndex(index: VectorIndex, file: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  rmSync(sidecarPath(file), { force: true });
  index.hnsw.writeIndexSync(tmp);
  durableRename(tmp, file);
  const pairs = [...index.versions.entries()];
  const ids = new Float64Array(pairs.length * 2);
  pairs.forEach(([id, version], i) => {
    ids[2 * i] = id;
    ids[2 * i + 1] = version;
  });
  const idsBytes = new Uint8Array(ids.buffer);
  writeAtomic(idsPath(file), idsBytes);
  const sidecar: Sidecar = {
    format: FORMAT,
    space: 'ip',
    dim: index.dim,
    M: index.M,
    efConstruction: index.efConstruction,
    count: index.size,
    checksum: entriesChecksum(pairs),
    fileSha1: sha1(readFileSync(file)),
    idsSha1: sha1(idsBytes),
  };
  writeAtomic(sidecarPath(file), JSON.stringify(sidecar, null, 2));
}

export type LoadResult = { index: VectorIndex; sidecar: Sidecar } | { index: null; reason: string };

/** Loads an index saved by saveIndex, checking every file before hnswlib sees it. Never throws. */
export function loadIndex(file: string, dim: number, efSearch: number = HNSW_DEFAULTS.efSearch): LoadResult {
  try {
    if (!existsSync(file)) return { index: null, reason: 'index file missing' };
    if (!existsSync(sidecarPath(file))) return { index: null, reason: 'index sidecar missing' };
    const sidecar = JSON.parse(readFileSync(sidecarPath(file), 'utf8')) as Sidecar;
    if (sidecar.format !== FORMAT || sidecar.space !== 'ip') return { index: null, reason: 'index format changed' };
    if (sidecar.dim !== dim) return { index: null, reason: `index dim ${sidecar.dim} != embeddings dim ${dim}` };
    if (sha1(readFileSync(file)) !== sidecar.fileSha1) return { index: null, reason: 'index file damaged (checksum)' };
    const idsBytes = readFileSync(idsPath(file));
    if (sha1(idsBytes) !== sidecar.idsSha1) return { index: null, reason: 'index ids file damaged (checksum)' };
    const hnsw = new HierarchicalNSW('ip', dim);
    hnsw.readIndexSync(file);
    const index = new VectorIndex(dim, sidecar.M, sidecar.efConstruction, efSearch, hnsw);
    hnsw.setEf(efSearch);
    const ids = new Float64Array(idsBytes.buffer, idsBytes.byteOffset, idsBytes.byteLength / 8);
    for (let i = 0; i + 1 < ids.length; i += 2) index.versions.set(ids[i]!, ids[i + 1]!);
    for (const id of hnsw.getIdsList()) if (!index.versions.has(id)) index.deletedIds.add(id);
    if (index.versions.size !== sidecar.count || index.versions.size + index.deletedIds.size !== hnsw.getCurrentCount()) {
      return { index: null, reason: 'index ids disagree with the graph' };
    }
    return { index, sidecar };
  } catch (e) {
    return { index: null, reason: `index unreadable: ${(e as Error).message}` };
  }
}

export function deleteIndexFiles(file: string): void {
  for (const f of [sidecarPath(file), file, idsPath(file)]) rmSync(f, { force: true });
}
