import { inScratchCatalog, labelledFolder } from '../../services/labelled-eval/scratch-catalog';
import { trainEval } from '../../services/labelled-eval/learning-curve';
import { intOpt, numberOpt, setOverrides, stringOpt, UsageError, type Command } from '../command';

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
    const maxSteps = intOpt(ctx, 'steps', 1);
    if (!data || (minutes === undefined && maxSteps === undefined) || (minutes !== undefined && minutes <= 0)) {
      throw new UsageError('--data DIR and --minutes M or --steps N are required');
    }
    const options = {
      dataDir: labelledFolder(data),
      preset: stringOpt(ctx, 'preset'),
      from: stringOpt(ctx, 'from'),
      epochs: intOpt(ctx, 'epochs', 1),
      overrides: setOverrides(ctx),
      minutes,
      maxSteps,
      points: intOpt(ctx, 'points', 1) ?? 3,
    };
    // its own temporary catalog unless --catalog names one
    return inScratchCatalog(ctx.values.catalog === undefined ? undefined : ctx.catalog, 'dino-train-eval-', (catalog) => trainEval(catalog, options, ctx.log));
  },
};
