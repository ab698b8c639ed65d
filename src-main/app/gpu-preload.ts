// The GPU window's sandboxed preload: hands each job's port from the main process to the page's own
// world (the page has no ipcRenderer and no Node), as Electron documents for a context-isolated page.
// Built as one CommonJS file beside the UI's preload.
import { ipcRenderer } from 'electron';
import { GPU_JOB_MESSAGE } from '../compute/protocol';

const page = globalThis as unknown as { postMessage(message: unknown, targetOrigin: string, transfer: readonly unknown[]): void };

// to this same window ('*' as in Electron's example: a custom scheme's origin is no safe target); the
// page takes a port only from a message its own window posted
ipcRenderer.on(GPU_JOB_MESSAGE, (e) => page.postMessage(GPU_JOB_MESSAGE, '*', e.ports));
