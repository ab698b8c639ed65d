import type { KnnGraph } from './exact-knn';

// Density-based clusters that leave sparse photos out, after HDBSCAN (Campello, Moulavi and Sander
// 2013; McInnes and Healy's "accelerated" variant): mutual reachability distances, their minimum
// spanning tree, the single-linkage hierarchy condensed by a minimum cluster size, and the clusters
// of that tree chosen by excess of mass. The one departure: the spanning tree is built over the
// edges of the kNN graph only (not all n^2 pairs), so the cost is a sort of n k edges. The graph
// may then fall apart into several components; they hang under one virtual root at distance
// infinity, which is never a cluster itself (HDBSCAN's allow_single_cluster = false).

export interface DensityOptions {
  /** smallest group reported as a cluster; smaller groups that split off are noise */
  minClusterSize: number;
  /** neighbours that define a point's core distance (default and at most the graph's k) */
  minSamples?: number;
}

export interface DensityResult {
  /** cluster 0..k-1 of each point, -1 = noise (left unassigned) */
  labels: Int32Array;
  k: number;
  /** excess of mass of each chosen cluster (sum over its points of lambda - lambda at its birth) */
  stability: number[];
}

/**
 * Default minimum cluster size: sqrt(n), at least 10 (24 at 600 photos, 316 at 100k). HDBSCAN's own
 * default (5) splits a large collection into hundreds of crumbs; a fixed fraction of n hides small
 * genuine groups of a large one. sqrt(n) is the usual compromise for cluster counts.
 */
export function defaultMinClusterSize(n: number): number {
  return Math.max(10, Math.round(Math.sqrt(n)));
}

/** Distances below this count as this: exact duplicates would otherwise give lambda = infinity. */
const MIN_DISTANCE = 1e-6;

class UnionFind {
  private readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(x: number): number {
    let r = x;
    while (this.parent[r] !== r) r = this.parent[r]!;
    while (this.parent[x] !== r) {
      const next = this.parent[x]!;
      this.parent[x] = r;
      x = next;
    }
    return r;
  }
  /** joins the sets of a and b under b's root's new parent `into` (a fresh element) */
  join(a: number, b: number, into: number): void {
    this.parent[a] = into;
    this.parent[b] = into;
  }
}

/**
 * Single-linkage dendrogram of the mutual reachability graph: nodes 0..n-1 are the points, node n + t
 * the t-th merge (children left/right at distance `height`); the last node is the virtual root.
 */
function dendrogram(g: KnnGraph, minSamples: number): { left: Int32Array; right: Int32Array; height: Float64Array; size: Int32Array; root: number } {
  const { n, k } = g;
  const core = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // distance to the minSamples-th neighbour (the graph lists them best first); fewer: the last one
    let d = Infinity;
    for (let a = Math.min(minSamples, k) - 1; a >= 0; a--) {
      if (g.indices[i * k + a]! >= 0) {
        d = 1 - g.similarities[i * k + a]!;
        break;
      }
    }
    core[i] = Math.max(MIN_DISTANCE, d);
  }
  const edgeW = new Float64Array(n * k);
  const order: number[] = [];
  for (let e = 0; e < n * k; e++) {
    const j = g.indices[e]!;
    if (j < 0) continue;
    const i = Math.floor(e / k);
    edgeW[e] = Math.max(core[i]!, core[j]!, 1 - g.similarities[e]!);
    order.push(e);
  }
  order.sort((a, b) => edgeW[a]! - edgeW[b]!);
  const total = 2 * n; // n leaves + at most n - 1 merges + the virtual root
  const left = new Int32Array(total).fill(-1);
  const right = new Int32Array(total).fill(-1);
  const height = new Float64Array(total);
  const size = new Int32Array(total);
  size.fill(1, 0, n);
  const uf = new UnionFind(total);
  let next = n;
  for (const e of order) {
    const a = uf.find(Math.floor(e / k));
    const b = uf.find(g.indices[e]!);
    if (a === b) continue;
    left[next] = a;
    right[next] = b;
    height[next] = edgeW[e]!;
    size[next] = size[a]! + size[b]!;
    uf.join(a, b, next);
    next++;
  }
  // components left apart: chain them under virtual nodes at distance infinity
  const tops = [...new Set(Array.from({ length: n }, (_, i) => uf.find(i)))];
  let root = tops[0]!;
  for (const t of tops.slice(1)) {
    left[next] = root;
    right[next] = t;
    height[next] = Infinity;
    size[next] = size[root]! + size[t]!;
    uf.join(root, t, next);
    root = next++;
  }
  return { left, right, height, size, root };
}

/** HDBSCAN-style clusters of the points of a kNN graph (cosine similarities), noise left as -1. */
export function densityClusters(g: KnnGraph, opts: DensityOptions): DensityResult {
  const { n } = g;
  const m = Math.max(2, opts.minClusterSize);
  if (n === 0) return { labels: new Int32Array(0), k: 0, stability: [] };
  const { left, right, height, size, root } = dendrogram(g, opts.minSamples ?? g.k);
  const lambda = (node: number): number => 1 / Math.max(MIN_DISTANCE, height[node]!);

  // Condensed tree: clusters numbered in creation order (parents before children), 0 = the root.
  const parent: number[] = [-1];
  const birth: number[] = [0];
  const stability: number[] = [0];
  const children: number[][] = [[]];
  /** the condensed cluster each point last belonged to before it fell out */
  const home = new Int32Array(n).fill(0);
  const fallOut = (node: number, cluster: number, lam: number): void => {
    const stack = [node];
    while (stack.length) {
      const x = stack.pop()!;
      if (x < n) {
        home[x] = cluster;
        stability[cluster]! += lam - birth[cluster]!;
      } else stack.push(left[x]!, right[x]!);
    }
  };
  // (dendrogram node, condensed cluster it belongs to)
  const work: [number, number][] = [[root, 0]];
  while (work.length) {
    const [node, cluster] = work.pop()!;
    if (node < n) {
      // a single point reached as the cluster's last member: it leaves at the cluster's own lambda
      fallOut(node, cluster, cluster === 0 ? 0 : birth[cluster]!);
      continue;
    }
    const lam = Number.isFinite(height[node]!) ? lambda(node) : 0;
    const a = left[node]!;
    const b = right[node]!;
    const bigA = size[a]! >= m;
    const bigB = size[b]! >= m;
    if (bigA && bigB) {
      // a true split: both halves are new clusters born at this lambda
      for (const c of [a, b]) {
        const id = parent.length;
        parent.push(cluster);
        birth.push(lam);
        stability.push(0);
        children.push([]);
        children[cluster]!.push(id);
        stability[cluster]! += size[c]! * (lam - birth[cluster]!);
        work.push([c, id]);
      }
    } else {
      // small halves fall out of the cluster here; a big one carries the cluster on
      if (!bigA) fallOut(a, cluster, lam);
      else work.push([a, cluster]);
      if (!bigB) fallOut(b, cluster, lam);
      else work.push([b, cluster]);
    }
  }
  // Excess of mass, bottom-up (children have larger ids): keep a cluster when it is at least as
  // stable as the best selection among its descendants.
  const count = parent.length;
  const value = new Float64Array(count);
  const selected = new Uint8Array(count);
  for (let c = count - 1; c >= 1; c--) {
    const below = children[c]!.reduce((s, x) => s + value[x]!, 0);
    if (children[c]!.length === 0 || stability[c]! >= below) {
      selected[c] = 1;
      value[c] = stability[c]!;
    } else value[c] = below;
  }
  // the chosen clusters: selected ones with no selected ancestor
  const chosen = new Int32Array(count).fill(-1);
  const kept: number[] = [];
  for (let c = 1; c < count; c++) {
    const up = chosen[parent[c]!]!;
    if (up >= 0) chosen[c] = up;
    else if (selected[c]) {
      chosen[c] = kept.length;
      kept.push(c);
    }
  }
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = chosen[home[i]!]!;
  return { labels, k: kept.length, stability: kept.map((c) => stability[c]!) };
}
