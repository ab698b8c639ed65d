import { findDuplicates } from '../../services/search/find-duplicates';
import { intOpt, numberOpt, UsageError, type Command } from '../command';

export const command: Command = {
  name: 'duplicates',
  summary: 'groups of exact (same content) and near-duplicate (similarity >= threshold) photos',
  usage: 'duplicates [--threshold T] [--model ID] [--catalog DIR] [--json]',
  readOnly: true,
  options: { threshold: { type: 'string' }, model: { type: 'string' } },
  async run(ctx) {
    const threshold = numberOpt(ctx, 'threshold');
    if (threshold !== undefined && (threshold < 0 || threshold > 1)) throw new UsageError('--threshold must be between 0 and 1');
    const groups = await findDuplicates(ctx.catalog(), { threshold, modelId: intOpt(ctx, 'model', 1) });
    return { threshold: threshold ?? 0.95, groups };
  },
  human(result) {
    const r = result as { groups: { id: number; path: string }[][] };
    return r.groups.map((g, i) => [`group ${i + 1}:`, ...g.map((x) => `  ${x.id}  ${x.path}`)].join('\n')).join('\n') || '(no duplicates)';
  },
};
