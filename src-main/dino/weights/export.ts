// Exports the app's weights under the official DINO names, so PyTorch code takes them as they are:
//   layout 'backbone'       the official *_pretrain.pth layout: vision_transformer.VisionTransformer
//                           .load_state_dict(sd, strict=True) accepts it
//   layout 'backbone+head'  the same plus head.mlp.* / head.last_layer.* (DINOHead under 'head.')
//   layout 'checkpoint'     (.pth only) {'teacher': {'backbone.*', 'head.*'}} as main_dino.py saves it,
//                           for MultiCropWrapper(vit, DINOHead).load_state_dict(ckpt['teacher'], strict=True)
// The tensors are checked with inspectVit first: a broken map is refused, not written.

import { existsSync } from 'node:fs';
import { writeSafetensors } from './safetensors';
import { inspectVit, type ViTArchInfo } from './inspect';
import { writePth, type PthValue } from './pth-writer';
import type { HostTensor, TensorMap } from './tensor-map';

export type ExportFormat = 'safetensors' | 'pth';
export type ExportLayout = 'backbone' | 'backbone+head' | 'checkpoint';

export interface ExportOptions {
  format: ExportFormat;
  layout?: ExportLayout;
  /** heads of the model, recorded in the safetensors metadata (not inferable from weights) */
  numHeads?: number;
  /** extra safetensors metadata (strings) */
  metadata?: Record<string, string>;
  overwrite?: boolean;
}

export interface ExportResult {
  path: string;
  tensors: number;
  arch: ViTArchInfo;
}

const BLOCK_ORDER = ['norm1.weight', 'norm1.bias', 'attn.qkv.weight', 'attn.qkv.bias', 'attn.proj.weight', 'attn.proj.bias',
  'norm2.weight', 'norm2.bias', 'mlp.fc1.weight', 'mlp.fc1.bias', 'mlp.fc2.weight', 'mlp.fc2.bias'];

/** Sort key reproducing PyTorch's state_dict order for the official modules. */
function orderKey(name: string): string {
  const top = ['cls_token', 'pos_embed', 'patch_embed.proj.weight', 'patch_embed.proj.bias'].indexOf(name);
  if (top >= 0) return `0${top}`;
  const b = /^blocks\.(\d+)\.(.+)$/.exec(name);
  if (b) return `1${b[1]!.padStart(4, '0')}${String(BLOCK_ORDER.indexOf(b[2]!)).padStart(2, '0')}`;
  if (name === 'norm.weight') return '20';
  if (name === 'norm.bias') return '21';
  const h = /^head\.mlp\.(\d+)\.(weight|bias)$/.exec(name);
  if (h) return `3${h[1]!.padStart(3, '0')}${h[2] === 'weight' ? 0 : 1}`;
  if (name === 'head.last_layer.weight_g') return '40';
  if (name === 'head.last_layer.weight_v') return '41';
  return `9${name}`;
}

export function officialOrder(tensors: TensorMap): TensorMap {
  return new Map([...tensors].sort(([a], [b]) => (orderKey(a) < orderKey(b) ? -1 : orderKey(a) > orderKey(b) ? 1 : 0)));
}

export function exportWeights(tensors: TensorMap, path: string, opts: ExportOptions): ExportResult {
  const layout = opts.layout ?? 'backbone';
  if (!opts.overwrite && existsSync(path)) throw new Error(`${path} exists; not overwriting it`);
  const arch = inspectVit(tensors, opts.numHeads ? { numHeads: opts.numHeads } : {});
  const withHead = layout !== 'backbone';
  if (withHead && !arch.head) throw new Error(`layout '${layout}' needs the DINO head, and these weights have none`);
  const picked = officialOrder(new Map([...tensors].filter(([k]) => withHead || !k.startsWith('head.'))));
  if (opts.format === 'safetensors') {
    if (layout === 'checkpoint') throw new Error("layout 'checkpoint' is a nested dict: export it as .pth");
    const metadata: Record<string, string> = {
      format: 'pt',
      producer: 'dino-explorer',
      arch: arch.arch,
      patch_size: String(arch.patchSize),
      embed_dim: String(arch.embedDim),
      depth: String(arch.depth),
      num_heads: String(arch.numHeads),
      img_size: String(arch.imgSize),
      ...opts.metadata,
    };
    writeSafetensors(path, picked, metadata);
  } else if (layout === 'checkpoint') {
    const teacher = new Map<string, PthValue>();
    for (const [k, t] of picked) teacher.set(k.startsWith('head.') ? k : `backbone.${k}`, t);
    writePth(path, new Map<string, PthValue>([['teacher', teacher]]));
  } else {
    writePth(path, picked as Map<string, HostTensor>);
  }
  return { path, tensors: picked.size, arch };
}
