import type { OfficialCheckpoint } from './official';

/** How the app names an official checkpoint to a user: "DINO ViT-S/16" (the paper's names). */
export function officialTitle(c: Pick<OfficialCheckpoint, 'arch' | 'patchSize'>): string {
  return `DINO ${c.arch === 'vit_small' ? 'ViT-S' : 'ViT-B'}/${c.patchSize}`;
}
