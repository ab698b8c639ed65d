// The one API contract between the core and its faces (Electron preload, web mode, CLI).
// A channel is a constant key of InvokeChannels; "find references" shows every call site.
// This file imports only from src-shared (which imports nothing else), so both tsconfigs can include it.
import type { QualityDTO, TrainQualityDTO } from './quality';

export type ImageStatus = 'ok' | 'failed' | 'gone';

export interface ImageDTO {
  id: number;
  path: string;
  bytes: number;
  width: number | null;
  height: number | null;
  takenAt: string | null;
  status: ImageStatus;
  error: string | null;
}

export interface FailureDTO {
  id: number;
  path: string;
  reason: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  offset: number;
}

export type JobKind = 'import' | 'train' | 'embed' | 'cluster' | 'project' | 'export' | 'download' | 'calibrate';
export type JobState = 'running' | 'paused' | 'done' | 'failed' | 'cancelled';

export interface JobDTO {
  id: string;
  /** rises with every change: a client keeps the highest it saw (events and jobs:list can cross) */
  version: number;
  kind: JobKind;
  state: JobState;
  phase: string;
  done: number;
  total: number;
  /** items per second over the recent window */
  rate: number;
  etaSeconds: number | null;
  startedAt: number;
  /** free-form counters (found, skipped, failed, ...) */
  counts: Record<string, number>;
  error: string | null;
  /** the job's result once state is 'done' */
  result?: unknown;
}

export interface ImportResult {
  imported: number;
  unchanged: number;
  updated: number;
  removed: number;
  failed: { path: string; reason: string }[];
  seconds: number;
}

export interface ModelDTO {
  id: number;
  name: string;
  arch: string;
  patchSize: number;
  dim: number;
  source: 'trained' | 'imported';
  createdAt: string;
  embedded: number;
  /** null until measured (after embedding) */
  quality: QualityDTO | null;
}

export interface StatusDTO {
  catalog: string;
  images: number;
  failed: number;
  gone: number;
  models: ModelDTO[];
  activeModel: number | null;
  /** the compute backend training and embedding use, and its device (a WebGPU adapter: vendor, architecture, API) */
  backend: string;
  /** one line per better backend passed over, saying why (e.g. no GPU adapter) */
  backendFallbacks: string[];
  /** what to install for a faster backend (e.g. the native BLAS path on wasm alone); null when nothing */
  backendHint: string | null;
  /** what the Settings backend picker offers on this machine */
  backendOptions: BackendOptionDTO[];
  version: string;
}

/** A Settings backend choice and what it runs on here: "GPU (apple metal-3, Metal)", "CPU (wasm + BLAS)". */
export interface BackendOptionDTO {
  value: SettingsDTO['backend'];
  label: string;
  /** false: nothing on this machine for it (no usable GPU); `detail` says why */
  available: boolean;
  /** the backend in full, or why it is unavailable */
  detail: string;
}

export interface SampleDTO {
  path: string;
  count: number;
  licence: string;
}

export interface PresetDTO {
  name: string;
  description: string;
  arch: string;
  /** seconds per epoch per 1000 photos on the active backend, measured; null when not measured */
  secondsPerEpochPer1000: number | null;
  /** the preset a run gets when none is named, on the active backend */
  isDefault: boolean;
  config: Record<string, number | string | boolean>;
}

export type Outcome = 'quick' | 'thorough' | 'finetune';

/** A training choice by outcome (the Training panel's first choice; the presets are under Advanced). */
export interface OutcomeDTO {
  outcome: Outcome;
  title: string;
  description: string;
  /** the engineering preset it runs on this backend */
  preset: string;
  epochs: number;
  /** optimizer steps for this collection */
  steps: number;
  /** training time for this collection on this backend, from a measured step time; null until measured */
  secondsEstimate: number | null;
  /** starts from official weights (downloaded first when missing) */
  fromWeights: boolean;
  isDefault: boolean;
}

/** A training run as stored: its preset and the settings it changed from that preset. */
export interface TrainRunDTO {
  id: number;
  preset: string;
  state: string;
  /** config fields whose value differs from the preset's (all fields when the preset is unknown) */
  changed: Record<string, number | string | boolean | null>;
  startedAt: string;
  endedAt: string | null;
  modelId: number | null;
  /** what the run decided about the model it kept, e.g. "fine-tuning did not improve on the start: kept DINO ViT-S/16" */
  note: string | null;
}

export interface TrainMetricDTO {
  runId: number;
  epoch: number;
  step: number;
  totalSteps: number;
  loss: number;
  lr: number;
  momentum: number;
  teacherTemp: number;
  teacherEntropy: number;
  klTeacherStudent: number;
  imgPerSec: number;
  dataWaitFraction: number;
  etaSeconds: number | null;
  collapse: 'uniform' | 'one-prototype' | null;
}

export interface NeighbourDTO {
  id: number;
  path: string;
  similarity: number;
}

export interface ClusterDTO {
  id: number;
  name: string;
  size: number;
  cohesion: number;
  representatives: number[];
}

export interface ClusteringDTO {
  id: number;
  modelId: number;
  k: number;
  /** 'spherical-kmeans' or 'density' */
  method: string;
  /** how auto-k chose k; null when k was given (or for density) */
  criterion: string | null;
  /** photos in no cluster (density leaves them unassigned; 0 for k-means) */
  noise: number;
  /** density: the smallest group counted as a cluster; null for k-means */
  minClusterSize: number | null;
  createdAt: string;
  clusters: ClusterDTO[];
}

/** One point of the map, as the core computes it (services); it travels packed, see PackedMapPoints. */
export interface MapPointDTO {
  id: number;
  x: number;
  y: number;
  cluster: number | null;
}

/** the `clusters` entry of a point that is in no cluster */
export const NO_CLUSTER = -1;

/**
 * The map's points as columns: point i is (ids[i], xs[i], ys[i], clusters[i]). What the renderer
 * works with: unpackMapPoints (src-shared/map-points.ts) returns views over the received bytes,
 * no per-point objects and no copy.
 */
export interface MapPointColumns {
  readonly count: number;
  readonly ids: Uint32Array<ArrayBuffer>;
  readonly xs: Float32Array<ArrayBuffer>;
  readonly ys: Float32Array<ArrayBuffer>;
  /** the point's cluster in the clustering the map is coloured by; NO_CLUSTER for none */
  readonly clusters: Int32Array<ArrayBuffer>;
}

declare const packedMapPoints: unique symbol;
/**
 * map:points' answer: MapPointColumns in one byte buffer, ~16 bytes a point where JSON took ~70 and a
 * main-thread parse of 100-300 ms at 100k points. Made by packMapPoints, read by unpackMapPoints
 * (src-shared/map-points.ts; the layout is documented there). Like every Uint8Array result it travels
 * as raw bytes: an application/octet-stream body in web mode, a structured clone over Electron IPC.
 */
export type PackedMapPoints = Uint8Array<ArrayBuffer> & { readonly [packedMapPoints]: true };

export interface OfficialWeightsDTO {
  name: string;
  /** as a user knows it: "DINO ViT-S/16" */
  title: string;
  arch: string;
  description: string;
  /** bytes of the download, when known */
  size: number | null;
  /** already in the catalog's models folder */
  downloaded: boolean;
  /** bytes of an interrupted download that the next attempt resumes from */
  partialBytes: number;
}

/** Whether the official download answers from here, asked before offering it. */
export interface ReachableDTO {
  reachable: boolean;
  /** the host asked */
  host: string;
  /** why not, in words (null when reachable) */
  reason: string | null;
}

export interface SettingsDTO {
  backend: 'auto' | 'gpu' | 'cpu';
  thumbSize: number;
  defaultK: number;
}

/** invoke channels: name -> arguments and result */
export interface InvokeChannels {
  'app:status': { args: Record<string, never>; result: StatusDTO };
  'app:settings': { args: Record<string, never>; result: SettingsDTO };
  'app:setSettings': { args: Partial<SettingsDTO>; result: SettingsDTO };
  'library:samples': { args: Record<string, never>; result: SampleDTO };
  'library:pickFolder': { args: Record<string, never>; result: { path: string | null } };
  'library:import': { args: { folders: string[] }; result: { jobId: string } };
  'library:images': { args: { offset: number; limit: number }; result: Page<ImageDTO> };
  'library:image': { args: { id: number }; result: ImageDTO };
  'library:failures': { args: Record<string, never>; result: FailureDTO[] };
  'jobs:list': { args: Record<string, never>; result: JobDTO[] };
  'jobs:cancel': { args: { jobId: string }; result: { ok: boolean } };
  'jobs:pause': { args: { jobId: string }; result: { ok: boolean } };
  'jobs:resume': { args: { jobId: string }; result: { ok: boolean } };
  'models:list': { args: Record<string, never>; result: ModelDTO[] };
  'models:setActive': { args: { id: number }; result: { ok: boolean } };
  /**
   * official weights by name (downloaded into the catalog, resuming an interrupted download) or a weights
   * file, registered as a model and embedded; with finetune, a fine-tune from them starts when that is done
   */
  'models:add': { args: { source: string; finetune?: boolean }; result: { jobId: string } };
  'models:reachable': { args: { source?: string }; result: ReachableDTO };
  'models:official': { args: Record<string, never>; result: OfficialWeightsDTO[] };
  'train:presets': { args: Record<string, never>; result: PresetDTO[] };
  'train:start': {
    /** overrides: any numeric hyperparameter of the preset by its config name (lr, teacherTemp, colorJitterProb, ...) */
    args: { preset?: string; epochs?: number; from?: string; resume?: boolean; overrides?: Record<string, number>; outcome?: Outcome };
    result: { jobId: string };
  };
  /** the training choices by outcome, with time estimates for this collection on this backend */
  'train:outcomes': { args: Record<string, never>; result: OutcomeDTO[] };
  /** measures the step time of these outcomes' presets where not measured yet on this backend (null: nothing to do) */
  'train:calibrate': { args: { outcomes: Outcome[] }; result: { jobId: string | null } };
  'train:metrics': { args: { runId?: number }; result: TrainMetricDTO[] };
  /** a run (the latest when runId is absent); null before the first run */
  'train:run': { args: { runId?: number }; result: TrainRunDTO | null };
  /** a run's label-free quality at its start and checkpoints (the latest run when runId is absent) */
  'train:quality': { args: { runId?: number }; result: TrainQualityDTO[] };
  'embed:start': { args: { modelId?: number }; result: { jobId: string } };
  'search:similar': { args: { id: number; k?: number; cluster?: number }; result: NeighbourDTO[] };
  /** a photo from outside the library, as base64 bytes */
  'search:byImage': { args: { dataBase64: string; k?: number }; result: NeighbourDTO[] };
  'search:attention': { args: { id: number }; result: { heads: number; grid: [number, number]; maps: number[][] } };
  'analysis:duplicates': { args: { threshold?: number }; result: { id: number; path: string }[][] };
  'analysis:outliers': { args: { n?: number }; result: { id: number; path: string; score: number }[] };
  /** method 'density' leaves photos in no dense group unassigned (minClusterSize: its smallest group) */
  'cluster:run': { args: { k?: number | 'auto'; method?: 'kmeans' | 'density'; minClusterSize?: number }; result: { jobId: string } };
  'cluster:list': { args: Record<string, never>; result: ClusteringDTO[] };
  'cluster:members': { args: { clusteringId: number; cluster: number; offset: number; limit: number }; result: Page<ImageDTO> };
  'cluster:rename': { args: { clusteringId: number; cluster: number; name: string }; result: { ok: boolean } };
  'cluster:merge': { args: { clusteringId: number; into: number; from: number }; result: { ok: boolean } };
  /** packed: read it with unpackMapPoints (src-shared/map-points.ts) */
  'map:points': { args: { clusteringId?: number }; result: PackedMapPoints };
  'map:compute': { args: Record<string, never>; result: { jobId: string } };
  'export:run': {
    args: { clusteringId: number; clusters?: number[]; to: string; mode: 'copy' | 'hardlink' | 'symlink' | 'manifest' };
    result: { jobId: string };
  };
}

/** push events: name -> payload */
export interface EventChannels {
  'job:progress': JobDTO;
  'train:metric': TrainMetricDTO;
  'train:quality': TrainQualityDTO;
  'library:changed': { images: number };
}

export type InvokeChannel = keyof InvokeChannels;
export type EventChannel = keyof EventChannels;
export type ArgsOf<C extends InvokeChannel> = InvokeChannels[C]['args'];
export type ResultOf<C extends InvokeChannel> = InvokeChannels[C]['result'];

/** every invoke channel, so the preload and the HTTP router can be generated from one list */
export const INVOKE_CHANNELS = [
  'app:status',
  'app:settings',
  'app:setSettings',
  'library:samples',
  'library:pickFolder',
  'library:import',
  'library:images',
  'library:image',
  'library:failures',
  'jobs:list',
  'jobs:cancel',
  'jobs:pause',
  'jobs:resume',
  'models:list',
  'models:setActive',
  'models:add',
  'models:official',
  'models:reachable',
  'train:presets',
  'train:start',
  'train:outcomes',
  'train:calibrate',
  'train:metrics',
  'train:run',
  'train:quality',
  'embed:start',
  'search:similar',
  'search:byImage',
  'search:attention',
  'analysis:duplicates',
  'analysis:outliers',
  'cluster:run',
  'cluster:list',
  'cluster:members',
  'cluster:rename',
  'cluster:merge',
  'map:points',
  'map:compute',
  'export:run',
] as const satisfies readonly InvokeChannel[];

export const EVENT_CHANNELS = ['job:progress', 'train:metric', 'train:quality', 'library:changed'] as const satisfies readonly EventChannel[];

/** What the renderer sees as `window.api` (preload) or its HTTP twin (web mode). */
export interface DinoApi {
  invoke<C extends InvokeChannel>(channel: C, args: ArgsOf<C>): Promise<ResultOf<C>>;
  on<E extends EventChannel>(event: E, listener: (payload: EventChannels[E]) => void): () => void;
  /** URL of a photo's thumbnail or full image, served by catalog id */
  photoUrl(id: number, kind: 'thumb' | 'full'): string;
  readonly mode: 'electron' | 'web';
}

/**
 * The envelope every handler answers with over IPC/HTTP; the bridge rethrows `error` as an Error.
 * Over HTTP a `result` that is a Uint8Array (a packed result such as PackedMapPoints) is sent as the
 * body itself, Content-Type BINARY_RESULT_TYPE, and the bridge hands it back as a Uint8Array.
 */
export type Envelope<T> = { result: T } | { error: string };

/** the Content-Type of an HTTP answer whose body is a binary result rather than a JSON envelope */
export const BINARY_RESULT_TYPE = 'application/octet-stream';

// Compile-time check that INVOKE_CHANNELS lists every channel: a missing one fails the typecheck.
type MissingChannel = Exclude<InvokeChannel, (typeof INVOKE_CHANNELS)[number]>;
export const ALL_CHANNELS_LISTED: [MissingChannel] extends [never] ? true : false = true;
