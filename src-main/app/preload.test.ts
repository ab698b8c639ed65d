import { beforeAll, describe, expect, it, vi } from 'vitest';
import { EVENT_CHANNELS, INVOKE_CHANNELS } from '../../src-shared/api';
import { mapPointAt, packMapPoints, unpackMapPoints } from '../../src-shared/map-points';

// The preload runs against a stand-in for Electron's renderer-side modules: the real package is never
// loaded in tests (its entry point would look for, or download, the binary).
const exposed: Record<string, unknown> = {};
const invoke = vi.fn();
const listeners = new Map<string, ((e: unknown, p: unknown) => void)[]>();
vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (exposed[key] = api) },
  ipcRenderer: {
    invoke,
    on: (c: string, l: (e: unknown, p: unknown) => void) => listeners.set(c, [...(listeners.get(c) ?? []), l]),
    removeListener: (c: string, l: unknown) => listeners.set(c, (listeners.get(c) ?? []).filter((x) => x !== l)),
  },
}));

interface ExposedApi {
  mode: string;
  invoke(channel: string, args: unknown): Promise<unknown>;
  on(event: string, listener: (p: unknown) => void): () => void;
  photoUrl(id: number, kind: string): string;
  channels: Record<string, (args: unknown) => Promise<unknown>>;
}

describe('preload', () => {
  let api: ExposedApi;
  beforeAll(async () => {
    await import('./preload');
    api = exposed.api as ExposedApi;
  });

  it('exposes one object named api, without ipcRenderer', () => {
    expect(Object.keys(exposed)).toEqual(['api']);
    expect(api.mode).toBe('electron');
    expect(Object.keys(api).sort()).toEqual(['channels', 'invoke', 'mode', 'on', 'photoUrl']);
    expect(JSON.stringify(Object.keys(api))).not.toContain('ipcRenderer');
  });

  it('has one function per invoke channel, generated from the list', () => {
    expect(Object.keys(api.channels).sort()).toEqual([...INVOKE_CHANNELS].sort());
  });

  it('unwraps results, rethrows errors as Error, refuses unknown channels before IPC', async () => {
    invoke.mockResolvedValueOnce({ result: [1, 2] });
    await expect(api.invoke('jobs:list', {})).resolves.toEqual([1, 2]);
    expect(invoke).toHaveBeenLastCalledWith('jobs:list', {});
    invoke.mockResolvedValueOnce({ error: 'bad request: nope' });
    await expect(api.channels['library:image']!({ id: 1 })).rejects.toThrow('bad request: nope');
    invoke.mockClear();
    await expect(api.invoke('shell:exec', {})).rejects.toThrow(/unknown channel/);
    expect(invoke).not.toHaveBeenCalled();
  });

  it('passes a packed result (map:points) through as bytes that unpack to the points', async () => {
    const points = [
      { id: 5, x: 1.5, y: -2, cluster: 1 },
      { id: 6, x: 0, y: 0.25, cluster: null },
    ];
    // what ipcMain.handle's envelope becomes on this side: a structured clone
    invoke.mockResolvedValueOnce(structuredClone({ result: packMapPoints(points) }));
    const bytes = await api.invoke('map:points', {});
    expect(bytes).toBeInstanceOf(Uint8Array);
    const cols = unpackMapPoints(bytes as Uint8Array);
    expect([0, 1].map((i) => mapPointAt(cols, i))).toEqual(points);
  });

  it('subscribes only to known events and unsubscribes', () => {
    expect(() => api.on('ipc:anything', () => undefined)).toThrow(/unknown event/);
    const got: unknown[] = [];
    const off = api.on(EVENT_CHANNELS[0], (p) => got.push(p));
    for (const l of listeners.get(EVENT_CHANNELS[0]) ?? []) l({}, { n: 1 });
    off();
    for (const l of listeners.get(EVENT_CHANNELS[0]) ?? []) l({}, { n: 2 });
    expect(got).toEqual([{ n: 1 }]);
  });

  it('builds photo URLs from ids only', () => {
    expect(api.photoUrl(12, 'thumb')).toBe('dino-photo://photo/12/thumb');
    expect(() => api.photoUrl(Number.NaN, 'full')).toThrow();
  });
});
