import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { getImage } from '../../db/repos/images';
import type { Catalog } from '../../services/catalog/catalog';
import { resolveModel } from '../../services/models/resolve-model';
import { searchByVector, searchSimilar } from '../../services/search/similar-photos';
import { intOpt, stringOpt, UsageError, type Command } from '../command';

type EmbedOutside = (catalog: Catalog, modelId: number, file: string) => Promise<Float32Array>;

/** The embedder of outside photos (services/embedder.ts), loaded only when --image needs it: it pulls in tfjs. */
async function loadEmbedder(): Promise<EmbedOutside> {
  const mod = await import('../../services/embedding/catalog-embedding');
  if (typeof mod.embedOutsideImage !== 'function') throw new Error('search --image is not available in this version; use --id.');
  return mod.embedOutsideImage;
}

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
      const img = getImage(catalog.db, id)!;
      const { attentionOf } = await import('../../services/embedding/catalog-embedding');
      const { writeAttentionPngs } = await import('../../services/search/attention-png');
      const a = await attentionOf(catalog, model, id, img.path);
      return { model, results, attention: await writeAttentionPngs(img.path, a.heads, a.grid, resolve(attentionDir)) };
    }
    if (attentionDir) throw new UsageError('--attention goes with --id');
    const file = resolve(image!);
    if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
    const model = resolveModel(catalog, modelId, 'embeddings');
    const embed = await loadEmbedder();
    const vector = await embed(catalog, model.id, file);
    return { model: model.id, image: file, results: await searchByVector(catalog, vector, { k, modelId: model.id, cluster }) };
  },
  human(result) {
    const r = result as { results: { id: number; path: string; similarity: number }[] };
    return r.results.map((x) => `${x.similarity.toFixed(4)}  ${x.id}  ${x.path}`).join('\n') || '(no results)';
  },
};
