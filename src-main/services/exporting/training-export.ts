import { resolve } from 'node:path';
import { presentImages } from '../../db/repos/images';
import { exportImageFolderForTraining } from '../../export';
import type { Catalog } from '../catalog/catalog';

/**
 * `export-training`: the catalog's photos laid out (symlinks, no copies) as the ImageFolder the
 * official PyTorch DINO training code reads, and the command that trains on them.
 */
export function exportForTraining(catalog: Catalog, to: string): { dataPath: string; folder: string; exported: number; command: string } {
  const images = presentImages(catalog.db);
  if (images.length === 0) throw new Error('The catalog has no photos: import a folder first.');
  const r = exportImageFolderForTraining(images, resolve(to));
  return {
    dataPath: r.dataPath,
    folder: r.folder,
    exported: r.count,
    command: `torchrun --nproc_per_node=NUM_GPUS main_dino.py --arch vit_small --patch_size 16 --data_path ${r.dataPath} --output_dir OUT`,
  };
}
