import { netConfigs } from '../../dino/train/net-configs';
import type { Catalog } from '../catalog/catalog';
import { startImport } from '../jobs/start-jobs';
import { resolveConfig } from '../training/training-config';
import { train } from '../training/training-run';
import { labelFreeScores, labelledSet, modelFeatures, pixelFeatures, randomFeatures, scoreFeatures } from './labelled-scores';

type LabelFree = { rankme: number; retrieval: number; dim: number };

export interface TrainEvalOptions {
  /** a labelled folder tree (sub-folder = class) */
  dataDir: string;
  preset?: string;
  /** fine-tune from these weights (a file or an official name) */
  from?: string;
  epochs?: number;
  overrides: Record<string, unknown>;
  /** the budget: minutes of training, or steps (a step budget gives the same run on any machine) */
  minutes?: number;
  maxSteps?: number;
  /** how many times along the budget to measure */
  points: number;
}

/** What `train-eval --json` prints. */
export interface TrainEvalResult {
  data: string;
  preset: string;
  n: number;
  classes: number;
  /** k-NN after each part of the budget, with the label-free scores of the same model */
  curve: { minutes: number; knn20: number; knn10: number; steps: number; loss: number | null; rankme: number | null; retrieval: number | null; dim: number | null }[];
  random: number;
  pixels: number;
  /** the label-free scores of the baselines (RankMe, augmentation retrieval) */
  labelFree: { random: LabelFree; pixels: LabelFree };
  steps: number;
  totalSteps: number;
  seconds: number;
}

/**
 * `train-eval`: imports a labelled folder, scores the pixels and random-init baselines, then trains
 * (or fine-tunes) in `points` parts of the budget, resuming each time, and scores the teacher's
 * embeddings against the folder labels after each part: how fast the recipe learns on this machine.
 */
export async function trainEval(catalog: Catalog, o: TrainEvalOptions, log: (m: string) => void): Promise<TrainEvalResult> {
  const t0 = Date.now();
  await startImport(catalog, [o.dataDir]).promise;
  const set = labelledSet(catalog, o.dataDir);
  const { preset, config } = await resolveConfig({ preset: o.preset, epochs: o.epochs, overrides: o.overrides });
  const pixels = scoreFeatures(await pixelFeatures(set), set.labels);
  const net = netConfigs(config).teacher;
  const random = scoreFeatures(await randomFeatures(net, set, undefined, config.seed), set.labels);
  const labelFree = { random: await labelFreeScores(catalog, 'random', net, config.seed), pixels: await labelFreeScores(catalog, 'pixels', net) };
  log(
    `train-eval: pixels k-NN20 ${pixels.knn['20']!.toFixed(3)} (retrieval ${labelFree.pixels.retrieval.toFixed(3)}, RankMe ${labelFree.pixels.rankme.toFixed(1)}), ` +
      `random init ${random.knn['20']!.toFixed(3)} (retrieval ${labelFree.random.retrieval.toFixed(3)}, RankMe ${labelFree.random.rankme.toFixed(1)})`,
  );
  const curve: TrainEvalResult['curve'] = [];
  let trainedMinutes = 0;
  let steps = 0;
  let totalSteps = 0;
  for (let p = 0; p < o.points; p++) {
    const r = await train(catalog, {
      preset,
      overrides: { ...o.overrides, epochs: config.epochs },
      from: p === 0 ? o.from : undefined,
      resume: p > 0,
      embed: false,
      maxMinutes: o.minutes === undefined ? undefined : o.minutes / o.points,
      maxSteps: o.maxSteps === undefined ? undefined : Math.ceil((o.maxSteps * (p + 1)) / o.points) - steps,
    });
    trainedMinutes += r.seconds / 60;
    steps = r.steps;
    totalSteps = r.totalSteps;
    const s = scoreFeatures(await modelFeatures(catalog, r.model, set), set.labels);
    const q = r.quality;
    curve.push({
      minutes: Number(trainedMinutes.toFixed(2)), knn20: s.knn['20']!, knn10: s.knn['10']!, steps: r.steps, loss: r.finalLoss,
      rankme: q?.rankme ?? null, retrieval: q?.retrieval ?? null, dim: q?.dim ?? null,
    });
    log(
      `train-eval: ${trainedMinutes.toFixed(1)} min, step ${r.steps}/${r.totalSteps}, k-NN20 ${s.knn['20']!.toFixed(3)}` +
        (q ? `, retrieval ${q.retrieval.toFixed(3)}, RankMe ${q.rankme.toFixed(1)}` : ''),
    );
    if (!r.stoppedEarly) break;
  }
  return {
    data: o.dataDir, preset, n: set.ids.length, classes: set.classes.length, curve,
    random: random.knn['20']!, pixels: pixels.knn['20']!, labelFree, steps, totalSteps, seconds: (Date.now() - t0) / 1000,
  };
}
