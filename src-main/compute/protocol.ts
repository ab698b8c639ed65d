/**
 * The job protocol between the main process and a job's compute side: a worker thread (a module run by
 * workerMain, services/worker-side.ts) or a job in the Electron GPU window (a MessagePort, served by
 * serveJobPort below). The host half is services/job-channel.ts. Both compute sides run the same
 * control logic here, so a job cannot tell where it runs and the host cannot tell what runs it.
 *
 * Plain TypeScript, no Node and no DOM: the GPU window's page imports it.
 */

/**
 * The message that hands the GPU window's page a job's port, posted to the page's own window (by the
 * window's preload in Electron, by a test likewise): `window.postMessage(GPU_JOB_MESSAGE, origin, [port])`.
 */
export const GPU_JOB_MESSAGE = 'dino-gpu-job';

/** Messages a job's compute side sends its host. */
export type FromWorker<TEvent, TResult> =
  | { type: 'event'; event: TEvent }
  | { type: 'result'; result: TResult }
  | { type: 'error'; message: string; stack?: string }
  /** asks the host for something only it has (photos, crops): answered by a `reply` with the same id */
  | { type: 'request'; id: number; request: unknown };

/** Messages the host sends a job's compute side. */
export type ToWorker =
  | { type: 'cancel' }
  | { type: 'pause' }
  | { type: 'resume' }
  /** the first message on a GPU window's job port (a worker thread gets its data as workerData) */
  | { type: 'start'; kind: string; data: unknown }
  | { type: 'reply'; id: number; reply?: unknown; error?: string };

/** The compute side's half of the protocol: control state, event posting, and requests to the host. */
export interface WorkerSide<TData, TEvent> {
  data: TData;
  post(event: TEvent): void;
  readonly cancelled: boolean;
  readonly paused: boolean;
  /** resolves when not paused; throws 'cancelled' when cancelled (checked between steps) */
  checkpoint(): Promise<void>;
  /** asks the host (see FromWorker's request); rejects with the host's error */
  request<T>(request: unknown): Promise<T>;
}

export type JobBody<TData = never, TEvent = unknown, TResult = unknown> = (side: WorkerSide<TData, TEvent>) => Promise<TResult>;

/**
 * A job's side over `send`: feed it the host's messages with `receive`. `yieldTurn` gives the event
 * loop one turn, so a control message that arrived during a synchronous step is read before the next.
 */
export function jobSide<TData, TEvent>(
  data: TData,
  send: (m: FromWorker<TEvent, never>) => void,
  yieldTurn: () => Promise<void>,
): { side: WorkerSide<TData, TEvent>; receive(m: ToWorker): void } {
  let cancelled = false;
  let paused = false;
  let wake: (() => void) | undefined;
  let nextRequest = 0;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const side: WorkerSide<TData, TEvent> = {
    data,
    post: (event) => send({ type: 'event', event }),
    get cancelled() {
      return cancelled;
    },
    get paused() {
      return paused;
    },
    async checkpoint() {
      await yieldTurn();
      while (paused && !cancelled) await new Promise<void>((r) => (wake = r));
      if (cancelled) throw new Error('cancelled');
    },
    request<T>(request: unknown) {
      const id = nextRequest++;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        send({ type: 'request', id, request });
      });
    },
  };
  const receive = (m: ToWorker): void => {
    if (m.type === 'reply') {
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.error !== undefined) w?.reject(new Error(m.error));
      else w?.resolve(m.reply);
      return;
    }
    if (m.type === 'cancel') cancelled = true;
    if (m.type === 'pause') paused = true;
    if (m.type === 'resume') paused = false;
    if (m.type !== 'pause') wake?.();
  };
  return { side, receive };
}

/** Runs a job's body and sends its result, or its error as a message (a cancel comes back as 'cancelled'). */
export function runJobBody<TData, TEvent, TResult>(
  side: WorkerSide<TData, TEvent>,
  send: (m: FromWorker<TEvent, TResult>) => void,
  body: (side: WorkerSide<TData, TEvent>) => Promise<TResult>,
): Promise<void> {
  return body(side).then(
    (result) => send({ type: 'result', result }),
    (e: unknown) => send({ type: 'error', message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined }),
  );
}

/**
 * The end of a MessagePort a job is served on: a browser's MessagePort (the GPU window) or Node's
 * (tests stand it in for the window).
 */
export interface JobPort {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (e: { data: unknown }) => void): void;
  start(): void;
}

/**
 * Serves one job on `port`: waits for its `start`, runs the body of that kind with a job side over the
 * port, and sends the result or the error. The GPU window serves every job this way, one port a job.
 */
export function serveJobPort(port: JobPort, bodies: Readonly<Record<string, JobBody<never, unknown, unknown>>>, yieldTurn = () => new Promise<void>((r) => setTimeout(r, 0))): void {
  let receive: ((m: ToWorker) => void) | null = null;
  const send = (m: FromWorker<unknown, unknown>): void => port.postMessage(m);
  port.addEventListener('message', (e) => {
    const m = e.data as ToWorker;
    if (receive) return receive(m);
    if (m.type !== 'start') return;
    const body = bodies[m.kind];
    if (!body) return send({ type: 'error', message: `the GPU window has no job "${m.kind}"` });
    const job = jobSide(m.data as never, send, yieldTurn);
    receive = job.receive;
    // the host closes the port when the result is in: closing here could drop the result on its way
    void runJobBody(job.side, send, body);
  });
  port.start();
}
