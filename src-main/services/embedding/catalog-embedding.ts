import { putEmbeddings, staleImages } from '../../db/repos/embeddings';
import { countByStatus } from '../../db/repos/images';
import type { Catalog } from '../catalog/catalog';
import { resolveModel } from '../models/resolve-model';
import type { JobContext } from '../jobs/job-runner';
import type { LabelFreeScores } from '../quality/probe-set';
import { backendPreference } from '../catalog/app-settings';
import { runEmbedJob } from '../threads/compute-host';

/** how long a cancelled embed may take to finish its batch before its thread is stopped (a cancel answers within a second) */
const CANCEL_KILL_MS = 500;

export interface EmbedResult {
  model: number;
  embedded: number;
  failed: number;
  skipped: number;
  seconds: number;
  backend: string;
  /** the label-free quality, measured after embedding when the embed job asks for it */
  quality?: LabelFreeScores | null;
}

/** Embeds every new or changed photo with the model's teacher backbone; resumable by construction. */
export async function embedCatalog(catalog: Catalog, modelId: number, job?: JobContext): Promise<EmbedResult> {
  const t0 = Date.now();
  const model = resolveModel(catalog, modelId, 'weights');
  const todo = staleImages(catalog.db, modelId);
  const total = countByStatus(catalog.db).ok;
  const hashes = new Map(todo.map((t) => [t.id, t.hash]));
  let done = 0;
  let backend = '';
  job?.progress({ phase: 'embedding', total: todo.length, done: 0 });
  const result = todo.length
    ? await runEmbedJob(
        backendPreference(catalog),
        { modelFile: model.checkpoint, items: todo.map(({ id, path }) => ({ id, path })), batchSize: 16 },
        job,
        (e) => {
          if (e.type === 'backend') backend = e.description;
          else {
            putEmbeddings(catalog.db, modelId, e.ids.map((id, i) => ({ imageId: id, hash: hashes.get(id)!, vector: e.vectors[i]! })));
            done += e.ids.length + e.failed.length;
            job?.progress({ done, counts: { embedded: done } });
          }
        },
        // every finished batch is already stored: a cancel may stop the thread mid-batch
        { killAfterMs: CANCEL_KILL_MS },
      )
    : { embedded: 0, failed: 0 };
  return { model: modelId, embedded: result.embedded, failed: result.failed, skipped: total - todo.length, seconds: (Date.now() - t0) / 1000, backend };
}

/** Embeds arbitrary photos with a model file or spec (see model-loader), without storing anything. */
export async function embedItems(modelSpec: string, items: { id: number; path: string }[], job?: JobContext): Promise<Map<number, Float32Array>> {
  const out = new Map<number, Float32Array>();
  job?.progress({ phase: 'embedding', total: items.length, done: 0 });
  await runEmbedJob('auto', { modelFile: modelSpec, items, batchSize: 16 }, job, (e) => {
    if (e.type !== 'batch') return;
    e.ids.forEach((id, i) => out.set(id, e.vectors[i]!));
    job?.progress({ done: out.size });
  });
  return out;
}
