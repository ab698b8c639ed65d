import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { netConfigs } from '../../dino/train/net-configs';
import { openCatalog } from '../../services/catalog';
import { labelFreeScores, labelledSet, modelFeatures, pixelFeatures, randomFeatures, scoreFeatures } from '../../services/evaluator';
import { startImport } from '../../services/importer';
import { resolveConfig, train } from '../../services/trainer';
import { intOpt, numberOpt, setOverrides, stringOpt, UsageError, type Command } from '../command';

type LabelFree = { rankme: number; retrieval: number; dim: number };

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

export const command: Command = {
  name: 'train-eval',
  summary: 'train (or fine-tune) on a labelled folder for a time or step budget, printing k-NN accuracy along the way',
  usage: 'train-eval --data DIR (--minutes M | --steps N) [--preset P] [--from FILE|NAME] [--epochs N] [--points N] [--set key=value ...]',
  options: {
    data: { type: 'string' },
    minutes: { type: 'string' },
    steps: { type: 'string' },
    preset: { type: 'string' },
    from: { type: 'string' },
    epochs: { type: 'string' },
    points: { type: 'string' },
    set: { type: 'string', multiple: true },
  },
  async run(ctx) {
    const data = stringOpt(ctx, 'data');
    const minutes = numberOpt(ctx, 'minutes');
    // a step budget gives the same run on any machine (a time budget gives a slower one fewer steps)
    const maxSteps = intOpt(ctx, 'steps', 1);
    if (!data || (minutes === undefined && maxSteps === undefined) || (minutes !== undefined && minutes <= 0)) {
      throw new UsageError('--data DIR and --minutes M or --steps N are required');
    }
    const dataDir = resolve(data);
    if (!statSync(dataDir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`Folder not found: ${dataDir}`);
    const points = intOpt(ctx, 'points', 1) ?? 3;
    const own = ctx.values.catalog === undefined;
    const tempDir = own ? mkdtempSync(join(tmpdir(), 'dino-train-eval-')) : undefined;
    const catalog = tempDir ? openCatalog(tempDir) : ctx.catalog();
    const t0 = Date.now();
    try {
      await startImport(catalog, [dataDir]).promise;
      const set = labelledSet(catalog, dataDir);
      const overrides = setOverrides(ctx);
      const { preset, config } = await resolveConfig({ preset: stringOpt(ctx, 'preset'), epochs: intOpt(ctx, 'epochs', 1), overrides });
      const pixels = scoreFeatures(await pixelFeatures(set), set.labels);
      const net = netConfigs(config).teacher;
      const random = scoreFeatures(await randomFeatures(net, set, undefined, config.seed), set.labels);
      const labelFree = { random: await labelFreeScores(catalog, 'random', net, config.seed), pixels: await labelFreeScores(catalog, 'pixels', net) };
      ctx.log(
        `train-eval: pixels k-NN20 ${pixels.knn['20']!.toFixed(3)} (retrieval ${labelFree.pixels.retrieval.toFixed(3)}, RankMe ${labelFree.pixels.rankme.toFixed(1)}), ` +
          `random init ${random.knn['20']!.toFixed(3)} (retrieval ${labelFree.random.retrieval.toFixed(3)}, RankMe ${labelFree.random.rankme.toFixed(1)})`,
      );
      const curve: TrainEvalResult['curve'] = [];
      let trainedMinutes = 0;
      let steps = 0;
      let totalSteps = 0;
      for (let p = 0; p < points; p++) {
        const r = await train(catalog, {
          preset,
          overrides: { ...overrides, epochs: config.epochs },
          from: p === 0 ? stringOpt(ctx, 'from') : undefined,
          resume: p > 0,
          embed: false,
          maxMinutes: minutes === undefined ? undefined : minutes / points,
          maxSteps: maxSteps === undefined ? undefined : Math.ceil((maxSteps * (p + 1)) / points) - steps,
        });
        trainedMinutes += (r.seconds - 0) / 60;
        steps = r.steps;
        totalSteps = r.totalSteps;
        const s = scoreFeatures(await modelFeatures(catalog, r.model, set), set.labels);
        const q = r.quality;
        curve.push({
          minutes: Number(trainedMinutes.toFixed(2)), knn20: s.knn['20']!, knn10: s.knn['10']!, steps: r.steps, loss: r.finalLoss,
          rankme: q?.rankme ?? null, retrieval: q?.retrieval ?? null, dim: q?.dim ?? null,
        });
        ctx.log(
          `train-eval: ${trainedMinutes.toFixed(1)} min, step ${r.steps}/${r.totalSteps}, k-NN20 ${s.knn['20']!.toFixed(3)}` +
            (q ? `, retrieval ${q.retrieval.toFixed(3)}, RankMe ${q.rankme.toFixed(1)}` : ''),
        );
        if (!r.stoppedEarly) break;
      }
      const out: TrainEvalResult = {
        data: dataDir, preset, n: set.ids.length, classes: set.classes.length, curve,
        random: random.knn['20']!, pixels: pixels.knn['20']!, labelFree, steps, totalSteps, seconds: (Date.now() - t0) / 1000,
      };
      return out;
    } finally {
      if (tempDir) {
        await catalog.close();
        rmSync(tempDir, { recursive: true, force: true });
      }
    }
  },
};
