import type { ServerResponse } from 'node:http';
import { EVENT_CHANNELS, type EventChannel } from '../../src-shared/api';
import type { EventBus } from '../services/catalog/event-bus';

const PING_MS = 15_000;
/**
 * Events held for a client that does not read (a suspended tab, a stalled connection): beyond this
 * the stream is closed, and the browser's EventSource reconnects and reloads what it shows.
 */
const MAX_BACKLOG = 1000;

/**
 * Forwards the catalog's push events to one server-sent-events response until it closes.
 * Comment lines keep idle connections alive through proxies and let the browser notice a dead server.
 *
 * Backpressure: while the socket's buffer is full, events wait in a backlog instead of piling up in
 * memory without limit. A job's progress there is replaced by its newer progress (each carries the
 * whole state); other events queue, up to MAX_BACKLOG, and then the stream is given up.
 */
export function streamEvents(events: EventBus, res: ServerResponse, headers: Record<string, string>, pingMs = PING_MS): () => void {
  res.writeHead(200, {
    ...headers,
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.write('retry: 2000\n: connected\n\n');
  const backlog = new Map<string, string>();
  let seq = 0;
  let closed = false;
  const flush = (): void => {
    for (const [key, frame] of backlog) {
      if (res.writableNeedDrain) return;
      backlog.delete(key);
      res.write(frame);
    }
  };
  const send = (key: string, frame: string): void => {
    if (closed) return;
    if (!res.writableNeedDrain && backlog.size === 0) {
      res.write(frame);
      return;
    }
    backlog.delete(key); // a newer state of the same job goes to the back, the older one away
    backlog.set(key, frame);
    if (backlog.size > MAX_BACKLOG) close();
  };
  res.on('drain', flush);
  const detach: (() => void)[] = [];
  for (const channel of EVENT_CHANNELS) {
    const listener = (payload: unknown): void => {
      const jobId = channel === 'job:progress' ? (payload as { id?: unknown }).id : undefined;
      send(typeof jobId === 'string' ? `job:${jobId}` : `${channel}:${seq++}`, `event: ${channel}\ndata: ${JSON.stringify(payload)}\n\n`);
    };
    (events as unknown as { on(c: EventChannel, l: (p: unknown) => void): void }).on(channel, listener);
    detach.push(() => (events as unknown as { off(c: EventChannel, l: (p: unknown) => void): void }).off(channel, listener));
  }
  const ping = setInterval(() => {
    if (!res.writableNeedDrain) res.write(': ping\n\n');
  }, pingMs);
  ping.unref();
  function close(): void {
    if (closed) return;
    closed = true;
    clearInterval(ping);
    for (const d of detach) d();
    backlog.clear();
    res.off('drain', flush);
    // a client that stopped reading would never take the rest: cut it rather than wait
    if (res.writableNeedDrain) res.destroy();
    else res.end();
  }
  res.on('close', close);
  return close;
}
