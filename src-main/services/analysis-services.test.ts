import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactTopK } from '../analysis/exact-knn';
import { nmi } from '../analysis/metrics';
import { gaussian, seededRng } from '../analysis/random';
import { fromRows, normalize } from '../analysis/vectors';
import { clustersApi } from '../api/clusters';
import { exportApi } from '../api/export';
import { searchApi } from '../api/search';
import { createApi, dispatch } from '../api/table';
import { allMembers, listClusters } from '../db/repos/clusters';
import { putEmbedding } from '../db/repos/embeddings';
import { clusterMembersPage, listClusteringDTOs, mergeClustersRecomputed, renameClusterChecked } from './clusters/cluster-edits';
import { runClustering } from './clusters/clustering';
import { mapPoints, runProjection } from './clusters/map-layout';
import { runExport } from './exporting/cluster-export';
import { makeAnalysisCatalog, type Fixture } from '../testing/analysis-catalog';
import { nativeRowDots } from './backends/native-blas';
import { dropIndexes, indexFile } from './index/index-cache';
import { neighbourGraph } from './index/neighbour-graph';
import { findDuplicates } from './search/find-duplicates';
import { findOutliers } from './search/find-outliers';
import { searchByVector, searchSimilar } from './search/similar-photos';

const dir = mkdtempSync(join(tmpdir(), 'analysis-svc-'));
let fx: Fixture;
beforeAll(() => {
  fx = makeAnalysisCatalog(dir, { n: 600, dim: 32, clusters: 5, spread: 0.5, seed: 3 });
});
afterAll(async () => {
  await fx.catalog.close();
  rmSync(dir, { recursive: true, force: true });
});

function bruteForce(id: number, k: number): number[] {
  const live = fx.catalog.db.prepare("SELECT id FROM images WHERE status = 'ok' ORDER BY id").all() as { id: number }[];
  const liveIds = live.map((r) => r.id).filter((x) => x !== id);
  const v = fromRows(liveIds.map((x) => fx.vectorOf(x)));
  return exactTopK(v, fx.vectorOf(id), k).map((h) => liveIds[h.index]!);
}

describe('search service', () => {
  it('returns the exact top-k with cosine similarities, the query itself excluded', async () => {
    for (const id of fx.ids.slice(0, 20)) {
      const got = await searchSimilar(fx.catalog, id, { k: 10 });
      expect(got.map((g) => g.id)).toEqual(bruteForce(id, 10));
      expect(got[0]!.path).toMatch(/IMG_\d+\.jpg$/);
      const sim = fx.vectorOf(id).reduce((s, x, j) => s + x * fx.vectorOf(got[0]!.id)[j]!, 0);
      expect(got[0]!.similarity).toBeCloseTo(sim, 5);
    }
  });

  it('a stored vector used as an outside query finds its own photo first with similarity 1', async () => {
    const id = fx.ids[17]!;
    const got = await searchByVector(fx.catalog, fx.vectorOf(id).map((x) => x * 3), { k: 5 });
    expect(got[0]!.id).toBe(id);
    expect(got[0]!.similarity).toBeCloseTo(1, 5);
  });

  it('photos removed from the library disappear from results; re-embedded ones follow', async () => {
    const id = fx.ids[0]!;
    const before = (await searchSimilar(fx.catalog, id, { k: 10 })).map((g) => g.id);
    const gone = before.slice(0, 3);
    fx.catalog.db.prepare(`UPDATE images SET status = 'gone' WHERE id IN (${gone.join(',')})`).run();
    const after = (await searchSimilar(fx.catalog, id, { k: 10 })).map((g) => g.id);
    for (const g of gone) expect(after).not.toContain(g);
    expect(after).toEqual(bruteForce(id, 10));
    fx.catalog.db.prepare(`UPDATE images SET status = 'ok' WHERE id IN (${gone.join(',')})`).run();
    // re-embed one photo as an exact copy of the query's vector: it becomes the top hit
    putEmbedding(fx.catalog.db, fx.modelId, { imageId: fx.ids[599]!, hash: 'changed', vector: fx.vectorOf(id) });
    const top = await searchSimilar(fx.catalog, id, { k: 3 });
    expect(top[0]!.id).toBe(fx.ids[599]);
    expect(top[0]!.similarity).toBeCloseTo(1, 5);
  });

  it('rebuilds a deleted or corrupted index file at start without user action', async () => {
    const file = indexFile(fx.catalog, fx.modelId);
    await searchSimilar(fx.catalog, fx.ids[1]!, { k: 5 });
    expect(existsSync(file)).toBe(true);
    for (const damage of ['delete', 'corrupt'] as const) {
      // forgetting the index in memory is what a fresh start does (the catalog itself stays open:
      // a second writer would be refused its lock)
      dropIndexes(fx.catalog);
      if (damage === 'delete') rmSync(file);
      else writeFileSync(file, readFileSync(file).subarray(0, 1000));
      const got = await searchSimilar(fx.catalog, fx.ids[1]!, { k: 10 });
      expect(got.length).toBe(10);
      expect(existsSync(file)).toBe(true);
    }
  });

  it('searches within one cluster of the newest clustering', async () => {
    const r = await runClustering(fx.catalog, { k: 5, inWorker: false });
    const members = new Set(allMembers(fx.catalog.db, r.clustering).filter((m) => m.cluster === 2).map((m) => m.imageId));
    const query = fx.ids.find((id) => !members.has(id))!;
    const got = await searchSimilar(fx.catalog, query, { k: 8, cluster: 2 });
    expect(got.length).toBe(8);
    for (const g of got) expect(members.has(g.id)).toBe(true);
  });

  it('computes the same neighbour graph on two threads as on one', async () => {
    const model = { id: fx.modelId, dim: 32, name: 'test model' };
    const one = await neighbourGraph(fx.catalog, model, 7, { route: 'index', parallel: false });
    dropIndexes(fx.catalog);
    const two = await neighbourGraph(fx.catalog, model, 7, { route: 'index', parallel: true });
    expect(two.ids).toEqual(one.ids);
    expect(Array.from(two.graph.indices)).toEqual(Array.from(one.graph.indices));
  });

  it('duplicates and outliers take the BLAS graph when the addon loads, else the index graph', async () => {
    const model = { id: fx.modelId, dim: 32, name: 'test model' };
    const index = await neighbourGraph(fx.catalog, model, 7, { route: 'index', parallel: false });
    const here = await neighbourGraph(fx.catalog, model, 7, { inWorker: false });
    expect(here.ids).toEqual(index.ids);
    if (!nativeRowDots()) {
      expect(here).toBe(index); // the fallback is the index's graph itself
      return;
    }
    expect(here.graph).not.toBe(index.graph);
    // 600 photos are one cell: an exact graph, which the index's (near exact at this size) matches
    let same = 0;
    for (let i = 0; i < here.graph.n; i++) {
      const a = new Set(here.graph.indices.subarray(i * 7, (i + 1) * 7));
      for (const j of index.graph.indices.subarray(i * 7, (i + 1) * 7)) if (a.has(j)) same++;
    }
    expect(same / (here.graph.n * 7)).toBeGreaterThan(0.99);
    // cached until the embeddings change; the worker builds the same graph
    expect(await neighbourGraph(fx.catalog, model, 7)).toBe(here);
    dropIndexes(fx.catalog);
    const inWorker = await neighbourGraph(fx.catalog, model, 7, { inWorker: true });
    expect(inWorker.ids).toEqual(here.ids);
    expect(Array.from(inWorker.graph.indices)).toEqual(Array.from(here.graph.indices));
  });

  it('finds exact and near duplicates, and outliers', async () => {
    // photo 5 and photo 6 share a content hash; photo 7 gets photo 8's vector
    fx.catalog.db.prepare('UPDATE images SET hash = ? WHERE id IN (?, ?)').run('same', fx.ids[5], fx.ids[6]);
    putEmbedding(fx.catalog.db, fx.modelId, { imageId: fx.ids[7]!, hash: 'x', vector: fx.vectorOf(fx.ids[8]!) });
    const groups = await findDuplicates(fx.catalog, { threshold: 0.999 });
    const asIds = groups.map((g) => g.map((x) => x.id));
    expect(asIds).toContainEqual([fx.ids[5], fx.ids[6]]);
    expect(asIds).toContainEqual([fx.ids[7], fx.ids[8]]);
    const out = await findOutliers(fx.catalog, { n: 5 });
    expect(out.length).toBe(5);
    expect(out[0]!.score).toBeGreaterThanOrEqual(out[4]!.score);
  });
});

describe('clustering, map and export services', () => {
  // this one runs in the worker thread, as the app does
  it('auto-k clusters recover the synthetic groups; stored with cohesion and representatives', async () => {
    const r = await runClustering(fx.catalog, { k: 'auto' });
    expect(r.k).toBe(5);
    const members = allMembers(fx.catalog.db, r.clustering);
    const truth = members.map((m) => fx.labels[fx.ids.indexOf(m.imageId)]!);
    expect(nmi(truth, members.map((m) => m.cluster))).toBeGreaterThan(0.95);
    const dto = listClusteringDTOs(fx.catalog)[0]!;
    expect(dto.id).toBe(r.clustering);
    expect(dto.criterion).toBe(r.criterion);
    expect(dto.criterion).toMatch(/silhouette/);
    expect(dto.noise).toBe(0);
    expect(dto.clusters.map((c) => c.name)).toEqual(['Cluster 1', 'Cluster 2', 'Cluster 3', 'Cluster 4', 'Cluster 5']);
    expect(dto.clusters.reduce((s, c) => s + c.size, 0)).toBe(600);
    for (const c of dto.clusters) {
      expect(c.cohesion).toBeGreaterThan(0.5);
      expect(c.representatives.length).toBe(6);
      // representatives are the members most similar to the centroid
      const page = clusterMembersPage(fx.catalog, r.clustering, c.id, 0, 6);
      expect(page.items.map((i) => i.id)).toEqual(c.representatives);
    }
  });

  it('density clusters: dense groups only, the rest stored as no membership', async () => {
    // 30 scattered photos join the 600 grouped ones: they should stay out of every cluster
    const dim = 32;
    const rng = seededRng(77);
    const scattered: number[] = [];
    for (let i = 0; i < 30; i++) {
      const vec = new Float32Array(dim).map(() => gaussian(rng));
      const id = Number(fx.catalog.db.prepare("INSERT INTO images (path, bytes, mtime_ms, status, hash) VALUES (?, 1, 0, 'ok', ?)").run(join(dir, `scattered-${i}.jpg`), `s${i}`).lastInsertRowid);
      putEmbedding(fx.catalog.db, fx.modelId, { imageId: id, hash: `s${i}`, vector: normalize(vec) });
      scattered.push(id);
    }
    try {
      const r = await runClustering(fx.catalog, { method: 'density', minClusterSize: 40, inWorker: false });
      expect(r.method).toBe('density');
      expect(r.k).toBe(5);
      const members = allMembers(fx.catalog.db, r.clustering);
      expect(members.length + r.noise).toBe(630);
      expect(r.clusters.reduce((s, c) => s + c.size, 0)).toBe(members.length);
      const memberIds = new Set(members.map((m) => m.imageId));
      expect(scattered.filter((id) => !memberIds.has(id)).length).toBeGreaterThanOrEqual(20);
      expect(fx.ids.filter((id) => memberIds.has(id)).length).toBeGreaterThanOrEqual(570);
      const truth = members.filter((m) => fx.ids.includes(m.imageId)).map((m) => fx.labels[fx.ids.indexOf(m.imageId)]!);
      expect(nmi(truth, members.filter((m) => fx.ids.includes(m.imageId)).map((m) => m.cluster))).toBeGreaterThan(0.95);
      const dto = listClusteringDTOs(fx.catalog)[0]!;
      expect(dto.method).toBe('density');
      expect(dto.noise).toBe(r.noise);
      expect(dto.minClusterSize).toBe(40);
      expect(dto.criterion).toBeNull();
    } finally {
      fx.catalog.db.prepare(`DELETE FROM embeddings WHERE image_id IN (${scattered.join(',')})`).run();
      fx.catalog.db.prepare(`DELETE FROM cluster_members WHERE image_id IN (${scattered.join(',')})`).run();
      fx.catalog.db.prepare(`DELETE FROM images WHERE id IN (${scattered.join(',')})`).run();
    }
  });

  it('renames and merges clusters', async () => {
    const r = await runClustering(fx.catalog, { k: 4, inWorker: false });
    expect(renameClusterChecked(fx.catalog, r.clustering, 1, '  Beach  ')).toBe(true);
    expect(listClusters(fx.catalog.db, r.clustering)[0]!.name).toBe('Beach');
    const sizes = listClusters(fx.catalog.db, r.clustering).map((c) => c.size);
    expect(mergeClustersRecomputed(fx.catalog, r.clustering, 1, 2)).toBe(true);
    const after = listClusters(fx.catalog.db, r.clustering);
    expect(after.length).toBe(3);
    expect(after[0]!.size).toBe(sizes[0]! + sizes[1]!);
    expect(after[0]!.cohesion).toBeLessThan(1);
    expect(mergeClustersRecomputed(fx.catalog, r.clustering, 1, 2)).toBe(false);
  });

  it('computes and stores the 2-D map', async () => {
    const p = await runProjection(fx.catalog, { inWorker: false });
    expect(p.points).toBe(600);
    const pts = mapPoints(fx.catalog);
    expect(pts.length).toBe(600);
    expect(pts.every((q) => Number.isFinite(q.x) && Number.isFinite(q.y) && q.cluster !== null)).toBe(true);
  });

  it('exports a clustering round trip: exactly the clustered photos, byte-identical, nothing overwritten', async () => {
    const r = await runClustering(fx.catalog, { k: 5, inWorker: false });
    const to = join(dir, 'export');
    const res = await runExport(fx.catalog, { clusteringId: r.clustering, clusters: [1, 3], to, mode: 'copy' });
    const members = allMembers(fx.catalog.db, r.clustering).filter((m) => m.cluster === 1 || m.cluster === 3);
    expect(res.exported).toBe(members.length);
    expect(readdirSync(to).sort()).toEqual(['Cluster 1', 'Cluster 3', 'clusters.csv', 'clusters.json']);
    const sha = (p: string): string => createHash('sha1').update(readFileSync(p)).digest('hex');
    const want = members.map((m) => sha(m.path)).sort();
    const got = ['Cluster 1', 'Cluster 3'].flatMap((f) => readdirSync(join(to, f)).map((n) => sha(join(to, f, n)))).sort();
    expect(got).toEqual(want);
    const csvRows = readFileSync(res.manifest, 'utf8').trim().split('\r\n').slice(1);
    expect(csvRows.length).toBe(members.length);
    const second = await runExport(fx.catalog, { clusteringId: r.clustering, clusters: [1, 3], to, mode: 'copy' });
    expect(second.manifest).toBe(join(to, 'clusters (2).csv'));
    expect(readdirSync(to).sort()).toEqual(['Cluster 1', 'Cluster 1 (2)', 'Cluster 3', 'Cluster 3 (2)', 'clusters (2).csv', 'clusters (2).json', 'clusters.csv', 'clusters.json']);
    await expect(runExport(fx.catalog, { clusteringId: r.clustering, clusters: [99], to, mode: 'copy' })).rejects.toThrow(/no cluster 99/);
  });

  it('serves the channels through the API table', async () => {
    const api = createApi(fx.catalog, { kind: 'cli' }, [searchApi, clustersApi, exportApi]);
    const sim = await dispatch(api, 'search:similar', { id: fx.ids[3], k: 4 });
    expect('result' in sim && (sim.result as unknown[]).length).toBe(4);
    expect(await dispatch(api, 'search:similar', { id: 'x' })).toEqual({ error: expect.stringMatching(/bad request/) });
    const run = await dispatch(api, 'cluster:run', { k: 3 });
    expect('result' in run).toBe(true);
    const jobId = (run as { result: { jobId: string } }).result.jobId;
    while (['running', 'paused'].includes(fx.catalog.jobs.get(jobId)!.state)) await new Promise((r) => setTimeout(r, 20));
    expect(fx.catalog.jobs.get(jobId)!.state).toBe('done');
    const list = await dispatch(api, 'cluster:list', {});
    expect((list as { result: { k: number }[] }).result[0]!.k).toBe(3);
    expect(await dispatch(api, 'export:run', { clusteringId: 1, to: 'relative/dir', mode: 'copy' })).toEqual({ error: expect.stringMatching(/absolute/) });
  });
});
