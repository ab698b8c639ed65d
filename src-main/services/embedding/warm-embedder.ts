import { statSync } from 'node:fs';
import type { EmbedWorkerResult } from '../../compute/embed-job';
import type { ModelRow } from '../../db/repos/models';
import type { ProbedBackend } from '../backends/backend-probe';
import type { Catalog } from '../catalog/catalog';
import { workerOptions } from '../threads/compute-host';
import { workerModule } from '../threads/worker-entries';
import { runInWorker } from '../threads/worker-host';
import type { WarmEmbedData, WarmEmbedEvent, WarmEmbedWork } from './warm-embed-worker';

// One embedding thread per catalog that keeps the active model loaded between single photos: a search
// with a photo and the viewer's attention maps. Starting a thread and loading the model (tfjs, its
// backend, the weights) costs far more than embedding one photo, and a user searching with photos or
// stepping through attention maps asks for several in a row. The thread is released when it has
// waited WARM_IDLE_MS for its next photo, when another model (or another file of the model, or another
// backend) is asked for, and when the catalog closes.

/** How long the thread waits for its next photo before it and its model are released. */
const WARM_IDLE_MS = 60_000;

export interface PhotoEmbedding {
  vector?: Float32Array;
  /** why the photo could not be read (no vector) */
  failure?: string;
  attention?: EmbedWorkerResult['attention'];
}

type Work = NonNullable<WarmEmbedWork>;

interface Held {
  /** the model file and backend this thread serves */
  key: string;
  /** its thread id, once the model is loaded */
  thread: number | null;
  /** photos waiting for the thread */
  queue: Work[];
  /** the thread's request for its next photo, while it waits */
  next: ((work: WarmEmbedWork) => void) | null;
  answers: Map<number, { resolve(r: PhotoEmbedding): void; reject(e: Error): void }>;
  idle: NodeJS.Timeout | null;
  /** no photo is handed over after the queue: the thread ends */
  released: boolean;
}

/** The thread's identity: another model, a rewritten file (a resumed run) or another backend needs another thread. */
function keyOf(model: ModelRow, where: ProbedBackend): string {
  const file = statSync(model.checkpoint, { throwIfNoEntry: false });
  return JSON.stringify([model.id, model.checkpoint, file?.mtimeMs, file?.size, where.workerBackend ?? '']);
}

export class WarmEmbedder {
  /** how long the thread may wait for its next photo (tests shorten it) */
  idleMs = WARM_IDLE_MS;
  /** threads started and ended so far */
  started = 0;
  ended = 0;
  private held: Held | null = null;
  private nextId = 1;

  /** The thread id of the thread held now (null: none, or its model still loading): tests see it reused and released. */
  get thread(): number | null {
    return this.held?.thread ?? null;
  }

  /** One photo through the model's thread, started (or restarted for another model) as needed. */
  embed(model: ModelRow, where: ProbedBackend, path: string, attention: boolean): Promise<PhotoEmbedding> {
    const key = keyOf(model, where);
    if (this.held && this.held.key !== key) this.release();
    const held = this.held ?? this.start(model, where, key);
    if (held.idle) clearTimeout(held.idle);
    held.idle = null;
    return new Promise((resolve, reject) => {
      const work: Work = { id: this.nextId++, path, attention };
      held.answers.set(work.id, { resolve, reject });
      const next = held.next;
      held.next = null;
      if (next) next(work);
      else held.queue.push(work);
    });
  }

  /** Lets the thread finish what is queued and end (it frees the model); the next photo starts a new one. */
  release(): void {
    const held = this.held;
    if (!held) return;
    this.held = null;
    held.released = true;
    if (held.idle) clearTimeout(held.idle);
    const next = held.next;
    held.next = null;
    next?.(null);
  }

  private start(model: ModelRow, where: ProbedBackend, key: string): Held {
    const held: Held = { key, thread: null, queue: [], next: null, answers: new Map(), idle: null, released: false };
    this.held = held;
    this.started++;
    const serve = async (): Promise<{ reply: WarmEmbedWork }> => {
      const work = held.queue.shift();
      if (work) return { reply: work };
      if (held.released) return { reply: null };
      held.idle = setTimeout(() => {
        if (this.held === held) this.release();
      }, this.idleMs);
      held.idle.unref();
      return { reply: await new Promise<WarmEmbedWork>((r) => (held.next = r)) };
    };
    const onEvent = (e: WarmEmbedEvent): void => {
      if (e.type === 'ready') {
        held.thread = e.thread;
        return;
      }
      const answer = held.answers.get(e.id);
      held.answers.delete(e.id);
      if (e.error !== undefined) answer?.reject(new Error(e.error));
      else answer?.resolve({ vector: e.vector, failure: e.failure, attention: e.attention });
    };
    const done = runInWorker<WarmEmbedData, WarmEmbedEvent, { served: number }>(
      workerModule('warm-embed-worker'),
      { modelFile: model.checkpoint },
      undefined,
      onEvent,
      workerOptions(where, { serve }),
    );
    done.then(
      () => this.forget(held, new Error('the embedding thread ended before it answered')),
      (e: unknown) => this.forget(held, e instanceof Error ? e : new Error(String(e))),
    );
    return held;
  }

  /** The thread has ended: whatever it had not answered fails with why, and the next photo starts a new one. */
  private forget(held: Held, why: Error): void {
    this.ended++;
    if (this.held === held) this.held = null;
    if (held.idle) clearTimeout(held.idle);
    for (const answer of held.answers.values()) answer.reject(why);
    held.answers.clear();
  }
}

const perCatalog = new WeakMap<Catalog, WarmEmbedder>();

/** The catalog's warm embedder, released when the catalog closes. */
export function warmEmbedder(catalog: Catalog): WarmEmbedder {
  let w = perCatalog.get(catalog);
  if (!w) {
    const embedder = new WarmEmbedder();
    perCatalog.set(catalog, (w = embedder));
    catalog.beforeClose(() => embedder.release());
  }
  return w;
}
