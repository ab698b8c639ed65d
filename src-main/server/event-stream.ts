import type { ServerResponse } from 'node:http';
import { EVENT_CHANNELS, type EventChannel } from '../../src-shared/api';
import type { EventBus } from '../services/events';

const PING_MS = 15_000;

/**
 * Forwards the catalog's push events to one server-sent-events response until it closes.
 * Comment lines keep idle connections alive through proxies and let the browser notice a dead server.
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
  const detach: (() => void)[] = [];
  for (const channel of EVENT_CHANNELS) {
    const listener = (payload: unknown): void => {
      res.write(`event: ${channel}\ndata: ${JSON.stringify(payload)}\n\n`);
    };
    (events as unknown as { on(c: EventChannel, l: (p: unknown) => void): void }).on(channel, listener);
    detach.push(() => (events as unknown as { off(c: EventChannel, l: (p: unknown) => void): void }).off(channel, listener));
  }
  const ping = setInterval(() => res.write(': ping\n\n'), pingMs);
  ping.unref();
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(ping);
    for (const d of detach) d();
    res.end();
  };
  res.on('close', close);
  return close;
}
