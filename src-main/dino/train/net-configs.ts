/** From a training config to the network configs of student and teacher. */
import type { NetConfig } from '../model/net';
import type { DinoConfig } from './presets';
import { vitConfig } from '../model/vit';
import { defaultNumHeads } from '../weights/inspect';

export function netConfigs(c: DinoConfig): { student: NetConfig; teacher: NetConfig } {
  const base = vitConfig(c.arch, c.patchSize, c.imgSize, c.dropPathRate);
  const depth = c.depth ?? base.depth;
  const embedDim = c.embedDim ?? base.embedDim;
  const custom = depth !== base.depth || embedDim !== base.embedDim;
  const numHeads = embedDim === base.embedDim ? base.numHeads : defaultNumHeads(embedDim);
  const vit = { ...base, depth, embedDim, numHeads, arch: custom ? ('custom' as const) : base.arch };
  const head = {
    inDim: vit.embedDim,
    outDim: c.outDim,
    hiddenDim: c.hiddenDim,
    bottleneckDim: c.bottleneckDim,
    nlayers: c.nlayers,
    normLastLayer: c.normLastLayer,
  };
  // the teacher has no stochastic depth (the official teacher is built without drop_path_rate)
  return { student: { vit, head }, teacher: { vit: { ...vit, dropPathRate: 0 }, head } };
}
