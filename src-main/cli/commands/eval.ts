import { evaluateFolder } from '../../services/labelled-eval/folder-eval';
import { inScratchCatalog, labelledFolder } from '../../services/labelled-eval/scratch-catalog';
import { stringOpt, UsageError, type Command } from '../command';

export const command: Command = {
  name: 'eval',
  summary: 'measure embedding quality on a labelled folder tree (sub-folder = class): k-NN, NMI, ARI, purity',
  usage: 'eval --data DIR [--model ID|FILE|random|pixels] [--no-baselines]',
  options: { data: { type: 'string' }, model: { type: 'string' }, 'no-baselines': { type: 'boolean' } },
  async run(ctx) {
    const data = stringOpt(ctx, 'data');
    if (!data) throw new UsageError('--data DIR is required');
    const dataDir = labelledFolder(data);
    // its own temporary catalog unless --catalog names one
    return inScratchCatalog(ctx.values.catalog === undefined ? undefined : ctx.catalog, 'dino-eval-', (catalog) =>
      evaluateFolder(catalog, dataDir, stringOpt(ctx, 'model'), !ctx.values['no-baselines'], ctx.log),
    );
  },
};
