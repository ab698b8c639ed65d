import { fileFeatures } from '../../services/embedding/file-features';
import { stringOpt, UsageError, type Command } from '../command';

export const command: Command = {
  name: 'features',
  summary: "print each image's embedding (L2-normalised teacher [CLS], evaluation transform) for given weights",
  usage: 'features --weights FILE|NAME IMAGE...',
  options: { weights: { type: 'string' } },
  async run(ctx) {
    const weights = stringOpt(ctx, 'weights');
    if (!weights || ctx.positionals.length === 0) throw new UsageError('--weights and at least one IMAGE are required');
    return { features: await fileFeatures(ctx.catalog(), weights, ctx.positionals, ctx.signal) };
  },
};
