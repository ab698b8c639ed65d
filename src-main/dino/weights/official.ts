// The official DINO ViT checkpoints (facebookresearch/dino, hubconf.py and README), by the names
// the app offers. The backbone files hold the teacher backbone (the official *_pretrain.pth);
// the full checkpoints also hold student, head, optimizer and training args (fine-tuning starts
// the head from there). dl.fbaipublicfiles.com publishes no size or checksum for these files (the
// sha256 Hugging Face shows is of its own facebook/dino-* files, another layout the app does not
// download), and none could be fetched from here to pin: `size` and `sha256` stay unset, and the
// download records the first complete copy of each file in the catalog and checks every later one
// against it (download.ts, PINS_FILE). A value set here, or given by the caller, wins.

export interface OfficialCheckpoint {
  name: string;
  /** what the file holds */
  kind: 'backbone' | 'full-checkpoint';
  arch: 'vit_small' | 'vit_base';
  patchSize: 8 | 16;
  /** folder on the download host */
  dir: string;
  file: string;
  /** bytes, when known */
  size?: number;
  sha256?: string;
  /** published ImageNet k-NN / linear top-1, for the picker */
  knn: number;
  linear: number;
}

const BASE = [
  { id: 'vits16', dir: 'dino_deitsmall16_pretrain', arch: 'vit_small', patchSize: 16, knn: 74.5, linear: 77.0 },
  { id: 'vits8', dir: 'dino_deitsmall8_pretrain', arch: 'vit_small', patchSize: 8, knn: 78.3, linear: 79.7 },
  { id: 'vitb16', dir: 'dino_vitbase16_pretrain', arch: 'vit_base', patchSize: 16, knn: 76.1, linear: 78.2 },
  { id: 'vitb8', dir: 'dino_vitbase8_pretrain', arch: 'vit_base', patchSize: 8, knn: 77.4, linear: 80.1 },
] as const;

export const OFFICIAL_CHECKPOINTS: readonly OfficialCheckpoint[] = BASE.flatMap((b) => [
  { name: `dino_${b.id}`, kind: 'backbone' as const, arch: b.arch, patchSize: b.patchSize, dir: b.dir, file: `${b.dir}.pth`, knn: b.knn, linear: b.linear },
  {
    name: `dino_${b.id}_full`, kind: 'full-checkpoint' as const, arch: b.arch, patchSize: b.patchSize, dir: b.dir,
    file: `${b.dir}_full_checkpoint.pth`, knn: b.knn, linear: b.linear,
  },
]);

export const DEFAULT_WEIGHTS_BASE_URL = 'https://dl.fbaipublicfiles.com/dino';

/** Looks a checkpoint up by name ('dino_vits16', 'dino_vitb8_full', ...) or by its file name. */
export function findOfficial(nameOrFile: string): OfficialCheckpoint | undefined {
  return OFFICIAL_CHECKPOINTS.find((c) => c.name === nameOrFile || c.file === nameOrFile);
}

/**
 * Download URL; the host can be replaced with DINO_WEIGHTS_BASE_URL (a mirror, or a local server in
 * tests) — the folder and file layout below it stay the official ones.
 */
export function officialUrl(c: OfficialCheckpoint, baseUrl = process.env.DINO_WEIGHTS_BASE_URL || DEFAULT_WEIGHTS_BASE_URL): string {
  return `${baseUrl.replace(/\/+$/, '')}/${c.dir}/${c.file}`;
}
