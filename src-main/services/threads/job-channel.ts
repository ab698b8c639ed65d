import type { MessagePort } from 'node:worker_threads';
import type { FromWorker, ToWorker } from '../../compute/protocol';
import { CancelledError, type JobContext } from '../jobs/job-runner';

/** The compute side is gone (a crashed GPU window, a closed port): the message says what happened. */
export class ComputeLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ComputeLostError';
  }
}

/**
 * One job's line to its compute side, whatever runs it: a worker thread (worker-host.ts), a MessagePort
 * to the Electron GPU window (app/gpu-window.ts), or in tests a Node MessagePort to a stand-in.
 */
export interface JobChannel {
  post(message: ToWorker, transfer?: ArrayBuffer[]): void;
  /** `gone`: the compute side is lost (a worker's exit, the GPU window's crash): no result will come */
  listen(handlers: { message(m: FromWorker<unknown, unknown>): void; gone(error: Error): void }): void;
  /** ends the compute side (a worker is terminated, a port closed) */
  close(): void;
}

export interface RunJobOptions {
  /** after a cancel, how long the compute side has to stop before it is closed */
  killAfterMs?: number;
  /** answers the compute side's requests (photos, crops); the buffers listed are transferred */
  serve?(request: unknown): Promise<{ reply: unknown; transfer?: ArrayBuffer[] }>;
}

/**
 * The host's half of the job protocol (compute/protocol.ts): relays events, pause, resume and cancel
 * (closing the compute side if it does not stop within `killAfterMs`), serves requests, and settles
 * with the result, the job's error, or the loss of the compute side.
 */
export function runJob<TEvent, TResult>(channel: JobChannel, job: JobContext | undefined, onEvent: (event: TEvent) => void, options: RunJobOptions = {}): Promise<TResult> {
  return new Promise<TResult>((resolve, reject) => {
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      if (killTimer) clearTimeout(killTimer);
      job?.signal.removeEventListener('abort', onAbort);
      unsubscribe?.();
      fn();
      channel.close();
    };
    const onAbort = (): void => {
      channel.post({ type: 'cancel' });
      killTimer = setTimeout(() => finish(() => reject(new CancelledError())), options.killAfterMs ?? 30_000);
    };
    job?.signal.addEventListener('abort', onAbort);
    const unsubscribe = job?.onPauseChange((paused) => channel.post({ type: paused ? 'pause' : 'resume' }));
    const answer = (id: number, request: unknown): void => {
      const served = options.serve ? options.serve(request) : Promise.reject(new Error('this host serves no requests'));
      served.then(
        ({ reply, transfer }) => !settled && channel.post({ type: 'reply', id, reply }, transfer),
        (e: unknown) => !settled && channel.post({ type: 'reply', id, error: e instanceof Error ? e.message : String(e) }),
      );
    };
    channel.listen({
      message: (m) => {
        if (m.type === 'event') onEvent(m.event as TEvent);
        else if (m.type === 'request') answer(m.id, m.request);
        else if (m.type === 'result') finish(() => resolve(m.result as TResult));
        else if (m.type === 'error') {
          finish(() => reject(m.message === 'cancelled' ? new CancelledError() : Object.assign(new Error(m.message), { workerStack: m.stack })));
        }
      },
      gone: (error) => finish(() => reject(job?.signal.aborted ? new CancelledError() : error)),
    });
  });
}

/**
 * A Node MessagePort as a job channel (tests stand it in for the GPU window's port): its closing, from
 * either end or by the thread that holds the other end exiting, is the compute side's loss.
 */
export function nodePortChannel(port: MessagePort, lost: () => Error = () => new ComputeLostError("the job's port closed before its result came")): JobChannel {
  return {
    post: (message, transfer) => port.postMessage(message, transfer),
    listen({ message, gone }) {
      port.on('message', message);
      port.on('close', () => gone(lost()));
    },
    close: () => port.close(),
  };
}
