import { resolve } from 'node:path';
import { embedItems } from '../../services/embedding/catalog-embedding';
import { resolveWeights } from '../../dino/weights/resolve';
import { stringOpt, UsageError, type Command } from '../command';

export const command: Command = {
  name: 'features',
  summary: "print each image's embedding (L2-normalised teacher [CLS], evaluation transform) for given weights",
  usage: 'features --weights FILE|NAME IMAGE...',
  options: { weights: { type: 'string' } },
  async run(ctx) {
    const weights = stringOpt(ctx, 'weights');
    if (!weights || ctx.positionals.length === 0) throw new UsageError('--weights and at least one IMAGE are required');
    const { path } = await resolveWeights(weights, ctx.catalog().paths.models, { signal: ctx.signal });
    const images = ctx.positionals.map((p) => resolve(p));
    const vectors = await embedItems(path, images.map((p, i) => ({ id: i, path: p })));
    const missing = images.filter((_, i) => !vectors.has(i));
    if (missing.length) throw new Error(`Cannot read ${missing.join(', ')}`);
    return { features: images.map((image, i) => ({ image, embedding: [...vectors.get(i)!] })) };
  },
};
