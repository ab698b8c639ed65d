import { SvelteMap } from 'svelte/reactivity';
import type { DinoApi, ImageDTO } from '../../../../src-shared/api';

/** What the photo viewer steps through: the library, a cluster's members, or a list of results. */
export interface PhotoSource {
  readonly total: number;
  imageAt(index: number): ImageDTO | undefined;
  load(index: number): Promise<ImageDTO | undefined>;
}

/** A short list of photos known by id (search results, neighbours, duplicates); details fetched on demand. */
export class PhotoList implements PhotoSource {
  private readonly cache = new SvelteMap<number, ImageDTO>();

  constructor(
    private readonly api: DinoApi,
    readonly ids: readonly number[],
  ) {}

  get total(): number {
    return this.ids.length;
  }

  imageAt(index: number): ImageDTO | undefined {
    const id = this.ids[index];
    return id === undefined ? undefined : this.cache.get(id);
  }

  async load(index: number): Promise<ImageDTO | undefined> {
    const id = this.ids[index];
    if (id === undefined) return undefined;
    const hit = this.cache.get(id);
    if (hit) return hit;
    const image = await this.api.invoke('library:image', { id });
    this.cache.set(id, image);
    return image;
  }
}
