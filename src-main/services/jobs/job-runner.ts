import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { JobDTO, JobKind } from '../../../src-shared/api';

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

export interface JobContext {
  readonly id: string;
  readonly signal: AbortSignal;
  /** report progress; rate and ETA are derived here from `done` over time */
  progress(update: { phase?: string; done?: number; total?: number; counts?: Record<string, number> }): void;
  /** resolves at once unless the job is paused; rejects with CancelledError when cancelled */
  checkpoint(): Promise<void>;
  /** for work that cannot await checkpoint() itself (a worker thread): told when pause state changes */
  onPauseChange(listener: (paused: boolean) => void): () => void;
}

interface JobEntry {
  dto: JobDTO;
  controller: AbortController;
  resumeWaiters: (() => void)[];
  pauseListeners: Set<(paused: boolean) => void>;
  samples: { t: number; done: number }[];
  lastEmit: number;
  promise: Promise<unknown>;
}

const RATE_WINDOW_MS = 10_000;
const EMIT_EVERY_MS = 100;
/**
 * checkpoint() gives the event loop a turn at least this often: a job whose steps are all
 * synchronous or resolve at once (a manifest-only export, a loop over cached rows) would otherwise
 * run as one long chain of microtasks, and no HTTP request or IPC message would be read meanwhile.
 */
const YIELD_EVERY_MS = 20;
/** finished jobs kept for jobs:list (the newest); running and paused ones are always kept */
export const KEEP_FINISHED = 50;

/** Runs long work (import, training, embedding, ...) with progress, cancel and pause. */
export class Jobs extends EventEmitter<{ progress: [JobDTO] }> {
  private readonly entries = new Map<string, JobEntry>();

  start<T>(kind: JobKind, run: (ctx: JobContext) => Promise<T>, options: { pausable?: boolean } = {}): { id: string; promise: Promise<T> } {
    const id = randomUUID();
    const controller = new AbortController();
    const entry: JobEntry = {
      dto: {
        id, version: 0, kind, state: 'running', phase: 'starting', done: 0, total: 0, rate: 0, etaSeconds: null,
        startedAt: Date.now(), counts: {}, error: null,
      },
      controller, resumeWaiters: [], pauseListeners: new Set(), samples: [], lastEmit: 0,
      promise: Promise.resolve(),
    };
    this.entries.set(id, entry);
    let lastYield = Date.now();
    const ctx: JobContext = {
      id,
      signal: controller.signal,
      progress: (u) => this.update(entry, u),
      checkpoint: async () => {
        if (controller.signal.aborted) throw new CancelledError();
        if (Date.now() - lastYield >= YIELD_EVERY_MS) {
          await new Promise((r) => setImmediate(r));
          lastYield = Date.now();
          if (controller.signal.aborted) throw new CancelledError();
        }
        while (entry.dto.state === 'paused' && options.pausable !== false) {
          await new Promise<void>((r) => entry.resumeWaiters.push(r));
          if (controller.signal.aborted) throw new CancelledError();
        }
      },
      onPauseChange: (listener) => {
        entry.pauseListeners.add(listener);
        return () => entry.pauseListeners.delete(listener);
      },
    };
    const promise = (async () => {
      this.emitNow(entry);
      try {
        // the job's first synchronous stretch runs after start() has returned and its caller has
        // answered (the HTTP reply, the IPC result), not inside that call
        await new Promise((r) => setImmediate(r));
        if (controller.signal.aborted) throw new CancelledError();
        const result = await run(ctx);
        entry.dto.state = 'done';
        entry.dto.result = result;
        entry.dto.etaSeconds = 0;
        return result;
      } catch (e) {
        if (e instanceof CancelledError || controller.signal.aborted) entry.dto.state = 'cancelled';
        else {
          entry.dto.state = 'failed';
          entry.dto.error = e instanceof Error ? e.message : String(e);
        }
        throw e;
      } finally {
        this.emitNow(entry);
        this.forgetOldFinished();
      }
    })();
    // A job's failure is reported through its state; callers that await `promise` still see it.
    promise.catch(() => undefined);
    entry.promise = promise;
    return { id, promise };
  }

  cancel(id: string): boolean {
    const e = this.entries.get(id);
    if (!e || !isLive(e.dto)) return false;
    e.controller.abort();
    this.wake(e);
    return true;
  }

  pause(id: string): boolean {
    return this.setPaused(id, true);
  }

  resume(id: string): boolean {
    return this.setPaused(id, false);
  }

  list(): JobDTO[] {
    return [...this.entries.values()].map((e) => ({ ...e.dto }));
  }

  get(id: string): JobDTO | undefined {
    const e = this.entries.get(id);
    return e ? { ...e.dto } : undefined;
  }

  /** waits for every live job to settle (used at shutdown) */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.entries.values()].map((e) => e.promise));
  }

  cancelAll(): void {
    for (const id of this.entries.keys()) this.cancel(id);
  }

  /** The job list stays bounded in a long session: only the newest KEEP_FINISHED finished jobs stay. */
  private forgetOldFinished(): void {
    let finished = 0;
    for (const e of this.entries.values()) if (!isLive(e.dto)) finished++;
    // a Map iterates in insertion order: the oldest jobs first
    for (const [id, e] of this.entries) {
      if (finished <= KEEP_FINISHED) break;
      if (isLive(e.dto)) continue;
      this.entries.delete(id);
      finished--;
    }
  }

  /** pause or resume: from 'running' to 'paused' or back; the job's listeners hear it, a resume wakes its checkpoint */
  private setPaused(id: string, paused: boolean): boolean {
    const e = this.entries.get(id);
    if (!e || e.dto.state !== (paused ? 'running' : 'paused')) return false;
    e.dto.state = paused ? 'paused' : 'running';
    for (const l of e.pauseListeners) l(paused);
    if (!paused) this.wake(e);
    this.emitNow(e);
    return true;
  }

  private wake(e: JobEntry): void {
    const waiters = e.resumeWaiters.splice(0);
    for (const w of waiters) w();
  }

  private update(e: JobEntry, u: { phase?: string; done?: number; total?: number; counts?: Record<string, number> }): void {
    const d = e.dto;
    let phaseChanged = false;
    if (u.phase !== undefined && u.phase !== d.phase) {
      d.phase = u.phase;
      e.samples = [];
      phaseChanged = true;
    }
    if (u.total !== undefined) d.total = u.total;
    if (u.counts) d.counts = { ...d.counts, ...u.counts };
    if (u.done !== undefined) {
      d.done = u.done;
      const now = Date.now();
      e.samples.push({ t: now, done: u.done });
      while (e.samples.length > 2 && now - e.samples[0]!.t > RATE_WINDOW_MS) e.samples.shift();
      const first = e.samples[0]!;
      const dt = (now - first.t) / 1000;
      d.rate = dt > 0 ? (u.done - first.done) / dt : 0;
      d.etaSeconds = d.rate > 0 && d.total > 0 ? Math.max(0, (d.total - d.done) / d.rate) : null;
    }
    const now = Date.now();
    if (phaseChanged || now - e.lastEmit >= EMIT_EVERY_MS || (d.total > 0 && d.done >= d.total)) this.emitNow(e);
  }

  private emitNow(e: JobEntry): void {
    e.lastEmit = Date.now();
    e.dto.version++;
    this.emit('progress', { ...e.dto });
  }
}

/** running or paused: not finished yet */
export function isLive(d: JobDTO): boolean {
  return d.state === 'running' || d.state === 'paused';
}
