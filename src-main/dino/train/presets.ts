/**
 * Named training recipes. Every hyperparameter of main_dino.py that matters here is a field, so a
 * preset is a complete config and any field can be overridden by name. Defaults follow the official
 * code; the CPU presets shrink the model, crops and head so a few thousand photos train in minutes on
 * the wasm backend, and raise the base lr (the official 5e-4 per 256 images, scaled linearly, is tiny
 * at batch 16 and learns too slowly in a short run).
 */
import type { VitArch } from '../model/vit';

export interface DinoConfig {
  arch: VitArch;
  patchSize: number;
  /** override the architecture's depth (fewer blocks train faster on CPU); null = the arch's */
  depth: number | null;
  /**
   * override the architecture's width (its heads then follow the family's 64 per head where that
   * divides, as `defaultNumHeads`); width 96 takes ~40 % less time per step than 192 on a CPU; null = the arch's
   */
  embedDim: number | null;
  /** image size the position embedding is laid out for; other crop sizes interpolate it */
  imgSize: number;
  dropPathRate: number;
  // multi-crop
  globalSize: number;
  localSize: number;
  nLocal: number;
  globalScaleMin: number;
  globalScaleMax: number;
  localScaleMin: number;
  localScaleMax: number;
  interpolation: 'bicubic' | 'bilinear';
  /**
   * per-view probabilities of colour jitter and grayscale (the official 0.8 and 0.2). Lower keeps the
   * colour cues a small collection may be told apart by: measured on caltech10, 0 removes the early
   * fall of k-NN below random init (src-main/dino/README.md)
   */
  colorJitterProb: number;
  grayscaleProb: number;
  /**
   * scales the paper's per-view blur probabilities (1.0 on global 1, 0.1 on global 2, 0.5 on the
   * locals): 1 = the paper's, 0 = no blur (at CPU crop sizes of 32-64 px a sigma of up to 2 px is a
   * strong blur; turning it off did not help on caltech10, src-main/dino/README.md)
   */
  blurAmount: number;
  /** solarisation probability of the second global view (the paper's 0.2) */
  solarizeProb: number;
  // head
  outDim: number;
  hiddenDim: number;
  bottleneckDim: number;
  nlayers: number;
  normLastLayer: boolean;
  /** BatchNorm in the head is not implemented (the official default is off) */
  useBnInHead: false;
  // loss
  teacherTemp: number;
  warmupTeacherTemp: number;
  warmupTeacherTempEpochs: number;
  studentTemp: number;
  centerMomentum: number;
  // optimisation
  batchSize: number;
  epochs: number;
  /** base learning rate for a batch of 256; the run uses lr * batchSize / 256 */
  lr: number;
  minLr: number;
  warmupEpochs: number;
  weightDecay: number;
  weightDecayEnd: number;
  momentumTeacher: number;
  clipGrad: number;
  freezeLastLayer: number;
  /**
   * gradient accumulation: each batch of batchSize photos runs as accumSteps micro-batches of
   * batchSize / accumSteps with one optimizer step, so a large batch fits in little memory; the
   * schedules and the lr scaling still see batchSize (1 = no accumulation)
   */
  accumSteps: number;
  /** fine-tuning: freeze the first N transformer blocks and the patch/[CLS]/position embeddings (0 = none) */
  freezeBlocks: number;
  seed: number;
}

export interface Preset {
  name: string;
  description: string;
  /** which backends it is meant for */
  target: 'cpu' | 'gpu';
  config: DinoConfig;
}

/** main_dino.py's defaults for ViT-S/16 (with the recommended teacher-temperature warmup) */
export const OFFICIAL_VIT_S16: DinoConfig = {
  arch: 'vit_small',
  patchSize: 16,
  depth: null,
  embedDim: null,
  imgSize: 224,
  dropPathRate: 0.1,
  globalSize: 224,
  localSize: 96,
  nLocal: 10,
  globalScaleMin: 0.4,
  globalScaleMax: 1,
  localScaleMin: 0.05,
  localScaleMax: 0.4,
  interpolation: 'bicubic',
  colorJitterProb: 0.8,
  grayscaleProb: 0.2,
  blurAmount: 1,
  solarizeProb: 0.2,
  outDim: 65536,
  hiddenDim: 2048,
  bottleneckDim: 256,
  nlayers: 3,
  normLastLayer: true,
  useBnInHead: false,
  teacherTemp: 0.07,
  warmupTeacherTemp: 0.04,
  warmupTeacherTempEpochs: 30,
  studentTemp: 0.1,
  centerMomentum: 0.9,
  batchSize: 64,
  epochs: 100,
  lr: 5e-4,
  minLr: 1e-6,
  warmupEpochs: 10,
  weightDecay: 0.04,
  weightDecayEnd: 0.4,
  momentumTeacher: 0.996,
  clipGrad: 3,
  freezeLastLayer: 1,
  accumSteps: 1,
  freezeBlocks: 0,
  seed: 0,
};

const CPU_MICRO: DinoConfig = {
  ...OFFICIAL_VIT_S16,
  arch: 'vit_tiny',
  depth: 6,
  imgSize: 64,
  dropPathRate: 0,
  globalSize: 64,
  localSize: 32,
  nLocal: 4,
  outDim: 2048,
  hiddenDim: 1024,
  bottleneckDim: 256,
  teacherTemp: 0.04,
  warmupTeacherTemp: 0.04,
  warmupTeacherTempEpochs: 0,
  batchSize: 32,
  epochs: 5,
  lr: 4e-3,
  minLr: 1e-5,
  warmupEpochs: 1,
  momentumTeacher: 0.99,
};

/** Fields added after the first release: a config saved before them gets the official value (normalizeConfig). */
export const ADDED_FIELDS = ['accumSteps', 'freezeBlocks', 'colorJitterProb', 'grayscaleProb', 'embedDim', 'blurAmount', 'solarizeProb'] as const satisfies readonly (keyof DinoConfig)[];

/** cpu-micro without colour jitter or grayscale, over the 100 epochs its learning needs */
const CPU_MICRO_COLOUR: DinoConfig = { ...CPU_MICRO, colorJitterProb: 0, grayscaleProb: 0, epochs: 100 };

export const PRESETS: Preset[] = [
  {
    name: 'cpu-tiny',
    description: 'ViT-Tiny/16 at 96 px (6 local crops of 48 px), K 4096, batch 16: the reference CPU step of the benchmark',
    target: 'cpu',
    config: {
      ...OFFICIAL_VIT_S16,
      arch: 'vit_tiny',
      imgSize: 96,
      dropPathRate: 0,
      globalSize: 96,
      localSize: 48,
      nLocal: 6,
      outDim: 4096,
      hiddenDim: 2048,
      bottleneckDim: 256,
      teacherTemp: 0.04,
      warmupTeacherTemp: 0.04,
      warmupTeacherTempEpochs: 0,
      batchSize: 16,
      epochs: 10,
      lr: 4e-3,
      minLr: 1e-5,
      warmupEpochs: 1,
      momentumTeacher: 0.99,
    },
  },
  {
    name: 'cpu-micro',
    description: 'ViT-Tiny/16 with 6 blocks at 64 px (4 local crops of 32 px), K 2048, batch 32: the CPU/wasm default',
    target: 'cpu',
    config: CPU_MICRO,
  },
  {
    // Measured on caltech10 (600 photos): the paper's colour jitter and grayscale erase the colour
    // cues a small collection is told apart by, and the CPU run never earns them back; without them
    // the 100-epoch schedule ends at k-NN20 0.308 against 0.267 with them and 0.240 at random init.
    name: 'cpu-micro-colour',
    description: 'cpu-micro that keeps colour (no colour jitter or grayscale), 100 epochs: for a few hundred photos; what learnt best on CPU here',
    target: 'cpu',
    config: CPU_MICRO_COLOUR,
  },
  {
    // Measured on caltech10: width 96 costs ~40 % less per step than 192 and, with 8 local crops
    // instead of 4, ends the same 100-epoch schedule about where cpu-micro-colour does (0.317 vs
    // 0.322 k-NN20; random init 0.245 / 0.240) in 20.7 instead of 26.0 min
    name: 'cpu-narrow',
    description: 'cpu-micro-colour on a ViT-Tiny narrowed to width 96 (3 heads), with 8 local crops: the same k-NN on caltech10 in less time',
    target: 'cpu',
    config: { ...CPU_MICRO_COLOUR, embedDim: 96, nLocal: 8 },
  },
  {
    // Measured on caltech10 (src-main/dino/README.md): more, smaller patches teach a narrow ViT more
    // per step than 16 px patches teach a wider one. Against cpu-narrow, k-NN20 0.313 instead of ~0.29
    // after 1200 steps (random init 0.240), at about half the time per step.
    name: 'cpu-patch8',
    description: 'cpu-narrow on a ViT of width 64 (1 head), 4 blocks, patch 8 at 48 px (8 local crops of 24 px), head 512 / K 1024: learns fastest per minute on CPU here',
    target: 'cpu',
    config: {
      ...CPU_MICRO_COLOUR,
      patchSize: 8,
      embedDim: 64,
      depth: 4,
      imgSize: 48,
      globalSize: 48,
      localSize: 24,
      nLocal: 8,
      hiddenDim: 512,
      outDim: 1024,
    },
  },
  {
    name: 'gpu-tiny',
    description: 'ViT-Tiny/16 at 224 px (8 local crops of 96 px), K 16384, batch 64',
    target: 'gpu',
    config: { ...OFFICIAL_VIT_S16, arch: 'vit_tiny', nLocal: 8, outDim: 16384, epochs: 100, lr: 1e-3 },
  },
  {
    name: 'gpu-small',
    description: 'the official ViT-S/16 recipe: 224 px, 10 local crops of 96 px, K 65536, batch 64, 100 epochs',
    target: 'gpu',
    config: { ...OFFICIAL_VIT_S16 },
  },
  {
    // Fine-tuning keeps the pretrained features: a small lr, a slow teacher (momentum near 1) and a
    // few epochs move them towards the user's photos without forgetting. The architecture and, when
    // the checkpoint has one, the head come from the weights (`train --from`).
    name: 'finetune-cpu',
    description: 'fine-tune official weights on CPU: 112 px globals, 4 local crops of 48 px, batch 16, 3 epochs, lr 5e-5',
    target: 'cpu',
    config: {
      ...OFFICIAL_VIT_S16,
      dropPathRate: 0,
      globalSize: 112,
      localSize: 48,
      nLocal: 4,
      outDim: 4096,
      batchSize: 16,
      epochs: 3,
      lr: 5e-5,
      minLr: 1e-6,
      warmupEpochs: 0,
      warmupTeacherTempEpochs: 0,
      momentumTeacher: 0.999,
    },
  },
  {
    name: 'finetune-gpu',
    description: 'fine-tune official weights on a GPU: 224 px, 10 local crops of 96 px, batch 64, 10 epochs, lr 5e-5',
    target: 'gpu',
    config: { ...OFFICIAL_VIT_S16, epochs: 10, lr: 5e-5, minLr: 1e-6, warmupEpochs: 1, warmupTeacherTempEpochs: 0, momentumTeacher: 0.999 },
  },
];

export function getPreset(name: string): Preset {
  const p = PRESETS.find((x) => x.name === name);
  if (!p) throw new Error(`unknown preset "${name}"; presets: ${PRESETS.map((x) => x.name).join(', ')}`);
  return p;
}

/** The preset used when none is named: a GPU recipe only on CUDA; on a CPU the one that learns fastest here. */
export function defaultPresetName(backendDescription: string): string {
  return /CUDA|gpu/i.test(backendDescription) ? 'gpu-small' : 'cpu-patch8';
}

/** Applies overrides by field name, checking each name and type against the base config. */
export function withOverrides(base: DinoConfig, overrides: Record<string, unknown>): DinoConfig {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) continue;
    if (!(k in base)) throw new Error(`unknown training option "${k}"`);
    const cur = (base as unknown as Record<string, unknown>)[k];
    if (cur !== null && typeof cur !== typeof v) throw new Error(`option ${k} must be a ${typeof cur}`);
    out[k] = v;
  }
  return out as unknown as DinoConfig;
}

/**
 * The ranges a config's numeric fields must lie in (inclusive; int = whole numbers), so that a typo
 * in an override stops with a message before a run starts instead of training on nonsense.
 */
export const CONFIG_LIMITS: Partial<Record<keyof DinoConfig, { min: number; max: number; int?: boolean }>> = {
  patchSize: { min: 4, max: 32, int: true },
  imgSize: { min: 16, max: 1024, int: true },
  dropPathRate: { min: 0, max: 0.9 },
  globalSize: { min: 16, max: 1024, int: true },
  localSize: { min: 8, max: 1024, int: true },
  nLocal: { min: 0, max: 32, int: true },
  globalScaleMin: { min: 0.01, max: 1 },
  globalScaleMax: { min: 0.01, max: 1 },
  localScaleMin: { min: 0.01, max: 1 },
  localScaleMax: { min: 0.01, max: 1 },
  colorJitterProb: { min: 0, max: 1 },
  blurAmount: { min: 0, max: 1 },
  solarizeProb: { min: 0, max: 1 },
  grayscaleProb: { min: 0, max: 1 },
  outDim: { min: 2, max: 262_144, int: true },
  hiddenDim: { min: 8, max: 16_384, int: true },
  bottleneckDim: { min: 8, max: 4096, int: true },
  nlayers: { min: 1, max: 8, int: true },
  teacherTemp: { min: 1e-3, max: 1 },
  warmupTeacherTemp: { min: 1e-3, max: 1 },
  warmupTeacherTempEpochs: { min: 0, max: 10_000, int: true },
  studentTemp: { min: 1e-3, max: 10 },
  centerMomentum: { min: 0, max: 1 },
  batchSize: { min: 2, max: 4096, int: true },
  epochs: { min: 1, max: 10_000, int: true },
  lr: { min: 0, max: 1 },
  minLr: { min: 0, max: 1 },
  warmupEpochs: { min: 0, max: 10_000, int: true },
  weightDecay: { min: 0, max: 10 },
  weightDecayEnd: { min: 0, max: 10 },
  momentumTeacher: { min: 0, max: 1 },
  clipGrad: { min: 0, max: 1e6 },
  freezeLastLayer: { min: 0, max: 10_000, int: true },
  accumSteps: { min: 1, max: 4096, int: true },
  freezeBlocks: { min: 0, max: 48, int: true },
  seed: { min: 0, max: 2 ** 31 - 1, int: true },
};

/** Checks every field with a limit; throws with the field's name and its range. */
export function checkConfigLimits(c: DinoConfig): void {
  for (const [k, lim] of Object.entries(CONFIG_LIMITS)) {
    const x = (c as unknown as Record<string, unknown>)[k];
    if (typeof x !== 'number' || !(x >= lim.min && x <= lim.max) || (lim.int && !Number.isInteger(x))) {
      throw new Error(`${k} (${String(x)}) must be ${lim.int ? 'a whole number' : 'a number'} from ${lim.min} to ${lim.max}`);
    }
  }
  // the architecture overrides: null keeps the arch's own value
  for (const [k, lim] of [['depth', { min: 1, max: 48 }], ['embedDim', { min: 16, max: 2048 }]] as const) {
    const x = c[k];
    if (x !== null && (typeof x !== 'number' || !Number.isInteger(x) || x < lim.min || x > lim.max || (k === 'embedDim' && x % 16 !== 0))) {
      throw new Error(`${k} (${String(x)}) must be null (the architecture's) or a whole number from ${lim.min} to ${lim.max}${k === 'embedDim' ? ', a multiple of 16' : ''}`);
    }
  }
  if (c.globalScaleMin > c.globalScaleMax || c.localScaleMin > c.localScaleMax) {
    throw new Error('a crop scale range must run from its minimum to its maximum (globalScaleMin <= globalScaleMax, localScaleMin <= localScaleMax)');
  }
}

