/** From a training config to the network configs of student and teacher. */
import type { NetConfig } from './net';
import type { DinoConfig } from './presets';
import { vitConfig } from './vit';

export function netConfigs(c: DinoConfig): { student: NetConfig; teacher: NetConfig } {
  const base = vitConfig(c.arch, c.patchSize, c.imgSize, c.dropPathRate);
  const vit = { ...base, depth: c.depth ?? base.depth, arch: c.depth && c.depth !== base.depth ? ('custom' as const) : base.arch };
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
