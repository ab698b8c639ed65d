// The renderer's one door to the core: `window.api` from the Electron preload, or its HTTP twin in
// web mode (fetch POST /api/<channel>, EventSource /events, photos by id). Both implement DinoApi
// from src-shared, so nothing else in the UI knows which face it runs in.
import type { ArgsOf, DinoApi, Envelope, EventChannel, EventChannels, InvokeChannel, ResultOf } from '../../../src-shared/api';
import { BINARY_RESULT_TYPE } from '../../../src-shared/api';

declare global {
  interface Window {
    /** set by the Electron preload; absent in web mode */
    api?: DinoApi;
  }
}

const TOKEN_HEADER = 'x-dino-token';
const TOKEN_KEY = 'dino-explorer-token';

/** Web mode: the same API over HTTP on 127.0.0.1 with the per-start token. */
export class HttpApi implements DinoApi {
  readonly mode = 'web' as const;
  private source: EventSource | null = null;
  private readonly listeners = new Map<EventChannel, Set<(payload: unknown) => void>>();
  private readonly reconnectListeners = new Set<() => void>();

  constructor(private readonly token: string | null) {}

  async invoke<C extends InvokeChannel>(channel: C, args: ArgsOf<C>): Promise<ResultOf<C>> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.token) headers[TOKEN_HEADER] = this.token;
    let res: Response;
    try {
      res = await fetch(`/api/${channel}`, {
        method: 'POST', headers, body: JSON.stringify(args ?? {}), credentials: 'same-origin', cache: 'no-store',
      });
    } catch {
      throw new Error('The Dino Explorer server is not reachable: is `dino-explorer serve` still running?');
    }
    // a packed result (e.g. map:points) arrives as the body itself: its bytes, no JSON parse
    if (res.ok && (res.headers.get('content-type') ?? '').startsWith(BINARY_RESULT_TYPE)) {
      try {
        return new Uint8Array(await res.arrayBuffer()) as ResultOf<C>;
      } catch {
        throw new Error(`${channel} failed: the answer was cut off`);
      }
    }
    let body: Envelope<ResultOf<C>>;
    try {
      body = (await res.json()) as Envelope<ResultOf<C>>;
    } catch {
      if (res.status === 401) throw new Error('Not authorised: open the address printed by `dino-explorer serve` (with its token) again.');
      throw new Error(`${channel} failed (HTTP ${res.status})`);
    }
    if ('error' in body) throw new Error(body.error);
    return body.result;
  }

  on<E extends EventChannel>(event: E, listener: (payload: EventChannels[E]) => void): () => void {
    const source = this.connect();
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
      const all = set;
      source.addEventListener(event, (m) => {
        let payload: unknown;
        try {
          payload = JSON.parse((m as MessageEvent<string>).data);
        } catch {
          return;
        }
        for (const l of all) l(payload);
      });
    }
    const l = listener as (payload: unknown) => void;
    set.add(l);
    return () => set.delete(l);
  }

  /** called after the event stream reconnects, so state missed while it was down can be reloaded */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  photoUrl(id: number, kind: 'thumb' | 'full'): string {
    return `/photo/${id}/${kind}`;
  }

  private connect(): EventSource {
    if (this.source) return this.source;
    // same origin: the HttpOnly cookie set on page load authenticates the stream
    const source = new EventSource('/events', { withCredentials: true });
    let opened = false;
    source.addEventListener('open', () => {
      if (opened) for (const l of this.reconnectListeners) l();
      opened = true;
    });
    this.source = source;
    return source;
  }
}

/** Electron: the preload's object already unwraps envelopes; make sure failures are real Errors. */
function electronApi(api: DinoApi): DinoApi {
  return {
    mode: 'electron',
    async invoke(channel, args) {
      try {
        return await api.invoke(channel, args);
      } catch (e) {
        throw e instanceof Error ? e : new Error(String(e));
      }
    },
    on: (event, listener) => api.on(event, listener),
    photoUrl: (id, kind) => api.photoUrl(id, kind),
  };
}

export function createBridge(): DinoApi {
  if (window.api) return electronApi(window.api);
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    // Kept in this tab's sessionStorage (this origin, this port, this tab only) for the API's header
    // after a reload; out of the address bar, history and screenshots. The cookie set with the page
    // only opens photos and events: the server never takes it for the API.
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
  return new HttpApi(fromUrl ?? sessionStorage.getItem(TOKEN_KEY));
}
