import { OFFICIAL_CHECKPOINTS } from '../../dino/weights/official';
import { modelDTOs } from '../../services/models/model-list';
import { addModel } from '../../services/models/add-model';
import { UsageError, type Command } from '../command';

export const command: Command = {
  name: 'models',
  summary: 'list models, or add official or exported weights as a model (no training)',
  usage: `models [list] | models add FILE|NAME   (NAME: ${OFFICIAL_CHECKPOINTS.map((c) => c.name).join(', ')})`,
  async run(ctx) {
    const [verb = 'list', arg, ...rest] = ctx.positionals;
    const catalog = ctx.catalog();
    if (verb === 'list') return { models: modelDTOs(catalog) };
    if (verb !== 'add' || !arg || rest.length) throw new UsageError('models add takes one FILE or NAME');
    const r = await catalog.jobs.start('download', (job) => addModel(catalog, arg, job)).promise;
    return { model: r.model, name: r.name, arch: r.arch, patchSize: r.patchSize, dim: r.dim, depth: r.depth, hasHead: r.hasHead, file: r.file, downloaded: r.downloaded };
  },
};
