/**
 * The jobs the Electron GPU window runs, each served on a port of its own (protocol.ts): training and
 * embedding exactly as the worker threads run them (train-job.ts, embed-job.ts), with the photos kept
 * by the main process. Training asks it for each step's crops (made in its crop thread), embedding for
 * decoded photos; checkpoints and the trained teacher go back to it to be written to disk. The main
 * process's half is services/gpu-train.ts and gpu-embed.ts.
 */
import type { CropArrays, CropSpec } from '../dino/train/crops';
import type { NamedArray, SafetensorsContent } from '../dino/named-arrays';
import { disposeNet, type NetConfig } from '../dino/model/net';
import type { SourceImage } from '../dino/train/trainer';
import { embedOnSide, type DecodedPhoto, type EmbedWorkerEvent, type EmbedWorkerResult } from './embed-job';
import type { ProbeSet } from './label-free-score';
import { netFromSource } from '../dino/weights/net-source';
import type { JobBody, WorkerSide } from './protocol';
import { trainOnSide, type TrainJobSettings, type TrainWorkerEvent, type TrainWorkerResult } from './train-job';

/**
 * Tensors as they cross a job's port: a plain list of entries rather than a Map, which every transport
 * carries (Electron's ports and Node's clone a Map; a test's bridge through a browser driver may not).
 */
export interface TensorsOnWire {
  tensors: [string, NamedArray][];
  metadata: Record<string, string>;
}

export function toWire(c: SafetensorsContent): TensorsOnWire {
  return { tensors: [...c.tensors], metadata: c.metadata };
}

export function fromWire(w: TensorsOnWire): SafetensorsContent {
  return { tensors: new Map(w.tensors), metadata: w.metadata };
}

export interface GpuTrainData extends TrainJobSettings {
  /** the run's photos by id, in the catalog's order: their pixels stay in the main process */
  ids: number[];
  resume?: TensorsOnWire;
  init?: TensorsOnWire;
  /** score the label-free quality at the start and every checkpoint, on a sample the main process decodes */
  probe?: boolean;
}

export type GpuTrainEvent =
  | TrainWorkerEvent
  | { type: 'checkpoint-state'; state: TensorsOnWire; it: number; final: boolean }
  /** keepBest: the teacher of the best checkpoint so far, for the model file */
  | { type: 'model-state'; model: TensorsOnWire; it: number };

export interface GpuTrainResult extends TrainWorkerResult {
  /** the teacher as model-file content (null with keepBest: the best one came as a model-state event) */
  model: TensorsOnWire | null;
}

export interface GpuEmbedData {
  net: { config: NetConfig; weights: TensorsOnWire } | { random: { net: NetConfig; seed: number } };
  count: number;
  batchSize: number;
  attention?: boolean;
}

/** What a GPU job asks of the main process. */
export type GpuRequest =
  | { kind: 'crops'; spec: CropSpec; it: number; ids: number[] }
  | { kind: 'photos'; start: number; count: number }
  | { kind: 'probe'; imgSize: number };

// the crops come made, so a photo here is its id alone
const NO_PIXELS = new Uint8Array(0);

async function train(side: WorkerSide<GpuTrainData, GpuTrainEvent>, backend: string): Promise<GpuTrainResult> {
  const d = side.data;
  side.post({ type: 'backend', description: backend });
  const images: SourceImage[] = d.ids.map((id) => ({ id, rgb: NO_PIXELS, width: 0, height: 0 }));
  const { summary, model } = await trainOnSide(side, d, {
    backend,
    images,
    resume: d.resume && fromWire(d.resume),
    init: d.init ? () => fromWire(d.init!).tensors : undefined,
    cropper: (spec) => ({
      make: (batch, it) => side.request<CropArrays[]>({ kind: 'crops', spec, it, ids: batch.map((img) => (img as SourceImage).id) } satisfies GpuRequest),
      close: () => undefined,
    }),
    checkpoint: (state, info) => side.post({ type: 'checkpoint-state', state: toWire(state), ...info }),
    probeSet: d.probe ? (imgSize) => side.request<ProbeSet>({ kind: 'probe', imgSize } satisfies GpuRequest) : undefined,
    keepModel: (m, it) => side.post({ type: 'model-state', model: toWire(m), it }),
  });
  return { ...summary, model: model && toWire(model) };
}

async function embed(side: WorkerSide<GpuEmbedData, EmbedWorkerEvent>, backend: string): Promise<EmbedWorkerResult> {
  const d = side.data;
  side.post({ type: 'backend', description: backend });
  const net = netFromSource('random' in d.net ? d.net : { config: d.net.config, tensors: fromWire(d.net.weights).tensors });
  try {
    const photos = (start: number, count: number) => side.request<DecodedPhoto[]>({ kind: 'photos', start, count } satisfies GpuRequest);
    return await embedOnSide(side, net, { count: d.count, batchSize: d.batchSize, attention: d.attention, photos });
  } finally {
    disposeNet(net);
  }
}

/** The job table of the GPU window: `startBackend` starts tfjs's backend once and describes it. */
export function gpuJobs(startBackend: () => Promise<string>): Record<'train' | 'embed', JobBody<never, unknown, unknown>> {
  return {
    train: async (side) => train(side as unknown as WorkerSide<GpuTrainData, GpuTrainEvent>, await startBackend()),
    embed: async (side) => embed(side as unknown as WorkerSide<GpuEmbedData, EmbedWorkerEvent>, await startBackend()),
  };
}
