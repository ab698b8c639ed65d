import type { ApiModule } from './table';
import { v } from './validate';
import { findDuplicates } from '../services/search/find-duplicates';
import { findOutliers } from '../services/search/find-outliers';
import { searchSimilar } from '../services/search/similar-photos';

// search:byImage and search:attention need the model to embed a photo: the lead's embedder serves them.
export const searchApi: ApiModule = (catalog) => ({
  'search:similar': {
    check: v.object({ id: v.int({ min: 1 }), k: v.optional(v.int({ min: 1, max: 1000 })), cluster: v.optional(v.int({ min: 0 })) }),
    handle: ({ id, k, cluster }) => searchSimilar(catalog, id, { k, cluster }),
  },
  'analysis:duplicates': {
    check: v.object({ threshold: v.optional(v.number({ min: 0, max: 1 })) }),
    handle: ({ threshold }) => findDuplicates(catalog, { threshold }),
  },
  'analysis:outliers': {
    check: v.object({ n: v.optional(v.int({ min: 1, max: 10_000 })) }),
    handle: ({ n }) => findOutliers(catalog, { n }),
  },
});
