import type { ApiModule } from './table';
import { v } from './validate';
import { attentionMaps } from '../services/search/attention-maps';
import { findDuplicates } from '../services/search/find-duplicates';
import { findOutliers } from '../services/search/find-outliers';
import { searchWithPhoto } from '../services/search/photo-search';
import { searchSimilar } from '../services/search/similar-photos';

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
  'search:byImage': {
    check: v.object({ dataBase64: v.string({ min: 1, max: 70_000_000 }), k: v.optional(v.int({ min: 1, max: 1000 })) }),
    handle: async ({ dataBase64, k }) => (await searchWithPhoto(catalog, { bytes: Buffer.from(dataBase64, 'base64') }, { k })).results,
  },
  'search:attention': { check: v.object({ id: v.int({ min: 1 }) }), handle: ({ id }) => attentionMaps(catalog, id) },
});
