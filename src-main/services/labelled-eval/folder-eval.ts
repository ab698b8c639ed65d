import type { Catalog } from '../catalog/catalog';
import { startImport } from '../jobs/start-jobs';
import { resolveModel } from '../models/resolve-model';
import { labelFreeScores, labelledSet, modelFeatures, netOfModel, pixelFeatures, randomFeatures, scoreFeatures, type QualityScores } from './labelled-scores';

/** What is evaluated: a model of the catalog by id, a weights file or official name (added first), or a baseline. */
export type EvalSubject = 'pixels' | 'random' | string;

/** Labelled scores (k-NN, NMI, ...) and the label-free ones (RankMe, retrieval) side by side. */
export type EvalScores = QualityScores & { rankme: number; retrieval: number };

export interface FolderEvalResult extends EvalScores {
  /** the model's id, or 'pixels' / 'random' */
  model: string;
  n: number;
  classes: number;
  baselines: Record<string, EvalScores>;
  data: string;
  seconds: number;
}

/**
 * `eval`: imports a labelled folder tree (sub-folder = class) and scores a model's embeddings of it
 * (default: the catalog's model, else the random-init baseline) against the folder labels, beside the
 * pixels and random-init baselines unless `baselines` is false.
 */
export async function evaluateFolder(catalog: Catalog, dataDir: string, subject: EvalSubject | undefined, baselines: boolean, log: (m: string) => void): Promise<FolderEvalResult> {
  const t0 = Date.now();
  await startImport(catalog, [dataDir]).promise;
  const set = labelledSet(catalog, dataDir);
  if (set.classes.length < 2) throw new Error(`${dataDir} needs at least two class sub-folders with photos (found ${set.classes.length})`);
  const { modelId, main } = await subjectModel(catalog, subject);
  const net = await netOfModel(catalog, modelId);
  const scores = async (which: string): Promise<EvalScores> => {
    log(`eval: features ${which} for ${set.ids.length} photos`);
    const v =
      which === 'pixels' ? await pixelFeatures(set) : which === 'random' ? await randomFeatures(net, set) : await modelFeatures(catalog, Number(which), set);
    log(`eval: label-free quality of ${which}`);
    const free = await labelFreeScores(catalog, which === 'pixels' || which === 'random' ? which : Number(which), net);
    return { ...scoreFeatures(v, set.labels), ...free };
  };
  const result = await scores(main);
  const base: Record<string, EvalScores> = {};
  if (baselines) for (const b of ['pixels', 'random']) if (b !== main) base[b] = await scores(b);
  return { model: main, n: set.ids.length, classes: set.classes.length, ...result, baselines: base, data: dataDir, seconds: (Date.now() - t0) / 1000 };
}

/** The model an eval subject names (added to the catalog when it is weights), and what the result calls it. */
async function subjectModel(catalog: Catalog, subject: EvalSubject | undefined): Promise<{ modelId?: number; main: string }> {
  if (subject === 'random' || subject === 'pixels') return { main: subject };
  if (subject === undefined) {
    let id: number;
    try {
      id = resolveModel(catalog, undefined, 'weights').id;
    } catch {
      // no model in this catalog: the evaluation is of the baselines alone
      return { main: 'random' };
    }
    return { modelId: id, main: String(id) };
  }
  if (/^\d+$/.test(subject)) return { modelId: resolveModel(catalog, Number(subject), 'weights').id, main: subject };
  const { addModel } = await import('../models/add-model');
  const added = await addModel(catalog, subject);
  return { modelId: added.model, main: String(added.model) };
}
