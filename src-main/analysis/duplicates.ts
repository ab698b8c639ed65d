import type { KnnGraph } from './exact-knn';

/** Disjoint sets with path halving and union by size. */
export class UnionFind {
  private readonly parent: Int32Array;
  private readonly size: Int32Array;
  constructor(n: number) {
    this.parent = new Int32Array(n).map((_, i) => i);
    this.size = new Int32Array(n).fill(1);
  }
  find(x: number): number {
    while (this.parent[x] !== x) {
      this.parent[x] = this.parent[this.parent[x]!]!;
      x = this.parent[x]!;
    }
    return x;
  }
  union(a: number, b: number): void {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return;
    if (this.size[ra]! < this.size[rb]!) [ra, rb] = [rb, ra];
    this.parent[rb] = ra;
    this.size[ra]! += this.size[rb]!;
  }
}

/**
 * Near-duplicate groups: points joined by a kNN edge with similarity >= threshold, closed
 * transitively (union-find), so a burst of five shots of the same scene is one group. Groups of two
 * or more, largest first, each sorted by index. Exact duplicates have similarity 1 and land here too.
 */
export function nearDuplicateGroups(g: KnnGraph, threshold: number): number[][] {
  const uf = new UnionFind(g.n);
  for (let i = 0; i < g.n; i++) {
    for (let a = 0; a < g.k; a++) {
      const j = g.indices[i * g.k + a]!;
      if (j >= 0 && j !== i && g.similarities[i * g.k + a]! >= threshold) uf.union(i, j);
    }
  }
  return groupsOf(uf, g.n);
}

function groupsOf(uf: UnionFind, n: number): number[][] {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = uf.find(i);
    const list = groups.get(r);
    if (list) list.push(i);
    else groups.set(r, [i]);
  }
  return [...groups.values()].filter((x) => x.length > 1).sort((a, b) => b.length - a.length || a[0]! - b[0]!);
}

/** Exact duplicates: items sharing a content hash (byte-identical files), groups of two or more. */
export function exactDuplicateGroups<T extends { hash: string | null }>(items: readonly T[]): T[][] {
  const byHash = new Map<string, T[]>();
  for (const it of items) {
    if (!it.hash) continue;
    const list = byHash.get(it.hash);
    if (list) list.push(it);
    else byHash.set(it.hash, [it]);
  }
  return [...byHash.values()].filter((x) => x.length > 1).sort((a, b) => b.length - a.length);
}
