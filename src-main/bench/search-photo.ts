import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportWeights } from '../dino/weights/export';
import { randomOfficialVit } from '../testing/fixture-vit';
import { repoRoot } from '../testing/repo-root';
import { openCatalog } from '../services/catalog/catalog';
import { embedCatalog } from '../services/embedding/catalog-embedding';
import { warmEmbedder } from '../services/embedding/warm-embedder';
import { startImport } from '../services/jobs/start-jobs';
import { addModel } from '../services/models/add-model';
import { searchWithPhoto } from '../services/search/photo-search';
import { median, ratio, type Benchmark } from './types';

const samples = join(repoRoot, 'resources', 'sample-photos');

/**
 * Search with a photo, as the app runs it (services/search/photo-search.ts): the photo embedded by the
 * catalog's model, then its nearest photos. Ours: the warm embedder, whose thread keeps the model
 * loaded after the first search; the baseline: a thread of its own for each search, starting tfjs and
 * loading the model every time (what every search did before). The two alternate, on the same photos,
 * model and catalog (the 36 sample photos; a ViT-S/16 at 224 px with random weights, the size of the
 * recommended official model; --quick: a ViT-Tiny/16).
 */
export const benchmark: Benchmark = {
  name: 'search-photo',
  description: 'a second search with a photo: the warm embedder against a thread of its own per search (same run, same photos and model)',
  async run({ log, quick }) {
    const dir = mkdtempSync(join(tmpdir(), 'dino-bench-search-photo-'));
    const catalog = openCatalog(join(dir, 'catalog'));
    try {
      const arch = quick ? 'vit_tiny' : 'vit_small';
      const weights = join(dir, `${arch}16.safetensors`);
      exportWeights(randomOfficialVit(5, arch, 16, 224), weights, { format: 'safetensors', numHeads: quick ? 3 : 6 });
      await startImport(catalog, [samples]).promise;
      const model = (await addModel(catalog, weights)).model;
      log(`  embedding the 36 sample photos with a random ${arch}/16 (not timed)`);
      await embedCatalog(catalog, model);
      const queries = ['caltech-101/llama/image_0001.jpg', 'trashnet/glass/glass1.jpg', 'caltech-101/ibis/image_0001.jpg'].map((p, i) => {
        const file = join(dir, `query-${i}.jpg`);
        cpSync(join(samples, p), file);
        return file;
      });
      const rounds = quick ? 3 : 6;
      const timed = async (fresh: boolean, file: string): Promise<number> => {
        const t = performance.now();
        const r = await searchWithPhoto(catalog, { file }, { k: 20, fresh });
        if (r.results.length === 0) throw new Error('the search found nothing');
        return performance.now() - t;
      };
      const first = await timed(false, queries[0]!);
      const thread = warmEmbedder(catalog).thread;
      const warm: number[] = [];
      const fresh: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const q = queries[i % queries.length]!;
        // alternating, so load on the machine falls on both alike
        fresh.push(await timed(true, q));
        warm.push(await timed(false, q));
      }
      if (warmEmbedder(catalog).thread !== thread) throw new Error('the warm embedder did not keep its thread');
      log(`  first warm search ${first.toFixed(0)} ms; later: warm ${warm.map((x) => x.toFixed(0)).join(', ')} ms, own thread ${fresh.map((x) => x.toFixed(0)).join(', ')} ms`);
      const value = median(warm);
      const baselineValue = median(fresh);
      return [
        {
          name: `search with a photo, second and later (${arch}/16, 224 px)`,
          value,
          unit: 'ms',
          baseline: 'a thread of its own per search (tfjs and the model loaded each time)',
          baselineValue,
          ratio: ratio(value, baselineValue),
          extra: { firstWarmMs: first, rounds, photos: 36 },
        },
      ];
    } finally {
      await catalog.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
