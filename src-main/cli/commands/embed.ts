import { resolveModel } from '../../services/models/resolve-model';
import { intOpt, type Command } from '../command';
import { startEmbed } from '../../services/jobs/start-jobs';

export const command: Command = {
  name: 'embed',
  summary: "embed new and changed photos with a model's teacher backbone",
  usage: 'embed [--model ID]',
  options: { model: { type: 'string' } },
  async run(ctx) {
    const catalog = ctx.catalog();
    const modelId = resolveModel(catalog, intOpt(ctx, 'model', 1), 'weights').id;
    const r = await startEmbed(catalog, modelId).promise;
    return { model: r.model, embedded: r.embedded, failed: r.failed, unchanged: r.skipped, seconds: r.seconds, backend: r.backend, quality: r.quality ?? null };
  },
};
