import { resolve } from 'node:path';
import { presentImages } from '../../db/repos/images';
import { exportImageFolderForTraining } from '../../export';
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
    const images = presentImages(ctx.catalog().db);
    if (images.length === 0) throw new Error('The catalog has no photos: import a folder first.');
    const r = exportImageFolderForTraining(images, resolve(to));
    return {
      dataPath: r.dataPath,
      folder: r.folder,
      exported: r.count,
      command: `torchrun --nproc_per_node=NUM_GPUS main_dino.py --arch vit_small --patch_size 16 --data_path ${r.dataPath} --output_dir OUT`,
    };
  },
};
