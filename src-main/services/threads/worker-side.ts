import { parentPort, workerData } from 'node:worker_threads';
import { jobSide, runJobBody, type FromWorker, type ToWorker, type WorkerSide } from '../../compute/protocol';

export type { WorkerSide } from '../../compute/protocol';

/** A worker thread's job: the protocol's compute side (compute/protocol.ts) over the thread's parent port. */
export function workerMain<TData, TEvent, TResult>(body: (side: WorkerSide<TData, TEvent>) => Promise<TResult>): void {
  const port = parentPort;
  if (!port) throw new Error('workerMain must run in a worker thread');
  const send = (m: FromWorker<TEvent, TResult>): void => port.postMessage(m);
  // a training step is synchronous: yield one macrotask so a pending cancel or pause message is read
  const { side, receive } = jobSide<TData, TEvent>((workerData as { data: TData }).data, send, () => new Promise((r) => setImmediate(r)));
  port.on('message', (m: ToWorker) => receive(m));
  void runJobBody(side, send, body);
}
