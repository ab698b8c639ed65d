import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openCatalog, type Catalog } from '../../services/catalog/catalog';
import { labelFreeScores, netOfModel, labelledSet, modelFeatures, pixelFeatures, randomFeatures, scoreFeatures, type QualityScores } from '../../services/labelled-eval/labelled-scores';
import { startImport } from '../../services/photos/import-photos';
import { resolveModel } from '../../services/models/resolve-model';
import { stringOpt, UsageError, type CliContext, type Command } from '../command';

export const command: Command = {
  name: 'eval',
  summary: 'measure embedding quality on a labelled folder tree (sub-folder = class): k-NN, NMI, ARI, purity',
  usage: 'eval --data DIR [--model ID|FILE|random|pixels] [--no-baselines]',
  options: { data: { type: 'string' }, model: { type: 'string' }, 'no-baselines': { type: 'boolean' } },
  async run(ctx) {
    const data = stringOpt(ctx, 'data');
    if (!data) throw new UsageError('--data DIR is required');
    const dataDir = resolve(data);
    if (!statSync(dataDir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`Folder not found: ${dataDir}`);
    const own = ctx.values.catalog === undefined;
    const tempDir = own ? mkdtempSync(join(tmpdir(), 'dino-eval-')) : undefined;
    const catalog = tempDir ? openCatalog(tempDir) : ctx.catalog();
    try {
      return await evaluate(ctx, catalog, dataDir, stringOpt(ctx, 'model'), !ctx.values['no-baselines']);
    } finally {
      if (tempDir) {
        await catalog.close();
        rmSync(tempDir, { recursive: true, force: true });
      }
    }
  },
};

async function evaluate(ctx: CliContext, catalog: Catalog, dataDir: string, modelArg: string | undefined, baselines: boolean): Promise<object> {
  const t0 = Date.now();
  await startImport(catalog, [dataDir]).promise;
  const set = labelledSet(catalog, dataDir);
  if (set.classes.length < 2) throw new Error(`${dataDir} needs at least two class sub-folders with photos (found ${set.classes.length})`);
  let modelId: number | undefined;
  let main: string;
  if (modelArg === undefined || modelArg === 'random' || modelArg === 'pixels') {
    main = modelArg ?? 'random';
    if (modelArg === undefined) {
      try {
        modelId = resolveModel(catalog, undefined, 'weights').id;
        main = String(modelId);
      } catch {
        // no model in this catalog: the evaluation is of the baselines alone
      }
    }
  } else if (/^\d+$/.test(modelArg)) {
    modelId = resolveModel(catalog, Number(modelArg), 'weights').id;
    main = modelArg;
  } else {
    const { addModel } = await import('../../services/models/add-model');
    const added = await addModel(catalog, modelArg);
    modelId = added.model;
    main = String(modelId);
  }
  const net = await netOfModel(catalog, modelId);
  // labelled scores (k-NN, NMI, ...) and the label-free ones (rankme, retrieval) side by side
  type Scores = QualityScores & { rankme: number; retrieval: number };
  const scores = async (which: string): Promise<Scores> => {
    ctx.log(`eval: features ${which} for ${set.ids.length} photos`);
    const v =
      which === 'pixels' ? await pixelFeatures(set) : which === 'random' ? await randomFeatures(net, set) : await modelFeatures(catalog, Number(which), set);
    ctx.log(`eval: label-free quality of ${which}`);
    const free = await labelFreeScores(catalog, which === 'pixels' || which === 'random' ? which : Number(which), net);
    return { ...scoreFeatures(v, set.labels), ...free };
  };
  const result = await scores(main);
  const base: Record<string, Scores> = {};
  if (baselines) for (const b of ['pixels', 'random']) if (b !== main) base[b] = await scores(b);
  return {
    model: main,
    n: set.ids.length,
    classes: set.classes.length,
    ...result,
    baselines: base,
    data: dataDir,
    seconds: (Date.now() - t0) / 1000,
  };
}
