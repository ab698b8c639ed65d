import type { TrainMetricDTO } from '../../../src-shared/api';
import type { TrainQualityDTO } from '../../../src-shared/quality';
import { gpuMemoryBudget, sizedForGpu } from '../../dino/train/gpu-memory';
import { defaultPresetName, getPreset, withOverrides, type DinoConfig } from '../../dino/train/presets';
import type { ViTArchInfo } from '../../dino/weights/inspect';
import { probeBackend, type BackendPreference } from '../backends/backend-probe';

// What a training run is asked for, and the DINO config it runs with: a preset for this backend,
// the architecture of the weights a fine-tune starts from, the user's overrides.

export interface TrainOptions {
  preset?: string;
  epochs?: number;
  /** any DinoConfig field by name */
  overrides?: Record<string, unknown>;
  resume?: boolean;
  /** fine-tune: start student and teacher from these weights (a file or an official name) */
  from?: string;
  /** embed the catalog with the new model when training ends (default true) */
  embed?: boolean;
  maxSteps?: number;
  maxMinutes?: number;
  checkpointEveryMs?: number;
  /** score the label-free quality at the start and every checkpoint (default true) */
  quality?: boolean;
  onMetric?(m: TrainMetricDTO): void;
  onQuality?(q: TrainQualityDTO): void;
}

/** The preset and full config a run gets here (and the backend it was chosen for). */
export async function resolveConfig(
  opts: Pick<TrainOptions, 'preset' | 'epochs' | 'overrides'>,
  pretrained?: ViTArchInfo,
  preference: BackendPreference = 'auto',
): Promise<{ preset: string; config: DinoConfig; backend: string }> {
  const backend = await probeBackend(preference);
  const preset = opts.preset ?? (pretrained ? (backend.gpu ? 'finetune-gpu' : 'finetune-cpu') : defaultPresetName(backend.description));
  const p = getPreset(preset);
  const config = withOverrides(p.config, {
    ...(pretrained ? architectureOf(pretrained) : {}),
    ...opts.overrides,
    ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}),
  });
  // a GPU preset on a WebGPU adapter: as many micro-batches as its memory needs (unless set by hand)
  if (p.target === 'gpu' && backend.adapter && opts.overrides?.accumSteps === undefined) {
    return { preset, config: sizedForGpu(config, gpuMemoryBudget(backend.adapter.maxBufferSize, process.env)), backend: backend.description };
  }
  return { preset, config, backend: backend.description };
}

/** The config fields fine-tuning takes from the pretrained weights: the network must match them. */
function architectureOf(a: ViTArchInfo): Partial<DinoConfig> {
  if (a.arch === 'custom') {
    throw new Error(`Fine-tuning needs a ViT-Tiny, -Small or -Base (these weights are ${a.embedDim} wide and ${a.depth} deep); embed with them instead (models add).`);
  }
  return {
    arch: a.arch,
    patchSize: a.patchSize,
    depth: null,
    imgSize: a.imgSize,
    ...(a.head ? { outDim: a.head.outDim, hiddenDim: a.head.hiddenDim, bottleneckDim: a.head.bottleneckDim, nlayers: a.head.nlayers } : {}),
  };
}

/**
 * Refuses unknown or out-of-range hyperparameters before a job starts (the API answers it as a bad
 * request). With `from`, the network's shape comes from the weights, so only names and types are
 * checked here. Loads the training code (tfjs): call it when a run is about to start.
 */
export async function checkTrainOptions(opts: Pick<TrainOptions, 'preset' | 'epochs' | 'overrides' | 'from'>, preference: BackendPreference): Promise<void> {
  const { config } = await resolveConfig(opts, undefined, preference);
  if (!opts.from) (await import('../../dino/train/trainer')).normalizeConfig(config);
}
