import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exactKnnGraph, exactTopK } from '../analysis/exact-knn';
import { sampleIndices, seededRng } from '../analysis/random';
import { syntheticEmbeddings } from '../analysis/synthetic';
import { row } from '../analysis/vectors';
import { VERIFY_SAMPLE, ensureIndex, type IndexEntry, type VectorSource } from './ensure';
import { buildKnnGraph } from './knn-graph';
import { loadIndex, saveIndex, sidecarPath } from './persist';
import { VectorIndex } from './vector-index';

const dir = mkdtempSync(join(tmpdir(), 'vindex-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('VectorIndex', () => {
  it('reaches recall@10 >= 0.98 against brute force on 20k synthetic 384-d vectors', () => {
    const n = 20_000;
    const { vectors } = syntheticEmbeddings({ n, dim: 384, clusters: 200, spread: 1.0, seed: 11 });
    const idx = VectorIndex.create(384, { capacity: 4096 }); // small on purpose: exercises resize
    for (let i = 0; i < n; i++) idx.add(i + 1, row(vectors, i));
    expect(idx.size).toBe(n);
    const queries = sampleIndices(n, 200, seededRng(5));
    let hit = 0;
    for (const q of queries) {
      const truth = new Set(exactTopK(vectors, row(vectors, q), 10).map((h) => h.index + 1));
      const got = idx.search(row(vectors, q), 10);
      expect(got.length).toBe(10);
      for (const g of got) if (truth.has(g.id)) hit++;
      // a vector's own nearest neighbour is itself with similarity 1
      expect(got[0]!.id).toBe(q + 1);
      expect(got[0]!.similarity).toBeCloseTo(1, 5);
    }
    const recall = hit / (queries.length * 10);
    expect(recall).toBeGreaterThanOrEqual(0.98);
  });

  it('never returns removed ids, and a re-added id comes back', () => {
    const { vectors } = syntheticEmbeddings({ n: 300, dim: 16, clusters: 5, spread: 0.5, seed: 1 });
    const idx = VectorIndex.create(16);
    for (let i = 0; i < 300; i++) idx.add(i, row(vectors, i));
    for (let i = 0; i < 300; i += 2) idx.remove(i);
    for (let q = 0; q < 300; q += 7) for (const r of idx.search(row(vectors, q), 20)) expect(r.id % 2).toBe(1);
    expect(idx.search(row(vectors, 0), 1000).length).toBe(150);
    idx.add(0, row(vectors, 0));
    expect(idx.search(row(vectors, 0), 1)[0]!.id).toBe(0);
    expect(idx.deletedIds.has(0)).toBe(false);
  });

  it('builds the kNN graph of a subset of its points, never a point as its own neighbour', async () => {
    const { vectors } = syntheticEmbeddings({ n: 1000, dim: 24, clusters: 10, spread: 0.8, seed: 4 });
    const idx = VectorIndex.create(24);
    for (let i = 0; i < 1000; i++) idx.add(i + 100, row(vectors, i));
    const ids = [...Array(1000).keys()].map((i) => i + 100);
    const fromPoints = await buildKnnGraph(idx, ids, 8);
    const fromVectors = await buildKnnGraph(idx, ids, 8, { vectors: vectors.data });
    expect(Array.from(fromVectors.indices)).toEqual(Array.from(fromPoints.indices));
    const exact = exactKnnGraph(vectors, 8);
    let hit = 0;
    for (let i = 0; i < 1000; i++) {
      const want = new Set(exact.indices.subarray(i * 8, i * 8 + 8));
      for (let a = 0; a < 8; a++) {
        const p = fromVectors.indices[i * 8 + a]!;
        expect(p).not.toBe(i);
        if (want.has(p)) hit++;
      }
    }
    expect(hit / 8000).toBeGreaterThan(0.98);
  });

  it('applies a filter', () => {
    const { vectors } = syntheticEmbeddings({ n: 200, dim: 8, clusters: 2, spread: 0.5, seed: 2 });
    const idx = VectorIndex.create(8);
    for (let i = 0; i < 200; i++) idx.add(i, row(vectors, i));
    const got = idx.search(row(vectors, 0), 10, (id) => id >= 100);
    expect(got.length).toBe(10);
    for (const g of got) expect(g.id).toBeGreaterThanOrEqual(100);
  });
});

describe('persistence and ensureIndex', () => {
  const { vectors } = syntheticEmbeddings({ n: 500, dim: 32, clusters: 10, spread: 0.6, seed: 3 });
  const vec = (id: number): Float32Array => row(vectors, id - 1);
  let reads = 0;
  const source: VectorSource = {
    *vectors(ids) {
      for (const id of ids) {
        reads++;
        yield { id, vector: vec(id) };
      }
    },
  };
  const entries = (ids: number[], version = 1): IndexEntry[] => ids.map((id) => ({ id, version }));
  const all = [...Array(500).keys()].map((i) => i + 1);

  it('builds, saves, and reloads reading only the sample it checks', () => {
    const file = join(dir, 'a.hnsw');
    reads = 0;
    const first = ensureIndex({ file, dim: 32, entries: entries(all), source });
    expect(first.rebuilt).toBe(true);
    expect(first.reason).toMatch(/missing/);
    expect(reads).toBe(500);
    reads = 0;
    const second = ensureIndex({ file, dim: 32, entries: entries(all), source });
    expect(second.rebuilt).toBe(false);
    expect(second.saved).toBe(false);
    // the opened file is checked against a sample of the database's vectors, not all 500
    expect(reads).toBe(VERIFY_SAMPLE);
    expect(second.index.search(vec(7), 1)[0]!.id).toBe(7);
  });

  it('syncs a changed id list: removed ids vanish, new and changed ones are added', () => {
    const file = join(dir, 'b.hnsw');
    ensureIndex({ file, dim: 32, entries: entries(all.slice(0, 400)), source });
    reads = 0;
    const want = [...entries(all.slice(50, 400)), ...entries(all.slice(400)), { id: 60, version: 2 }].filter((e, i, a) => a.findIndex((x) => x.id === e.id) === i || e.version === 2);
    const dedup = new Map(want.map((e) => [e.id, e]));
    const r = ensureIndex({ file, dim: 32, entries: [...dedup.values()], source });
    expect(r.rebuilt).toBe(false);
    expect(r.sync).toEqual({ added: 100, updated: 1, removed: 50 });
    expect(reads).toBe(101 + VERIFY_SAMPLE);
    for (let q = 1; q <= 500; q += 13) for (const h of r.index.search(vec(q), 30)) expect(h.id).toBeGreaterThan(50);
    // and it was saved: a reload agrees without syncing
    const again = ensureIndex({ file, dim: 32, entries: [...dedup.values()], source });
    expect(again.saved).toBe(false);
    expect(again.index.size).toBe(450);
  });

  it('rebuilds when the index file is deleted', () => {
    const file = join(dir, 'c.hnsw');
    ensureIndex({ file, dim: 32, entries: entries(all), source });
    rmSync(file);
    const r = ensureIndex({ file, dim: 32, entries: entries(all), source });
    expect(r.rebuilt).toBe(true);
    expect(r.index.search(vec(3), 1)[0]!.id).toBe(3);
    expect(existsSync(file)).toBe(true);
  });

  it.each([
    ['truncated', (b: Buffer) => b.subarray(0, Math.floor(b.length / 2))],
    ['flipped bytes', (b: Buffer) => Buffer.from(b.map((x, i) => (i > 100 && i < 4000 ? 255 - x : x)))],
    ['garbage', () => Buffer.from('not an index at all')],
  ])('rebuilds a damaged index file (%s)', (_name, damage) => {
    const file = join(dir, `d-${_name}.hnsw`);
    ensureIndex({ file, dim: 32, entries: entries(all), source });
    writeFileSync(file, damage(readFileSync(file)));
    const r = ensureIndex({ file, dim: 32, entries: entries(all), source });
    expect(r.rebuilt).toBe(true);
    expect(r.reason).toMatch(/damaged|unreadable/);
    expect(r.index.size).toBe(500);
    expect(r.index.search(vec(42), 1)[0]!.id).toBe(42);
  });

  it('rebuilds on a damaged sidecar or a dim change', () => {
    const file = join(dir, 'e.hnsw');
    ensureIndex({ file, dim: 32, entries: entries(all), source });
    writeFileSync(sidecarPath(file), '{"format": 1, "dim": ');
    expect(ensureIndex({ file, dim: 32, entries: entries(all), source }).rebuilt).toBe(true);
    expect(loadIndex(file, 64).index).toBeNull();
  });

  it('rebuilds an index whose vectors or count disagree with the database, whatever its versions say', () => {
    const file = join(dir, 'g.hnsw');
    const few = all.slice(0, 40);
    ensureIndex({ file, dim: 32, entries: entries(few), source });
    // the database now holds another vector for photo 7 under the same version (an index file from
    // another copy of the catalog): only the comparison of vectors can tell
    const other: VectorSource = {
      *vectors(ids) {
        for (const id of ids) yield { id, vector: id === 7 ? vec(8) : vec(id) };
      },
    };
    const r = ensureIndex({ file, dim: 32, entries: entries(few), source: other });
    expect(r.rebuilt).toBe(true);
    expect(r.reason).toBe('index disagrees with the database: the vector of photo 7 differs');
    expect(r.index.vector(7)).toEqual(vec(8));
    // and an index that (after its sync) holds another count than the database, e.g. a duplicate entry list
    const dup = ensureIndex({ file, dim: 32, entries: [...entries(few), { id: 7, version: 1 }], source: other });
    expect(dup.rebuilt).toBe(true);
    expect(dup.reason).toMatch(/it holds 40 photos, the database 41/);
  });

  it('saveIndex + loadIndex keep deleted ids deleted', () => {
    const file = join(dir, 'f.hnsw');
    const idx = VectorIndex.create(32);
    for (const id of all) idx.add(id, vec(id), 1);
    for (let id = 1; id <= 100; id++) idx.remove(id);
    saveIndex(idx, file);
    const loaded = loadIndex(file, 32);
    expect(loaded.index).not.toBeNull();
    expect(loaded.index!.size).toBe(400);
    expect(loaded.index!.deletedIds.size).toBe(100);
    for (const h of loaded.index!.search(vec(5), 50)) expect(h.id).toBeGreaterThan(100);
  });
});
