import { OUTCOMES, type Outcome } from '../../dino/train/outcomes';
import { PRESETS } from '../../dino/train/presets';
import { withOutcome } from '../../services/start-paths';
import { startTraining, type TrainOptions } from '../../services/trainer';
import { intOpt, numberOpt, setOverrides, stringOpt, UsageError, type Command } from '../command';

export const command: Command = {
  name: 'train',
  summary: 'train (or fine-tune) a DINO model on the catalog photos, then embed them',
  usage:
    `train [--outcome ${OUTCOMES.join('|')}] [--preset ${PRESETS.map((p) => p.name).join('|')}] [--epochs N] [--from FILE|NAME] [--resume] ` +
    '[--set key=value ...] [--max-steps N] [--minutes M] [--no-embed]',
  options: {
    outcome: { type: 'string' },
    preset: { type: 'string' },
    epochs: { type: 'string' },
    from: { type: 'string' },
    resume: { type: 'boolean' },
    set: { type: 'string', multiple: true },
    'max-steps': { type: 'string' },
    minutes: { type: 'string' },
    'no-embed': { type: 'boolean' },
    'checkpoint-seconds': { type: 'string' },
  },
  async run(ctx) {
    const overrides = setOverrides(ctx);
    const catalog = ctx.catalog();
    const checkpointSeconds = numberOpt(ctx, 'checkpoint-seconds');
    const outcome = stringOpt(ctx, 'outcome');
    if (outcome !== undefined && !(OUTCOMES as readonly string[]).includes(outcome)) throw new UsageError(`--outcome must be one of ${OUTCOMES.join(', ')}`);
    const opts: TrainOptions = {
      preset: stringOpt(ctx, 'preset'),
      from: stringOpt(ctx, 'from'),
      epochs: intOpt(ctx, 'epochs', 1),
      overrides,
      resume: Boolean(ctx.values.resume),
      embed: !ctx.values['no-embed'],
      maxSteps: intOpt(ctx, 'max-steps', 1),
      maxMinutes: numberOpt(ctx, 'minutes'),
      checkpointEveryMs: checkpointSeconds === undefined ? undefined : checkpointSeconds * 1000,
    };
    // an outcome picks the preset, epochs and start for this backend; what is given explicitly wins
    const { promise } = startTraining(catalog, outcome ? await withOutcome(catalog, outcome as Outcome, opts) : opts);
    const r = await promise;
    return {
      model: r.model, run: r.run, preset: r.preset, epochs: r.epochs, steps: r.steps, totalSteps: r.totalSteps,
      finalLoss: r.finalLoss, stoppedEarly: r.stoppedEarly, seconds: r.seconds, backend: r.backend,
      embedded: r.embedding?.embedded ?? 0,
      quality: r.quality,
      ...(r.kept ? { kept: r.kept } : {}),
      note: r.note,
    };
  },
};
