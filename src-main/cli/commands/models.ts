import { startModelDownload } from '../../services/jobs/start-jobs';
import { modelDTOs } from '../../services/models/model-list';
import { OFFICIAL_NAMES } from '../../services/models/official-weights';
import { UsageError, type Command } from '../command';

export const command: Command = {
  name: 'models',
  summary: 'list models, or add official or exported weights as a model (no training)',
  usage: `models [list] | models add FILE|NAME   (NAME: ${OFFICIAL_NAMES.join(', ')})`,
  async run(ctx) {
    const [verb = 'list', arg, ...rest] = ctx.positionals;
    const catalog = ctx.catalog();
    if (verb === 'list') return { models: modelDTOs(catalog) };
    if (verb !== 'add' || !arg || rest.length) throw new UsageError('models add takes one FILE or NAME');
    const r = await startModelDownload(catalog, arg, 'nothing').promise;
    return { model: r.model, name: r.name, arch: r.arch, patchSize: r.patchSize, dim: r.dim, depth: r.depth, hasHead: r.hasHead, file: r.file, downloaded: r.downloaded };
  },
};
