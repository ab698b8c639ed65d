import { initBackend } from '../../dino/runtime/node/backend';
import { disposeNet } from '../../dino/model/net';
import { loadNet } from '../../dino/weights/model-loader';
import { loadProbeSet, scoreNet, scorePixels, type LabelFreeScores } from './probe-set';
import { workerMain } from '../threads/worker-side';

export interface QualityWorkerData {
  /** a model file, a `random:` spec (model-loader), or 'pixels' for the raw-pixels baseline */
  model: string;
  /** the sample, in its fixed order (quality/model-quality.ts) */
  items: { id: number; path: string }[];
  views: number;
}

export type QualityWorkerEvent = { type: 'phase'; phase: string };

workerMain<QualityWorkerData, QualityWorkerEvent, LabelFreeScores>(async (side) => {
  const { model, items, views } = side.data;
  if (model === 'pixels') {
    side.post({ type: 'phase', phase: 'label-free quality: decoding the sample' });
    return scorePixels(await loadProbeSet(items, 64, views));
  }
  await initBackend();
  const net = await loadNet(model);
  try {
    side.post({ type: 'phase', phase: 'label-free quality: decoding the sample' });
    const set = await loadProbeSet(items, net.config.vit.imgSize, views);
    await side.checkpoint();
    side.post({ type: 'phase', phase: `label-free quality: embedding ${set.originals.length + set.views.length} views` });
    return await scoreNet(net, set);
  } finally {
    disposeNet(net);
  }
});
