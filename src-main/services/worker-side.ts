import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './worker-host';

/** The worker's half of the protocol: control state, event posting, and the result. */
export interface WorkerSide<TData, TEvent> {
  data: TData;
  post(event: TEvent): void;
  readonly cancelled: boolean;
  readonly paused: boolean;
  /** resolves when not paused; throws 'cancelled' when cancelled (checked between steps) */
  checkpoint(): Promise<void>;
}

export function workerMain<TData, TEvent, TResult>(body: (side: WorkerSide<TData, TEvent>) => Promise<TResult>): void {
  const port = parentPort;
  if (!port) throw new Error('workerMain must run in a worker thread');
  let cancelled = false;
  let paused = false;
  let wake: (() => void) | undefined;
  port.on('message', (m: ToWorker) => {
    if (m.type === 'cancel') cancelled = true;
    if (m.type === 'pause') paused = true;
    if (m.type === 'resume') paused = false;
    if (m.type !== 'pause') wake?.();
  });
  const send = (m: FromWorker<TEvent, TResult>): void => port.postMessage(m);
  const side: WorkerSide<TData, TEvent> = {
    data: (workerData as { data: TData }).data,
    post: (event) => send({ type: 'event', event }),
    get cancelled() {
      return cancelled;
    },
    get paused() {
      return paused;
    },
    async checkpoint() {
      // a training step is synchronous: yield one macrotask so a pending cancel or pause message is read
      await new Promise((r) => setImmediate(r));
      while (paused && !cancelled) await new Promise<void>((r) => (wake = r));
      if (cancelled) throw new Error('cancelled');
    },
  };
  body(side).then(
    (result) => send({ type: 'result', result }),
    (e: unknown) => send({ type: 'error', message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined }),
  );
}
