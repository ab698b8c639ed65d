import { findOutliers } from '../../services/search/find-outliers';
import { intOpt, type Command } from '../command';

export const command: Command = {
  name: 'outliers',
  summary: 'the photos least like the rest: score = 1 - mean similarity to the k nearest neighbours',
  usage: 'outliers [-n N] [-k K] [--model ID] [--catalog DIR] [--json]',
  readOnly: true,
  options: { n: { type: 'string', short: 'n' }, k: { type: 'string', short: 'k' }, model: { type: 'string' } },
  async run(ctx) {
    const results = await findOutliers(ctx.catalog(), { n: intOpt(ctx, 'n', 1) ?? 50, k: intOpt(ctx, 'k', 1) ?? 10, modelId: intOpt(ctx, 'model', 1) });
    return { results };
  },
  human(result) {
    const r = result as { results: { id: number; path: string; score: number }[] };
    return r.results.map((x) => `${x.score.toFixed(4)}  ${x.id}  ${x.path}`).join('\n') || '(no photos)';
  },
};
