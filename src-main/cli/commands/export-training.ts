import { exportForTraining } from '../../services/exporting/training-export';
import { stringOpt, UsageError, type Command } from '../command';

export const command: Command = {
  name: 'export-training',
  summary: "lay the catalog's photos out (symlinks, no copies) for the official PyTorch DINO training code",
  usage: 'export-training --to DIR',
  readOnly: true,
  options: { to: { type: 'string' } },
  async run(ctx) {
    const to = stringOpt(ctx, 'to');
    if (!to) throw new UsageError('--to DIR is required');
    return exportForTraining(ctx.catalog(), to);
  },
};
