import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveModel } from '../../services/models/resolve-model';
import { attentionPictures } from '../../services/search/attention-maps';
import { searchWithPhoto } from '../../services/search/photo-search';
import { searchSimilar } from '../../services/search/similar-photos';
import { intOpt, stringOpt, UsageError, type Command } from '../command';

export const command: Command = {
  name: 'search',
  summary: 'the photos most similar to a catalog photo (--id) or to a photo file (--image)',
  usage: 'search (--id N | --image FILE) [-k K] [--model ID] [--cluster C] [--attention DIR] [--catalog DIR] [--json]',
  readOnly: true,
  options: {
    id: { type: 'string' },
    image: { type: 'string' },
    k: { type: 'string', short: 'k' },
    model: { type: 'string' },
    cluster: { type: 'string' },
    attention: { type: 'string' },
  },
  async run(ctx) {
    const id = intOpt(ctx, 'id', 1);
    const image = stringOpt(ctx, 'image');
    if ((id === undefined) === (image === undefined)) throw new UsageError('give exactly one of --id N or --image FILE');
    const k = intOpt(ctx, 'k', 1) ?? 20;
    const modelId = intOpt(ctx, 'model', 1);
    const cluster = intOpt(ctx, 'cluster', 0);
    const catalog = ctx.catalog();
    const attentionDir = stringOpt(ctx, 'attention');
    if (id !== undefined) {
      const model = resolveModel(catalog, modelId, 'embeddings').id;
      const results = await searchSimilar(catalog, id, { k, modelId, cluster });
      if (!attentionDir) return { model, results };
      // the query photo's last-block attention, one PNG per head and their mean
      return { model, results, attention: await attentionPictures(catalog, id, model, attentionDir) };
    }
    if (attentionDir) throw new UsageError('--attention goes with --id');
    const file = resolve(image!);
    if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
    const found = await searchWithPhoto(catalog, { file }, { k, modelId, cluster });
    return { model: found.model, image: file, results: found.results };
  },
  human(result) {
    const r = result as { results: { id: number; path: string; similarity: number }[] };
    return r.results.map((x) => `${x.similarity.toFixed(4)}  ${x.id}  ${x.path}`).join('\n') || '(no results)';
  },
};
