import { SvelteMap } from 'svelte/reactivity';
import type { DinoApi, ImageDTO, Page } from '../../../../src-shared/api';
import { errorMessage } from '../format';

export const PAGE_SIZE = 240;
const MAX_PAGES_KEPT = 60;

/**
 * The library as a sparse, paged list: only pages near what the grid shows are fetched and kept,
 * so 100k photos cost a few hundred DTOs in memory, never the whole catalog.
 */
export class LibraryState {
  total = $state(0);
  loaded = $state(false);
  error = $state<string | null>(null);
  private readonly pages = new SvelteMap<number, ImageDTO[]>();
  // bookkeeping only, never rendered: a plain Set on purpose
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly inFlight = new Set<number>();
  /** bumped on every refresh: answers to requests from an older generation are dropped */
  private generation = 0;
  private recent: number[] = [];

  /** where pages come from: the whole library by default, or any paged list (a cluster's members) */
  private readonly fetcher: (offset: number, limit: number) => Promise<Page<ImageDTO>>;

  constructor(api: DinoApi, fetcher?: (offset: number, limit: number) => Promise<Page<ImageDTO>>) {
    this.fetcher = fetcher ?? ((offset, limit) => api.invoke('library:images', { offset, limit }));
  }

  imageAt(index: number): ImageDTO | undefined {
    return this.pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
  }

  /** Reloads the count and the first page; the rest is fetched again on demand. */
  async refresh(): Promise<void> {
    const gen = ++this.generation;
    this.inFlight.clear();
    try {
      const first = await this.fetcher(0, PAGE_SIZE);
      if (gen !== this.generation) return;
      const kept = [...this.pages.keys()].filter((p) => p !== 0);
      this.pages.clear();
      this.pages.set(0, first.items);
      this.total = first.total;
      this.loaded = true;
      this.error = null;
      // pages the grid was showing are fetched again so the view does not flash placeholders
      for (const p of kept.slice(-4)) void this.fetchPage(p, gen);
    } catch (e) {
      if (gen === this.generation) this.error = errorMessage(e);
    }
  }

  /** Makes sure the pages covering [from, to) are loaded or loading. */
  ensureRange(from: number, to: number): void {
    if (this.total === 0) return;
    const first = Math.max(0, Math.floor(from / PAGE_SIZE));
    const last = Math.min(Math.ceil(this.total / PAGE_SIZE) - 1, Math.floor(Math.max(from, to - 1) / PAGE_SIZE));
    for (let p = first; p <= last; p++) {
      this.touch(p);
      if (!this.pages.has(p) && !this.inFlight.has(p)) void this.fetchPage(p, this.generation);
    }
  }

  /** The image at `index`, fetching its page when needed (the viewer steps past loaded pages). */
  async load(index: number): Promise<ImageDTO | undefined> {
    if (index < 0 || index >= this.total) return undefined;
    const hit = this.imageAt(index);
    if (hit) return hit;
    await this.fetchPage(Math.floor(index / PAGE_SIZE), this.generation);
    return this.imageAt(index);
  }

  private async fetchPage(page: number, gen: number): Promise<void> {
    this.inFlight.add(page);
    try {
      const res = await this.fetcher(page * PAGE_SIZE, PAGE_SIZE);
      if (gen !== this.generation) return;
      this.pages.set(page, res.items);
      this.total = res.total;
      this.evict();
    } catch (e) {
      if (gen === this.generation) this.error = errorMessage(e);
    } finally {
      if (gen === this.generation) this.inFlight.delete(page);
    }
  }

  private touch(page: number): void {
    const i = this.recent.indexOf(page);
    if (i >= 0) this.recent.splice(i, 1);
    this.recent.push(page);
  }

  /** keeps memory flat while scrolling through 100k photos: forget the least recently shown pages */
  private evict(): void {
    while (this.pages.size > MAX_PAGES_KEPT && this.recent.length) {
      const old = this.recent.shift();
      if (old !== undefined && old !== 0) this.pages.delete(old);
    }
  }
}
