import { parentPort, workerData } from 'node:worker_threads';
import { cropIteration, type CropSpec } from '../../dino/train/crops';
import type { CropReply, CropRequest } from '../crop-thread';

// Makes training crops beside the training thread: one request per iteration, answered in order.
const spec = (workerData as { data: CropSpec }).data;
const port = parentPort;
if (!port) throw new Error('crop-worker must run in a worker thread');
port.on('message', (m: CropRequest) => {
  try {
    const t0 = performance.now();
    const parts = cropIteration(m.images, spec, m.it);
    const buffers = parts.flatMap((p) => (p.locals ? [p.globals.buffer, p.locals.buffer] : [p.globals.buffer]));
    port.postMessage({ id: m.id, parts, ms: performance.now() - t0 } satisfies CropReply, buffers as ArrayBuffer[]);
  } catch (e) {
    port.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) } satisfies CropReply);
  }
});
