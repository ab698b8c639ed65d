// Test fixtures: a ViT with small random weights in the official layout, as a pretrained file would
// hold it (the official downloads are unreachable from the test machines). Used by the fine-tuning
// tests and by the e2e specs that serve it as the "official" download.
import { vitConfig, vitParamShapes, type VitArch } from '../dino/model/vit';
import type { TensorMap } from '../dino/weights/tensor-map';

export function randomOfficialVit(seed: number, arch: VitArch = 'vit_tiny', patchSize = 16, imgSize = 32): TensorMap {
  let s = seed;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.04;
  const m: TensorMap = new Map();
  for (const [name, shape] of vitParamShapes(vitConfig(arch, patchSize, imgSize))) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name.endsWith('norm1.weight') || name.endsWith('norm2.weight') || name === 'norm.weight') data.fill(1);
    else for (let i = 0; i < n; i++) data[i] = rand();
    m.set(name, { shape, data });
  }
  return m;
}
