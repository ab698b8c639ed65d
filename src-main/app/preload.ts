// The sandboxed preload: the renderer's only way into the core. It exposes a DinoApi-shaped object
// generated from the channel lists (one function per channel), never ipcRenderer itself, and
// refuses any channel not in the lists. Built as one CommonJS file (sandboxed preloads cannot import).
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  EVENT_CHANNELS, INVOKE_CHANNELS, type Envelope, type EventChannel, type InvokeChannel,
} from '../../src-shared/api';
import { photoUrl } from './schemes';

const invokable = new Set<string>(INVOKE_CHANNELS);
const pushed = new Set<string>(EVENT_CHANNELS);

async function invoke(channel: InvokeChannel, args: unknown): Promise<unknown> {
  if (typeof channel !== 'string' || !invokable.has(channel)) throw new Error(`unknown channel ${String(channel)}`);
  const envelope = (await ipcRenderer.invoke(channel, args ?? {})) as Envelope<unknown>;
  // Errors cross the bridge as plain messages: rethrow a real Error in the renderer.
  if ('error' in envelope) throw new Error(envelope.error);
  return envelope.result;
}

/** one function per invoke channel, e.g. api.channels['library:images']({ offset: 0, limit: 100 }) */
const channels = Object.fromEntries(INVOKE_CHANNELS.map((c) => [c, (args: unknown) => invoke(c, args)]));

function on(event: EventChannel, listener: (payload: unknown) => void): () => void {
  if (typeof event !== 'string' || !pushed.has(event)) throw new Error(`unknown event ${String(event)}`);
  if (typeof listener !== 'function') throw new Error('listener must be a function');
  const wrapped = (_e: IpcRendererEvent, payload: unknown): void => listener(payload);
  ipcRenderer.on(event, wrapped);
  return () => {
    ipcRenderer.removeListener(event, wrapped);
  };
}

contextBridge.exposeInMainWorld('api', {
  mode: 'electron',
  invoke,
  on,
  photoUrl,
  channels,
});
